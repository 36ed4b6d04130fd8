"""Writing ``uint8 (T, H, W, 3)`` RGB clips: H.264 MP4, GIF, PNG strips and frame folders.

- **MP4** (:func:`write_mp4`): libx264, ``yuv420p`` (plays everywhere), constant quality
  ``crf``. 4:2:0 chroma needs even sizes, so an odd height or width is padded by one row or
  column that repeats the edge pixels (no black line); the reader returns the padded size.
- **GIF** (:func:`write_gif`): FFmpeg's GIF encoder fed with one adaptive 256-colour palette
  per frame (Pillow's median cut, no dithering: dithering noise would read as flicker).
  Every frame is kept, including repeats, and frame delays are in 1/100 s, so 8 fps becomes
  alternating 0.13 / 0.12 s delays (1/8 s on average).
- **PNG strip** (:func:`write_strip`): frames side by side in one image, for reports.
- **Frame folder** (:func:`write_frames`): one PNG per frame, ``00000.png, 00001.png, ...``.

Files are written to a temporary name next to the target and renamed when complete, so an
interrupted write never leaves a half-written file under the requested name.
"""

from __future__ import annotations

import itertools
import math
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from spacetime.contracts.frames import check_frames
from spacetime.errors import SpacetimeError, VideoError
from spacetime.video.frames import resize_frame

STRIP_BORDER = (255, 255, 255)  # gap colour between strip tiles (RGB)
STRIP_MARK = (255, 0, 0)  # border colour of marked frames (RGB)


def write_video(path: str | Path, frames: np.ndarray, fps: float = 8.0) -> Path:
    """Write ``frames`` (uint8 ``(T, H, W, 3)`` RGB) to ``path``, choosing by suffix.

    ``.mp4``/``.m4v``/``.mov``/``.mkv`` -> :func:`write_mp4`; ``.gif`` -> :func:`write_gif`;
    ``.png`` -> :func:`write_strip` (a still image: ``fps`` does not apply). Returns ``path``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".mp4", ".m4v", ".mov", ".mkv"):
        return write_mp4(path, frames, fps)
    if suffix == ".gif":
        return write_gif(path, frames, fps)
    if suffix == ".png":
        return write_strip(path, frames)
    raise SpacetimeError(
        f"{path}: cannot write a video with suffix {suffix!r}; expected .mp4, .m4v, .mov, "
        ".mkv (H.264), .gif or .png (a strip of frames)"
    )


def write_mp4(path: str | Path, frames: np.ndarray, fps: float, *, crf: int = 18) -> Path:
    """Encode ``frames`` as H.264 ``yuv420p`` (libx264, preset ``medium``).

    Args:
        path: output file; its suffix picks the container (``.mp4``, ``.mov``, ``.mkv``).
        frames: uint8 ``(T, H, W, 3)`` RGB, ``T >= 1``. Odd ``H``/``W`` are padded to even by
            replicating the last row/column.
        fps: frames per second (> 0); stored as an exact fraction (29.97 -> 2997/100).
        crf: constant rate factor in ``[0, 51]``: 0 is lossless luma, 18 visually lossless,
            23 x264's default; +6 roughly halves the file size.

    Returns:
        ``path`` as a :class:`Path`.
    """
    frames = check_frames(frames)
    rate = _rate(fps)
    if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= 51:
        raise SpacetimeError(f"crf must be an integer in [0, 51], got {crf!r}")
    _, height, width, _ = frames.shape
    pad = ((0, 0), (0, height % 2), (0, width % 2), (0, 0))
    if height % 2 or width % 2:
        frames = np.pad(frames, pad, mode="edge")

    def encode(tmp: Path) -> None:
        with av.open(str(tmp), mode="w") as container:
            stream = container.add_stream("libx264", rate=rate)
            stream.width, stream.height = frames.shape[2], frames.shape[1]
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(crf), "preset": "medium"}
            for frame in frames:
                image = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                container.mux(stream.encode(image))
            container.mux(stream.encode())  # flush the encoder's delayed frames

    return _atomic_write(Path(path), encode)


def write_gif(path: str | Path, frames: np.ndarray, fps: float) -> Path:
    """Encode ``frames`` (uint8 ``(T, H, W, 3)`` RGB) as a looping GIF at ``fps``.

    Each frame gets its own 256-colour palette (median cut, no dithering); every frame is
    stored, repeats included, so the file decodes back to ``T`` frames. GIF delays have a
    resolution of 1/100 s; rates above 50 fps are not honoured by most viewers.
    """
    frames = check_frames(frames)
    rate = _rate(fps)

    def encode(tmp: Path) -> None:
        with av.open(str(tmp), mode="w", format="gif") as container:
            stream = container.add_stream("gif", rate=rate)
            stream.width, stream.height = frames.shape[2], frames.shape[1]
            stream.pix_fmt = "pal8"
            for index, frame in enumerate(frames):
                image = av.VideoFrame.from_ndarray(_palettize(frame), format="pal8")
                image.pts = index
                container.mux(stream.encode(image))
            container.mux(stream.encode())

    return _atomic_write(Path(path), encode)


def _palettize(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(indices (H, W) uint8, palette (256, 4) uint8 ARGB)`` of an RGB frame."""
    quantized = Image.fromarray(frame).quantize(
        colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    colours = np.asarray(quantized.getpalette() or [], dtype=np.uint8).reshape(-1, 3)[:256]
    palette = np.zeros((256, 4), dtype=np.uint8)
    palette[:, 0] = 255  # opaque
    palette[: len(colours), 1:] = colours
    return np.asarray(quantized, dtype=np.uint8), palette


def write_strip(
    path: str | Path,
    frames: np.ndarray,
    *,
    max_frames: int = 16,
    marks: Sequence[int] = (),
    height: int | None = None,
) -> Path:
    """Save frames side by side as one PNG (a "film strip"), e.g. for an HTML report.

    Args:
        path: output ``.png`` file.
        frames: uint8 ``(T, H, W, 3)`` RGB.
        max_frames: when ``T`` exceeds it, show ``max_frames`` frames: every marked frame
            plus frames evenly spaced over the clip, in time order (:func:`strip_indices`).
        marks: frame indices in ``[0, T)`` drawn with a red border (e.g. the worst frames).
        height: resize tiles to this height in pixels (aspect kept); ``None`` keeps ``H``.

    Each tile is surrounded by a border ``max(2, H // 32)`` px wide: white, or red when marked.
    """
    frames = check_frames(frames)
    count = frames.shape[0]
    if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1:
        raise SpacetimeError(f"max_frames must be an integer >= 1, got {max_frames!r}")
    marked = {int(m) for m in marks}
    bad = sorted(m for m in marked if not 0 <= m < count)
    if bad:
        raise SpacetimeError(f"marks {bad} are outside the clip's frame indices [0, {count})")
    if height is not None and (not isinstance(height, int) or height < 1):
        raise SpacetimeError(f"height must be a positive integer or None, got {height!r}")
    shown = strip_indices(count, max_frames, sorted(marked))
    tiles = []
    for index in shown:
        tile = frames[index]
        if height is not None:
            width = max(1, round(tile.shape[1] * height / tile.shape[0]))
            tile = resize_frame(tile, (height, width))
        border = max(2, tile.shape[0] // 32)
        colour = STRIP_MARK if index in marked else STRIP_BORDER
        padded = np.empty((tile.shape[0] + 2 * border, tile.shape[1] + 2 * border, 3), np.uint8)
        padded[:] = colour
        padded[border:-border, border:-border] = tile
        tiles.append(padded)
    strip = np.concatenate(tiles, axis=1)  # (H + 2b, n * (W + 2b), 3)

    def encode(tmp: Path) -> None:
        Image.fromarray(strip).save(tmp, format="PNG")

    return _atomic_write(Path(path), encode)


def strip_indices(count: int, max_frames: int, marks: Sequence[int] = ()) -> list[int]:
    """Frame indices a strip shows, sorted.

    All of ``range(count)`` when it fits in ``max_frames``; else the marks (the first
    ``max_frames`` of them) plus the remaining slots spread evenly over the clip (first and
    last frame included when two or more slots remain).
    """
    if count <= max_frames:
        return list(range(count))
    chosen = set(list(dict.fromkeys(marks))[:max_frames])
    free = max_frames - len(chosen)
    if free:
        chosen.update(int(i) for i in np.linspace(0, count - 1, free).round())
    # Spread picks can land on marks; fill what is left with the widest gaps' middles.
    while len(chosen) < max_frames:
        ordered = sorted(chosen | {-1, count})
        gap_start, gap_end = max(itertools.pairwise(ordered), key=lambda g: g[1] - g[0])
        chosen.add((gap_start + gap_end) // 2)  # the widest gap is >= 2 wide: a new index
    return sorted(chosen)


def write_frames(directory: str | Path, frames: np.ndarray) -> Path:
    """Write each frame as ``directory/00000.png, 00001.png, ...`` (a frame folder).

    The folder is created if needed; returns it. :func:`~spacetime.video.read_video` reads it
    back exactly (PNG is lossless).
    """
    frames = check_frames(frames)
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise VideoError("exists and is not a directory; cannot write frames into it", directory)
    directory.mkdir(parents=True, exist_ok=True)
    digits = max(5, len(str(frames.shape[0] - 1)))
    for index, frame in enumerate(frames):
        target = directory / f"{index:0{digits}d}.png"
        _atomic_write(target, lambda tmp, f=frame: Image.fromarray(f).save(tmp, format="PNG"))
    return directory


def _rate(fps: float) -> Fraction:
    """``fps`` as an exact-enough fraction for a stream's frame rate (denominator <= 1001)."""
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.floating, np.integer)):
        raise SpacetimeError(f"fps must be a positive number, got {fps!r}")
    if not (math.isfinite(fps) and fps > 0):
        raise SpacetimeError(f"fps must be a positive number, got {fps!r}")
    return Fraction(float(fps)).limit_denominator(1001)


@contextmanager
def _temporary(path: Path) -> Iterator[Path]:
    """A hidden temporary path next to ``path`` with the same suffix (FFmpeg picks the muxer
    by suffix); removed if the block fails."""
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield tmp
    finally:
        if tmp.exists():
            tmp.unlink()


def _atomic_write(path: Path, encode: Callable[[Path], None]) -> Path:
    """Run ``encode(tmp)`` then rename ``tmp`` to ``path``; errors become VideoError."""
    if path.is_dir():
        raise VideoError("is a directory; expected a file name to write", path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _temporary(path) as tmp:
            encode(tmp)
            os.replace(tmp, path)
    except (av.error.FFmpegError, OSError) as err:
        raise VideoError(f"cannot write ({getattr(err, 'strerror', None) or err})", path) from err
    return path
