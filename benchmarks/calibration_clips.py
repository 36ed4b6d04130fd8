"""Calibration footage: the real clips split in two halves, and clips derived from each.

**The split** is fixed by a rule written before any measurement: the clips of the folder in
sorted file-name order, alternately to the *tuning* half (1st, 3rd, 5th, ...) and to the
*reporting* half (2nd, 4th, ...). Thresholds may be tuned only on the tuning half; the
reporting half is only ever measured. Every clip derived from a source clip stays in its half.

**Derived clips** add the classes of footage the folder lacks, made from the clip itself:

- ``orig``: the first ``frames`` frames;
- ``fast``: every 3rd frame (a 3x speed-up): fast natural motion, motion blur, large flow;
- ``shake``: a synthetic handheld camera (random walk + jitter + roll): camera shake;
- ``static``: frame 0 held still and a live window of the clip walking across, in from
  outside the frame: a static camera, a subject that moves and enters the frame;
- ``pan``: a crop window (60 %) panning across the clip: content entering at the edge;
- ``crop``: a fixed 2x crop of the centre: a close framing, subjects large and fast.

Random choices (shake path, direction of entry) come from a seed, never from the content.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from spacetime.video import read_video, resize_frames

SPEEDUP = 3
"""The ``fast`` variant keeps every SPEEDUP-th frame."""

MIN_FRAMES = 12
"""A derived clip shorter than this (a short source clip) is left out."""


def split_halves(paths: Sequence[Path]) -> dict[str, list[Path]]:
    """``{"tuning": [...], "reporting": [...]}``: sorted by file name, alternately."""
    ordered = sorted(paths, key=lambda p: p.name)
    return {"tuning": ordered[0::2], "reporting": ordered[1::2]}


def clip_seed(name: str) -> int:
    """A stable seed from a clip name (CRC-32), so each clip gets its own random choices."""
    return zlib.crc32(name.encode())


def fit_long_side(frames: np.ndarray, size: int) -> np.ndarray:
    """Resize ``(T, H, W, 3)`` so the longer side is ``size`` (aspect kept, sides even)."""
    height, width = frames.shape[1:3]
    scale = size / max(height, width)
    shape = (2 * max(8, round(height * scale / 2)), 2 * max(8, round(width * scale / 2)))
    return resize_frames(frames, shape)


def shake(frames: np.ndarray, seed: int) -> np.ndarray:
    """A handheld camera over ``frames`` (the source at a larger size): per frame a similarity
    transform with a slow random-walk translation (std ~1.5 % of the diagonal), a fast jitter
    (std ~0.6 %, changing every frame) and a roll of up to ~1 degree, zoomed by 1.12 so the
    frame stays covered."""
    rng = np.random.default_rng(seed)
    length, height, width = frames.shape[:3]
    diagonal = float(np.hypot(height, width))
    walk = np.cumsum(rng.standard_normal((length, 2)), axis=0)
    walk = (walk - walk.mean(axis=0)) / max(float(walk.std()), 1e-6) * 0.015 * diagonal
    jitter = rng.standard_normal((length, 2)) * 0.006 * diagonal
    roll = np.cumsum(rng.standard_normal(length)) * 0.25
    roll = np.clip(roll - roll.mean(), -1.0, 1.0)
    out = np.empty_like(frames)
    for t in range(length):
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), float(roll[t]), 1.12)
        matrix[:, 2] += walk[t] + jitter[t]
        out[t] = cv2.warpAffine(
            frames[t],
            matrix,
            (width, height),
            flags=cv2.INTER_CUBIC,
            borderMode=cv2.BORDER_REFLECT,
        )
    return out


def static_walker(frames: np.ndarray, seed: int) -> np.ndarray:
    """A static camera: frame 0 held for the whole clip, and over it a live window of the
    clip (its centre, a feathered ellipse of a third of the frame) that walks across at
    constant speed, entering from outside the left or right edge after ~1/6 of the clip."""
    rng = np.random.default_rng(seed)
    length, height, width = frames.shape[:3]
    wh, ww = height // 3, width // 3
    y0, x0 = (height - wh) // 2, (width - ww) // 2
    ys, xs = np.mgrid[0:wh, 0:ww].astype(np.float32)
    r = np.hypot((xs - ww / 2) / (ww / 2), (ys - wh / 2) / (wh / 2))
    alpha = np.clip((1.0 - r) / 0.25, 0.0, 1.0)[..., None]
    direction = 1 if rng.integers(2) else -1
    start = -ww - length / 6 * (width / length)  # off screen for the first ~1/6 of the clip
    speed = (width / 2 + ww / 2 - start) / max(1, length - 1)
    top = int(rng.integers(height // 8, height - wh - height // 8 + 1))
    out = np.repeat(frames[:1], length, axis=0)
    for t in range(length):
        left = start + speed * t
        if direction < 0:
            left = width - ww - left
        shift = np.float32([[1, 0, left], [0, 1, top]])
        window = frames[t, y0 : y0 + wh, x0 : x0 + ww].astype(np.float32)
        layer = cv2.warpAffine(window, shift, (width, height), flags=cv2.INTER_LINEAR)
        weight = cv2.warpAffine(alpha[..., 0], shift, (width, height), flags=cv2.INTER_LINEAR)
        weight = weight[..., None]
        out[t] = np.clip(layer * weight + out[t] * (1 - weight) + 0.5, 0, 255).astype(np.uint8)
    return out


def pan(frames: np.ndarray, seed: int) -> np.ndarray:
    """A crop window of 60 % of the frame panning from one side to the other at constant speed
    (left-to-right or back, chosen by ``seed``), with a slight vertical drift."""
    rng = np.random.default_rng(seed)
    length, height, width = frames.shape[:3]
    ch, cw = int(0.6 * height), int(0.6 * width)
    xs = np.linspace(0, width - cw, length)
    if rng.integers(2):
        xs = xs[::-1]
    ys = np.linspace(0.3, 0.7, length) * (height - ch)
    out = np.empty((length, ch, cw, 3), np.uint8)
    for t in range(length):
        shift = np.float32([[1, 0, -xs[t]], [0, 1, -ys[t]]])
        out[t] = cv2.warpAffine(frames[t], shift, (cw, ch), flags=cv2.INTER_LINEAR)
    return out


def centre_crop(frames: np.ndarray, seed: int) -> np.ndarray:
    """The centre half of each side (a fixed 2x crop). (``seed`` is unused.)"""
    height, width = frames.shape[1:3]
    return frames[:, height // 4 : height // 4 + height // 2, width // 4 : width // 4 + width // 2]


VARIANTS: dict[str, Callable[[np.ndarray, int], np.ndarray] | None] = {
    "orig": None,
    "fast": None,
    "shake": shake,
    "static": static_walker,
    "pan": pan,
    "crop": centre_crop,
}
"""Derived-clip makers by name (``orig`` and ``fast`` only select frames)."""


def derived_clips(
    path: Path, frames: int, size: int, variants: Sequence[str] = tuple(VARIANTS)
) -> dict[str, np.ndarray]:
    """``{variant: (T, h, w, 3) uint8}`` of the clip at ``path``: ``frames`` frames each
    (fewer for a short source), the longer side ``size`` px. Variants that crop or warp are
    made from the source at twice ``size`` and then resized, so they keep detail."""
    source = read_video(path, max_frames=SPEEDUP * frames).frames
    large = fit_long_side(source[:frames], 2 * size)
    seed = clip_seed(path.name)
    out: dict[str, np.ndarray] = {}
    for name in variants:
        if name == "fast":
            clip = fit_long_side(source[::SPEEDUP][:frames], size)
        else:
            clip = large[:frames]
            maker = VARIANTS[name]
            if maker is not None:
                clip = maker(clip, seed)
            clip = fit_long_side(clip, size)
        if len(clip) >= MIN_FRAMES:
            out[name] = clip
    return out
