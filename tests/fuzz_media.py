"""A corpus of awkward media files, generated on the fly (nothing stored in the repository).

Imported as ``from fuzz_media import ...`` (``tests/`` is on ``sys.path``, see conftest).
Every writer makes a tiny real file with PyAV or OpenCV; the names say what is odd about it.

- :func:`bad_videos`: files with a video suffix that hold no usable video (empty, truncated,
  text, audio only, a single frame where two are needed);
- :func:`odd_videos`: real videos of unusual shape or format that must decode (2 frames, 8x8,
  1x4000, odd sizes, 4K, grayscale, 10-bit, variable frame rate, a rotation display matrix);
- :func:`bad_images` / :func:`odd_images`: the same for still images.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np


def pattern(frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """uint8 (T, H, W, 3): a bright square drifting right over a dark gradient (moves, so
    every metric has something to measure)."""
    yy, xx = np.mgrid[:height, :width]
    base = (40 + 60 * (xx / max(width - 1, 1)) + 40 * (yy / max(height - 1, 1))).astype(np.uint8)
    video = np.repeat(np.repeat(base[None, ..., None], frames, 0), 3, 3)
    side = max(1, min(height, width) // 3)
    for t in range(frames):
        x = (seed * 5 + t * max(1, width // 16)) % max(1, width - side + 1)
        video[t, :side, x : x + side] = (230, 200 - 20 * (seed % 3), 60)
    return video


def encode(
    path: Path,
    frames: np.ndarray,
    *,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    fps: int = 8,
    pts: list[int] | None = None,
    rotation: int = 0,
    options: dict[str, str] | None = None,
) -> Path:
    """Encode uint8 RGB ``frames`` (T, H, W, 3) (or gray (T, H, W)) to ``path``.

    ``pts`` gives each frame's timestamp in units of 1 / (fps * 10) s (variable frame rate);
    ``rotation`` stores a display matrix rotating the picture ``rotation`` degrees
    counterclockwise (what a phone writes for a portrait clip).
    """
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps, options=options or {})
        stream.height, stream.width = frames.shape[1], frames.shape[2]
        stream.pix_fmt = pix_fmt
        if pts is not None:
            stream.codec_context.time_base = Fraction(1, fps * 10)
        if rotation:
            stream.set_display_rotation(rotation)
        source = "gray" if frames.ndim == 3 else "rgb24"
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format=source)
            if pts is not None:
                frame.pts, frame.time_base = pts[i], Fraction(1, fps * 10)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def audio_only(path: Path) -> Path:
    """An ``.mp4`` holding one second of a 440 Hz tone and no video stream."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        samples = (0.2 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
        for start in range(0, len(samples), 1024):
            chunk = samples[None, start : start + 1024]
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def bad_videos(folder: Path) -> dict[str, Path]:
    """Files with video suffixes that no command can use; ``{case: path}``."""
    folder.mkdir(parents=True, exist_ok=True)
    good = encode(folder / "whole.tmp.mp4", pattern(8, 32, 32))
    data = good.read_bytes()
    good.unlink()
    cases = {
        "empty": (folder / "empty.mp4", b""),
        "truncated": (folder / "truncated.mp4", data[: len(data) // 3]),
        "text": (folder / "text.mkv", b"this is not a video\n" * 40),
        "random_bytes": (folder / "noise.webm", np.random.default_rng(0).bytes(4096)),
    }
    files = {}
    for case, (path, content) in cases.items():
        path.write_bytes(content)
        files[case] = path
    files["audio_only"] = audio_only(folder / "audio_only.mp4")
    return files


# case -> writer(folder) of a real video that must decode
ODD_VIDEOS: dict[str, Callable[[Path], Path]] = {
    "one_frame": lambda d: encode(d / "one_frame.mp4", pattern(1, 32, 32)),
    "two_frames": lambda d: encode(d / "two_frames.mp4", pattern(2, 32, 32)),
    "tiny_8x8": lambda d: encode(d / "tiny_8x8.mp4", pattern(4, 8, 8)),
    "line_1x4000": lambda d: encode(
        d / "line_1x4000.mkv", pattern(3, 1, 4000), codec="ffv1", pix_fmt="yuv444p"
    ),
    "odd_33x17": lambda d: encode(
        d / "odd_33x17.mkv", pattern(4, 17, 33), codec="ffv1", pix_fmt="yuv444p"
    ),
    "uhd_4k": lambda d: encode(
        d / "uhd_4k.mp4", pattern(3, 2160, 3840), options={"preset": "ultrafast"}
    ),
    "gray": lambda d: encode(
        d / "gray.mkv", pattern(4, 32, 32)[..., 0], codec="ffv1", pix_fmt="gray"
    ),
    "ten_bit": lambda d: encode(
        d / "ten_bit.mkv", pattern(4, 32, 32), codec="ffv1", pix_fmt="yuv420p10le"
    ),
    "variable_rate": lambda d: encode(
        d / "variable_rate.mp4", pattern(6, 32, 32), pts=[0, 10, 13, 40, 45, 90]
    ),
    "rotated_90": lambda d: encode(d / "rotated_90.mp4", pattern(4, 16, 32), rotation=90),
}


def odd_videos(folder: Path, cases: list[str] | None = None) -> dict[str, Path]:
    """The real-but-unusual videos of :data:`ODD_VIDEOS` (or only ``cases``); ``{case: path}``."""
    folder.mkdir(parents=True, exist_ok=True)
    return {case: ODD_VIDEOS[case](folder) for case in cases or ODD_VIDEOS}


def write_image(path: Path, image: np.ndarray) -> Path:
    """Write an RGB (H, W, 3) or gray (H, W) image with OpenCV (8 or 16 bits), creating its
    folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    assert cv2.imwrite(str(path), image), path
    return path


def bad_images(folder: Path) -> dict[str, Path]:
    """Files with image suffixes that hold no image; ``{case: path}``."""
    folder.mkdir(parents=True, exist_ok=True)
    png = cv2.imencode(".png", pattern(1, 16, 16)[0])[1].tobytes()
    cases = {
        "empty": (folder / "empty.png", b""),
        "truncated": (folder / "truncated.png", png[: len(png) // 2]),
        "text": (folder / "text.jpg", b"not an image\n" * 20),
    }
    for path, content in cases.values():
        path.write_bytes(content)
    return {case: path for case, (path, _) in cases.items()}


def odd_images(folder: Path) -> dict[str, Path]:
    """Real images of unusual shape or depth that must be read; ``{case: path}``."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = pattern(1, 48, 64)[0]
    return {
        "gray": write_image(folder / "gray.png", frame[..., 0]),
        "sixteen_bit": write_image(folder / "sixteen_bit.png", frame.astype(np.uint16) * 257),
        "line_1x4000": write_image(folder / "line_1x4000.png", pattern(1, 1, 4000)[0]),
        "odd_33x17": write_image(folder / "odd_33x17.jpg", pattern(1, 17, 33)[0]),
        "uhd_4k": write_image(folder / "uhd_4k.jpg", pattern(1, 2160, 3840)[0]),
    }
