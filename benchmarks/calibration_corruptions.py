"""A second, independent implementation of each failure, and the lossy re-encode control.

``spacetime.evaluation.corruptions`` injects each failure one way (whole frame, centred
subject, abrupt); the metrics could be tuned, knowingly or not, to that one way. The
corruptions here are written separately, on other mechanisms, so that the calibration
(``benchmarks/calibration.py``) asks whether a metric detects the *failure*, not one recipe:

- flicker: whole-frame gain, i.i.d. per frame -> one off-centre region, additive, smooth
  in time (:func:`region_flicker`);
- teleport: a square copied on the middle frame, its source left -> a feathered disc *moved*
  on a random frame, the hole inpainted (:func:`moved_disc`);
- background swim: a sine warp outside a centred ellipse -> a random low-frequency field on
  one half of the frame, keyframed (:func:`field_swim`);
- identity drift: Lab chroma shift and blur of a centred ellipse, linear in time -> an RGB
  colour cast of an off-centre disc, accelerating (:func:`colour_cast`);
- edge shimmer: the whole frame resampled at Gaussian noise -> only the pixels on strong
  edges, smoother noise (:func:`edge_wobble`);
- frozen: slow motion down to a held first frame -> held from a point on, with fresh sensor
  noise on every frame (:func:`noisy_hold`).

Every function takes ``(frames (T, H, W, 3) uint8, strength in [0, 1], seed=)`` and returns a
corrupted copy; strength 0 returns the clip unchanged and one seed gives nested corruptions
(the same region, direction and noise, scaled). Random choices (where, when, which
direction) come from the seed only, never from the clip's content.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import cv2
import numpy as np

from spacetime.video import read_video, write_mp4

REENCODE_CRF = 32
"""The negative control: H.264 at constant rate factor 32 (x264's default is 23; +6 halves the
file size), a visibly lossy upload-grade re-encode. Chosen once, before any measurement."""


def _region(height: int, width: int, rng: np.random.Generator, radius: float) -> np.ndarray:
    """``(H, W)`` float32 feathered disc of ``radius`` px at a random position (kept inside
    the frame), 1 inside ``0.8 radius`` and 0 outside ``radius``."""
    cy = rng.uniform(radius, max(radius + 1, height - radius))
    cx = rng.uniform(radius, max(radius + 1, width - radius))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    r = np.hypot(xs - cx, ys - cy) / radius
    return np.clip((1.0 - r) / 0.2, 0.0, 1.0).astype(np.float32)


def _displace(frame: np.ndarray, field: np.ndarray) -> np.ndarray:
    """``frame`` sampled at ``x + field(x)`` (``(H, W, 2)`` pixels), bicubic, borders mirrored."""
    height, width = frame.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return cv2.remap(
        frame,
        xs + field[..., 0],
        ys + field[..., 1],
        cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REFLECT,
    )


def _smooth_signal(rng: np.random.Generator, length: int, period: float) -> np.ndarray:
    """``(length,)`` zero-mean smooth random signal in about [-1, 1]: Gaussian-filtered white
    noise with a correlation of ``period / 4`` frames, scaled to unit peak."""
    noise = rng.standard_normal(length + 8)
    kernel = np.exp(-0.5 * (np.arange(-8, 9) / max(period / 4, 0.5)) ** 2)
    signal = np.convolve(noise, kernel / kernel.sum(), mode="same")[4 : 4 + length]
    signal -= signal.mean()
    return signal / max(float(np.abs(signal).max()), 1e-6)


def region_flicker(frames: np.ndarray, strength: float, *, seed: int = 0) -> np.ndarray:
    """An off-centre disc (radius S/4) whose brightness wanders smoothly: ``+- 30 s`` levels
    (additive) following a random signal with a period of ~4 frames."""
    if strength == 0.0:
        return frames.copy()
    rng = np.random.default_rng(seed)
    length, height, width = frames.shape[:3]
    mask = _region(height, width, rng, min(height, width) / 4)
    signal = _smooth_signal(rng, length, 4.0) * 30.0 * strength
    out = frames.astype(np.float32) + signal[:, None, None, None] * mask[None, ..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def moved_disc(frames: np.ndarray, strength: float, *, seed: int = 0) -> np.ndarray:
    """On one random frame (in the middle half of the clip), a feathered disc of diameter S/4
    is *moved* by ``s * S / 4`` pixels in a random direction (sub-pixel position, bicubic),
    and the hole it leaves is inpainted (Telea): the content is in the wrong place for one
    frame and nowhere else."""
    if strength == 0.0:
        return frames.copy()
    rng = np.random.default_rng(seed)
    length, height, width = frames.shape[:3]
    short = min(height, width)
    k = int(rng.integers(length // 4, max(length // 4 + 1, 3 * length // 4)))
    k = min(max(k, 1), length - 2)
    radius = short / 8
    angle = rng.uniform(0, 2 * np.pi)
    jump = strength * short / 4
    shift = np.array([np.cos(angle), np.sin(angle)], np.float32) * jump
    margin = radius + jump
    cy = rng.uniform(margin, max(margin + 1, height - margin))
    cx = rng.uniform(margin, max(margin + 1, width - margin))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)

    def disc(x0: float, y0: float) -> np.ndarray:
        return np.clip((1.0 - np.hypot(xs - x0, ys - y0) / radius) / 0.2, 0.0, 1.0)

    source, target = disc(cx, cy), disc(cx + shift[0], cy + shift[1])
    frame = frames[k]
    hole = (source > 0).astype(np.uint8)
    filled = cv2.inpaint(frame, hole, 5, cv2.INPAINT_TELEA).astype(np.float32)
    moved = cv2.remap(frame, xs - shift[0], ys - shift[1], cv2.INTER_CUBIC)
    out = frames.copy()
    blend = filled * (1 - target[..., None]) + moved.astype(np.float32) * target[..., None]
    out[k] = np.clip(blend + 0.5, 0, 255).astype(np.uint8)
    return out


def field_swim(frames: np.ndarray, strength: float, *, seed: int = 0) -> np.ndarray:
    """One random half of the frame (top, bottom, left or right, feathered) is warped by a
    random low-frequency displacement field (correlation ~S/5) that changes every 6 frames
    and is interpolated in between; peak displacement ``s * 4 %`` of the diagonal."""
    if strength == 0.0:
        return frames.copy()
    rng = np.random.default_rng(seed)
    length, height, width = frames.shape[:3]
    diagonal = float(np.hypot(height, width))
    side = int(rng.integers(4))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    coord = (ys / height, 1 - ys / height, xs / width, 1 - xs / width)[side]
    mask = np.clip((0.6 - coord) / 0.2, 0.0, 1.0)  # 1 on the chosen half, feathered
    keys = 2 + (length - 1) // 6
    fields = []
    for _ in range(keys):
        noise = rng.standard_normal((height, width, 2)).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), min(height, width) / 5)
        fields.append(noise / max(float(np.abs(noise).max()), 1e-6))
    amplitude = strength * 0.04 * diagonal
    out = np.empty_like(frames)
    for t in range(length):
        i, frac = divmod(t / 6.0, 1.0)
        field = (1 - frac) * fields[int(i)] + frac * fields[int(i) + 1]
        field *= amplitude * mask[..., None]
        out[t] = _displace(frames[t], field)
    return out


def colour_cast(frames: np.ndarray, strength: float, *, seed: int = 0) -> np.ndarray:
    """An off-centre disc (radius S/4) takes on a colour cast that grows as ``(t / (T-1))^2``
    (slow at first, then faster): per-channel RGB gains ``1 + 0.35 s g``, ``g`` a random
    zero-sum unit direction, so brightness stays and hue drifts."""
    if strength == 0.0:
        return frames.copy()
    rng = np.random.default_rng(seed)
    length, height, width = frames.shape[:3]
    mask = _region(height, width, rng, min(height, width) / 4)[..., None]
    direction = rng.standard_normal(3)
    direction -= direction.mean()
    direction /= max(float(np.linalg.norm(direction)), 1e-6)
    out = np.empty_like(frames)
    for t in range(length):
        progress = (t / max(1, length - 1)) ** 2
        gains = (1.0 + 0.35 * strength * progress * direction).astype(np.float32)
        cast = frames[t].astype(np.float32) * (1 + mask * (gains - 1))
        out[t] = np.clip(cast + 0.5, 0, 255).astype(np.uint8)
    return out


def edge_wobble(frames: np.ndarray, strength: float, *, seed: int = 0) -> np.ndarray:
    """Only edge pixels move: a fresh smooth random displacement per frame (correlation
    ~3 px, std ``0.6 s`` px) applied through a mask of the clip's strong edges (Canny,
    dilated by 2 px, feathered); flat areas and texture away from edges are untouched."""
    if strength == 0.0:
        return frames.copy()
    rng = np.random.default_rng(seed)
    length, height, width = frames.shape[:3]
    out = np.empty_like(frames)
    for t in range(length):
        gray = cv2.cvtColor(frames[t], cv2.COLOR_RGB2GRAY)
        edges = cv2.dilate(cv2.Canny(gray, 60, 150), np.ones((5, 5), np.uint8))
        mask = cv2.GaussianBlur(edges.astype(np.float32) / 255.0, (0, 0), 1.0)
        noise = rng.standard_normal((height, width, 2)).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), 3.0)
        noise *= 0.6 * strength / max(float(noise.std()), 1e-6)
        noise *= mask[..., None]
        out[t] = _displace(frames[t], noise)
    return out


def noisy_hold(frames: np.ndarray, strength: float, *, seed: int = 0) -> np.ndarray:
    """The clip stops at frame ``(1 - s) (T - 1)`` and holds it to the end, every frame of the
    clip with fresh Gaussian sensor noise (sigma 2 levels), as a generator's frozen output is
    never bit-identical. At s = 1 the whole clip is the first frame plus noise."""
    if strength == 0.0:
        return frames.copy()
    rng = np.random.default_rng(seed)
    length = len(frames)
    stop = round((1.0 - strength) * (length - 1))
    index = np.minimum(np.arange(length), stop)
    noise = rng.normal(0.0, 2.0, frames.shape).astype(np.float32)
    return np.clip(frames[index].astype(np.float32) + noise + 0.5, 0, 255).astype(np.uint8)


def lossy_reencode(frames: np.ndarray, fps: float = 24.0, crf: int = REENCODE_CRF) -> np.ndarray:
    """``frames`` through H.264 at ``crf`` and back (the negative control): blocking, ringing
    and mosquito noise that move nothing in the scene."""
    with tempfile.TemporaryDirectory() as folder:
        path = write_mp4(Path(folder) / "reencoded.mp4", frames, fps, crf=crf)
        decoded = read_video(path).frames
    return decoded[:, : frames.shape[1], : frames.shape[2]]


ALTERNATIVES = {
    "flicker": region_flicker,
    "teleport": moved_disc,
    "background_swim": field_swim,
    "identity_drift": colour_cast,
    "edge_shimmer": edge_wobble,
    "frozen": noisy_hold,
}
"""The independent implementation of each corruption of ``spacetime.evaluation.corruptions``."""
