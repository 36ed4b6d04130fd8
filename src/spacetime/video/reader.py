"""Decoding video files and frame folders into :class:`~spacetime.video.frames.Video`.

Containers (``.mp4 .m4v .mov .mkv .webm .avi .gif``) are decoded with PyAV (FFmpeg) using
frame- and slice-threading; frame folders (``.png .jpg .jpeg .bmp .webp`` files, sorted
naturally so ``2.png`` comes before ``10.png``) are decoded with OpenCV on a small thread pool.

What is accepted and how it is converted:

- every pixel format is converted to 8-bit RGB by FFmpeg's swscale, using the colour matrix
  the stream declares (BT.601 when it declares none);
- grayscale frames are replicated to three channels and an alpha channel is dropped (not
  composited), both for containers and frame folders;
- a rotation display matrix (what phones store for portrait clips) is applied, so frames come
  out upright, as players show them (and as :func:`read_image` applies EXIF orientation);
- the frame count is what the decoder actually produces: container headers disagree with it
  for some variable-frame-rate files, so the header is never trusted;
- memory is bounded: frames are converted (and resized, with ``size``) one at a time as they
  are decoded, and a clip that would hold more than ``max_bytes`` of frames (4K video without
  ``size``) is refused, naming the options that make it fit, instead of exhausting memory;
- timestamps come from the decoded frames (``frame.time``); the clip's fps is the stream's
  average rate, except for GIFs (whose per-frame delays are stored in 1/100 s) where it is
  measured from the decoded timestamps.

Anything unusable raises :class:`~spacetime.errors.VideoError` naming the file and the
problem: a missing path, a folder without frames, a file FFmpeg cannot parse, a truncated or
corrupt stream, a stream without frames, frames of different sizes in a folder.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import av
import cv2
import numpy as np

from spacetime.errors import SpacetimeError, VideoError
from spacetime.video.frames import Video, natural_key, parse_size, resize_frame
from spacetime.video.sampling import check_sampling, output_fps, select_frames

P = TypeVar("P")

VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".gif")
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
FOLDER_FPS = 8.0  # frame rate of a frame folder when the caller does not give one
MAX_BYTES = 4 * 2**30
"""Default most bytes of decoded frames :func:`read_video` holds (4 GiB: 170 frames of 4K)."""


def read_video(
    path: str | Path,
    *,
    fps: float | None = None,
    stride: int = 1,
    max_frames: int | None = None,
    size: int | tuple[int, int] | None = None,
    start: float = 0.0,
    max_bytes: int | None = MAX_BYTES,
) -> Video:
    """Decode a video file or a folder of frames into a ``uint8 (T, H, W, 3)`` RGB clip.

    Args:
        path: a video file or a directory of image frames.
        fps: for a file, resample to this rate (frames/second) by nearest timestamp, dropping
            or repeating frames so the duration is kept; for a frame folder, the folder's own
            frame rate (default :data:`FOLDER_FPS` = 8). ``None`` keeps every decoded frame.
        stride: keep every ``stride``-th frame (after resampling); the clip's fps is divided
            by ``stride``.
        max_frames: return at most this many frames; decoding stops there, so reading the
            start of a long file is cheap.
        size: resize every frame: an int ``s`` gives ``s x s`` (aspect ratio not kept), a pair
            gives ``(height, width)``. Area averaging when shrinking, bilinear when enlarging.
        start: skip the frames before this time, in seconds from the start of the stream
            (seeks to the keyframe before it, then decodes forward).
        max_bytes: refuse a clip whose frames (after ``size``) would take more memory than
            this (``None``: no limit); decoding stops as soon as the limit is passed.

    Returns:
        :class:`Video` with ``frames`` (T >= 1), ``fps`` and ``path``.

    Raises:
        VideoError: the file or folder is missing, unreadable, corrupt or has no frames
            (after ``start``), or its frames would exceed ``max_bytes``.
        SpacetimeError: an option is out of range.
    """
    path = Path(path)
    check_sampling(fps=fps, stride=stride, max_frames=max_frames, start=start)
    if max_bytes is not None and not (isinstance(max_bytes, int) and max_bytes > 0):
        raise SpacetimeError(f"max_bytes must be a positive integer or None, got {max_bytes!r}")
    options = _Options(fps, stride, max_frames, parse_size(size), start, max_bytes)
    if not path.exists():
        raise VideoError("no such file or directory", path)
    if path.is_dir():
        return _read_folder(path, options)
    return _read_container(path, options)


@dataclass(frozen=True)
class _Options:
    """The validated selection options of :func:`read_video` (``size`` as ``(H, W)``)."""

    fps: float | None
    stride: int
    max_frames: int | None
    size: tuple[int, int] | None
    start: float
    max_bytes: int | None

    def check_memory(self, count: int, frame: np.ndarray, path: Path) -> None:
        """Raise when ``count`` frames like ``frame`` pass :attr:`max_bytes`."""
        if self.max_bytes is not None and count * frame.nbytes > self.max_bytes:
            height, width = frame.shape[:2]
            raise VideoError(
                f"too large to hold: {count} frames of {width}x{height} pass "
                f"{self.max_bytes / 2**30:.3g} GiB; read it smaller (size=, CLI --size) or "
                "shorter (max_frames=, CLI --max-frames)",
                path,
            )

    def select(self, items: Iterable[tuple[float, P]], **kwargs: Any) -> Iterator[P]:
        """:func:`select_frames` of ``items`` with these options (``kwargs``: its others)."""
        return select_frames(
            items, stride=self.stride, max_frames=self.max_frames, start=self.start, **kwargs
        )


def list_videos(path_or_dir: str | Path, *, recursive: bool = False) -> list[Path]:
    """The videos at ``path_or_dir``, in natural order.

    - a video file (suffix in :data:`VIDEO_SUFFIXES`) gives ``[path]``;
    - a directory that holds image frames and no video file is itself one video: ``[path]``;
    - otherwise the directory's video files and frame sub-folders (hidden entries skipped);
      with ``recursive=True``, sub-folders that are not frame folders are searched too.

    A directory without videos gives ``[]``. Raises :class:`VideoError` for a missing path
    or a file that is not a video.
    """
    path = Path(path_or_dir)
    if not path.exists():
        raise VideoError("no such file or directory", path)
    if path.is_file():
        if path.suffix.lower() in VIDEO_SUFFIXES:
            return [path]
        raise VideoError(
            f"not a video file: expected one of {' '.join(VIDEO_SUFFIXES)} or a folder of "
            f"{'/'.join(IMAGE_SUFFIXES)} frames",
            path,
        )
    children = sorted((c for c in path.iterdir() if not c.name.startswith(".")), key=natural_key)
    videos = [c for c in children if c.is_file() and c.suffix.lower() in VIDEO_SUFFIXES]
    if not videos and _frame_files(path):
        return [path]
    found: list[Path] = []
    for child in children:
        if child in videos:
            found.append(child)
        elif child.is_dir():
            if _frame_files(child):
                found.append(child)
            elif recursive:
                found.extend(list_videos(child, recursive=True))
    return found


def _frame_files(directory: Path) -> list[Path]:
    """Image files directly inside ``directory``, naturally sorted."""
    files = [
        p
        for p in directory.iterdir()
        if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()
    ]
    return sorted(files, key=natural_key)


# ----------------------------------------------------------------------------- frame folders


def read_image(path: str | Path) -> np.ndarray:
    """One image file as ``uint8 (H, W, 3)`` RGB, upright.

    The one image decoder of the library (frame folders and image datasets): OpenCV, which
    applies the EXIF ``Orientation`` tag (a phone JPEG stored sideways comes out as it was
    shot), replicates grayscale to three channels, drops alpha (not composited) and scales
    16-bit images to 8 bits.

    Raises:
        VideoError: the file is missing, corrupt, or not the format its suffix says.
    """
    # IMREAD_COLOR: always 3-channel 8-bit BGR, whatever the file's channels and bit depth;
    # without IMREAD_IGNORE_ORIENTATION the EXIF orientation is applied.
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise VideoError(
            "not a readable image (missing, corrupt, or not the format its suffix says)", path
        )
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _read_folder(path: Path, options: _Options) -> Video:
    files = _frame_files(path)
    if not files:
        raise VideoError(f"no frames: the folder has no {'/'.join(IMAGE_SUFFIXES)} files", path)
    rate = FOLDER_FPS if options.fps is None else float(options.fps)
    timed = ((index / rate, file) for index, file in enumerate(files))
    chosen = list(options.select(timed))
    if not chosen:
        raise VideoError(
            f"start={options.start} s is past the last frame ({len(files)} frames at {rate:g} fps)",
            path,
        )
    # cv2.imread releases the GIL, so a few threads decode PNG/JPEG frames in parallel.
    workers = max(1, min(4, os.cpu_count() or 1, len(chosen)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        images = list(pool.map(read_image, chosen))
    first = images[0].shape
    for file, image in zip(chosen, images, strict=True):
        if image.shape != first:
            raise VideoError(
                f"frames differ in size: {file.name} is {image.shape[1]}x{image.shape[0]} but "
                f"{chosen[0].name} is {first[1]}x{first[0]} (width x height); all frames of a "
                "folder must have one size",
                path,
            )
    if options.size is not None:
        images = [resize_frame(image, options.size) for image in images]
    options.check_memory(len(images), images[0], path)
    return Video(np.stack(images), output_fps(rate, fps=None, stride=options.stride), path)


# -------------------------------------------------------------------------------- containers


def _reason(err: BaseException) -> str:
    """FFmpeg's message without the errno and file name PyAV adds."""
    return str(getattr(err, "strerror", None) or err)


def _decode(container: av.container.InputContainer, stream, path: Path) -> Iterator:
    """Decoded frames of ``stream``; a decoder or demuxer failure becomes a VideoError."""
    count = 0
    try:
        for frame in container.decode(stream):
            count += 1
            yield frame
    except av.error.FFmpegError as err:
        raise VideoError(
            f"corrupt or truncated video: decoding failed after {count} frames ({_reason(err)})",
            path,
        ) from err


def _read_container(path: Path, options: _Options) -> Video:
    start = options.start
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as err:
        raise VideoError(f"not a readable video ({_reason(err)})", path) from err
    except OSError as err:
        raise VideoError(f"cannot open ({err.strerror or err})", path) from err
    with container:
        if not container.streams.video:
            raise VideoError("contains no video stream (empty, or audio only)", path)
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame + slice threads: several times faster on H.264
        time_base = stream.time_base
        origin = (
            float(stream.start_time * time_base)
            if stream.start_time is not None and time_base
            else 0.0
        )
        is_gif = stream.codec_context.name == "gif"
        header_rate = 0.0 if is_gif else float(stream.average_rate or stream.guessed_rate or 0)
        if start > 0 and time_base:
            # Unseekable streams (some GIFs) decode from the start; early frames are skipped.
            with contextlib.suppress(av.error.FFmpegError):
                container.seek(int((origin + start) / time_base), stream=stream, backward=True)
        times: list[float] = []

        def timed() -> Iterator[tuple[float, av.VideoFrame]]:
            for frame in _decode(container, stream, path):
                if frame.time is not None:
                    t = float(frame.time) - origin
                else:  # no timestamp: one nominal frame after the previous one
                    t = times[-1] + 1.0 / (header_rate or FOLDER_FPS) if times else 0.0
                t = max(t, times[-1]) if times else t  # keep time monotonic
                times.append(t)
                yield t, frame

        selected = options.select(
            timed(),
            fps=options.fps,
            frame_duration=1.0 / header_rate if header_rate > 0 else None,
        )
        images: list[np.ndarray] = []
        last_frame, last_image = None, None
        for frame in selected:
            if frame is not last_frame:  # resampling can repeat a frame: convert it once
                last_frame, last_image = frame, _to_rgb(frame, options.size)
                if images and last_image.shape != images[0].shape:
                    raise VideoError(
                        f"frame size changes mid-stream ({images[0].shape[1]}x"
                        f"{images[0].shape[0]} -> {last_image.shape[1]}x{last_image.shape[0]}); "
                        "pass size= to resize every frame to one size",
                        path,
                    )
            images.append(last_image)
            options.check_memory(len(images), last_image, path)
    if not images:
        if not times:
            raise VideoError("no frames could be decoded (empty or corrupt video stream)", path)
        raise VideoError(f"start={start} s is past the last frame (at {times[-1]:.3f} s)", path)
    source_rate = header_rate or _measured_rate(times, resolution=0.01 if is_gif else 0.0)
    rate = output_fps(source_rate, fps=options.fps, stride=options.stride)
    return Video(np.stack(images), rate, path)


def _to_rgb(frame: av.VideoFrame, size: tuple[int, int] | None) -> np.ndarray:
    """``uint8 (H, W, 3)`` RGB of a decoded frame, upright, resized to ``size`` if given."""
    image = frame.to_ndarray(format="rgb24", src_color_range=frame.color_range)
    # The display matrix turns the picture `rotation` degrees counterclockwise (PyAV >= 14;
    # older PyAV has no such attribute and leaves the picture as stored).
    turns = round(getattr(frame, "rotation", 0) / 90) % 4
    if turns:
        image = np.ascontiguousarray(np.rot90(image, k=turns))  # k > 0: counterclockwise
    return image if size is None else resize_frame(image, size)


def _measured_rate(times: list[float], resolution: float) -> float:
    """Frames per second from decoded timestamps; 8 fps when they cannot tell.

    ``resolution`` is the timestamp precision in seconds. GIF delays are whole 1/100 s, so
    8 fps is stored as delays 0.13, 0.12, 0.13, ... and the measured rate is off by up to
    ``resolution / span`` relative. When a whole number of fps is consistent with the
    timestamps at that resolution it is returned instead (10 frames over 1.13 s -> 8.0).
    """
    if len(times) < 2 or not times[-1] > times[0]:
        return FOLDER_FPS
    span = times[-1] - times[0]
    rate = (len(times) - 1) / span
    low = (len(times) - 1) / (span + resolution)
    high = (len(times) - 1) / max(span - resolution, 1e-9)
    nearest = round(rate)
    return float(nearest) if nearest >= 1 and low <= nearest <= high else rate
