"""Synthetic temporal failures injected into real clips, to calibrate the metrics.

Each corruption takes a clean clip ``(T, H, W, 3)`` uint8 and a strength ``s`` in ``[0, 1]``
(0 returns the clip unchanged, 1 is a blatant failure) and returns a corrupted copy. A seed
fixes the random parts, so one seed gives nested corruptions: the same pattern, scaled by
``s``. :data:`CORRUPTIONS` pairs each with the metric it should move (and which way);
:func:`calibrate` checks that the metric rises with ``s`` on a clip.

Lengths are fractions of the frame (short side ``S`` or diagonal), so a corruption means the
same thing at any resolution; only the edge jitter is in pixels, being sub-pixel by nature.
The "subject" is a soft ellipse centred on the frame (about half its width and height),
where a camera operator puts it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from spacetime.errors import SpacetimeError
from spacetime.evaluation.metrics import compute_metrics
from spacetime.evaluation.metrics.context import check_clip

FLICKER_GAIN = 0.2
"""Largest per-frame brightness gain deviation at s = 1 (+-20 %)."""
TELEPORT_JUMP = 0.25
"""Jump of the teleporting region at s = 1, as a fraction of the short side ``S``. The jump is
``s * TELEPORT_JUMP * S``, so even s = 0.25 is a visible S/16 (9 px on a 256x144 frame, 16 px
on 256x256) of a region of side S/4: never a sub-pixel event."""
SWIM_AMPLITUDE = 0.05
"""Peak background displacement at s = 1, as a fraction of the diagonal."""
SWIM_PERIOD = 12
"""Temporal period of the swim, in frames (half a second at 24 fps): a slow breathing, yet
fast enough that strength 0.25 moves the background by ~0.65 %diag per frame at its peak
(1.9 px/frame on a 256x144 frame), well above the flow noise of handheld footage."""
DRIFT_CHROMA = 40.0
"""Chroma shift (8-bit Lab levels) of the subject on the last frame at s = 1."""
SHIMMER_AMPLITUDE = 0.75
"""Standard deviation of the edge jitter at s = 1, in pixels of the clip."""


def _unchanged(frames: np.ndarray, strength: float) -> bool:
    """Validate the inputs; True when ``strength`` is 0 (the clip is returned unchanged)."""
    check_clip(frames)
    if not 0.0 <= strength <= 1.0:
        raise SpacetimeError(f"corruption strength must be in [0, 1], got {strength}")
    return strength == 0.0


def subject_mask(height: int, width: int) -> np.ndarray:
    """``(H, W)`` float32 in [0, 1]: a soft centred ellipse (semi-axes W/4, H/4), the subject."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    r = np.hypot((xs - (width - 1) / 2) / (width / 4), (ys - (height - 1) / 2) / (height / 4))
    return np.clip((1.25 - r) / 0.5, 0.0, 1.0)  # 1 inside r < 0.75, 0 outside r > 1.25


def _remap(frame: np.ndarray, displacement: np.ndarray) -> np.ndarray:
    """Sample ``frame`` at ``x + displacement(x)`` (``(H, W, 2)`` pixels), bicubic: bilinear
    sampling at sub-pixel offsets blurs the frame, and the blur itself would lower the
    metrics' noise, hiding a weak corruption."""
    height, width = frame.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return cv2.remap(
        frame,
        xs + displacement[..., 0],
        ys + displacement[..., 1],
        cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REFLECT,
    )


def flicker(frames: np.ndarray, strength: float, *, seed: int = 0) -> np.ndarray:
    """Per-frame brightness gain ``1 + s * FLICKER_GAIN * u_t``, ``u_t ~ U[-1, 1]`` i.i.d."""
    if _unchanged(frames, strength):
        return frames.copy()
    gains = 1.0 + strength * FLICKER_GAIN * np.random.default_rng(seed).uniform(-1, 1, len(frames))
    out = frames.astype(np.float32) * gains[:, None, None, None].astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def teleport(frames: np.ndarray, strength: float, *, seed: int = 0) -> np.ndarray:
    """On the middle frame, a square region (side S/4) is pasted ``s * TELEPORT_JUMP * S``
    away (random direction) and is back in place on the next frame.

    The copy is pasted, the source left as it was (a one-frame duplicate of the content, as
    a generator that misplaces an object produces); the teleport metric reports the jump
    size, ``s * TELEPORT_JUMP * S`` pixels, in %diag."""
    if _unchanged(frames, strength):
        return frames.copy()
    out = frames.copy()
    length, height, width = frames.shape[:3]
    side = min(height, width) // 4
    angle = np.random.default_rng(seed).uniform(0, 2 * np.pi)
    jump = strength * TELEPORT_JUMP * min(height, width)
    dx, dy = round(jump * np.cos(angle)), round(jump * np.sin(angle))
    top = int(np.clip((height - side) // 2 - dy // 2, 0, height - side))
    left = int(np.clip((width - side) // 2 - dx // 2, 0, width - side))
    to_top = int(np.clip(top + dy, 0, height - side))
    to_left = int(np.clip(left + dx, 0, width - side))
    k = length // 2
    out[k, to_top : to_top + side, to_left : to_left + side] = frames[
        k, top : top + side, left : left + side
    ]
    return out


def background_swim(frames: np.ndarray, strength: float, *, seed: int = 0) -> np.ndarray:
    """A slow, smooth, non-rigid warp of the background (outside :func:`subject_mask`).

    Displacement ``A s (sin(2 pi (y / H + t / P) + p1), sin(2 pi (x / W + t / P) + p2))`` with
    ``A = SWIM_AMPLITUDE * diagonal`` and period ``P = SWIM_PERIOD`` frames: the background
    breathes by up to ``2 pi A s / P`` pixels per frame, which no camera motion explains.
    """
    if _unchanged(frames, strength):
        return frames.copy()
    length, height, width = frames.shape[:3]
    phase = np.random.default_rng(seed).uniform(0, 2 * np.pi, 2)
    amplitude = strength * SWIM_AMPLITUDE * float(np.hypot(height, width))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    background = 1.0 - subject_mask(height, width)
    out = np.empty_like(frames)
    for t in range(length):
        cycle = 2 * np.pi * t / SWIM_PERIOD
        dx = np.sin(2 * np.pi * ys / height + cycle + phase[0])
        dy = np.sin(2 * np.pi * xs / width + cycle + phase[1])
        displacement = amplitude * background[..., None] * np.stack([dx, dy], axis=-1)
        out[t] = _remap(frames[t], displacement.astype(np.float32))
    return out


def identity_drift(frames: np.ndarray, strength: float, *, seed: int = 0) -> np.ndarray:
    """The subject's colour and texture change slowly: on frame ``t`` its chroma (Lab a, b)
    shifts by ``s * DRIFT_CHROMA * t / (T - 1)`` levels in a random hue direction, and its
    texture is blurred with sigma growing to ``s * S / 100``."""
    if _unchanged(frames, strength):
        return frames.copy()
    length, height, width = frames.shape[:3]
    angle = np.random.default_rng(seed).uniform(0, 2 * np.pi)
    direction = np.array([0.0, np.cos(angle), np.sin(angle)], np.float32)
    mask = subject_mask(height, width)[..., None]
    out = np.empty_like(frames)
    for t in range(length):
        progress = strength * t / max(1, length - 1)
        if progress == 0.0:
            out[t] = frames[t]
            continue
        lab = cv2.cvtColor(frames[t], cv2.COLOR_RGB2LAB).astype(np.float32)
        sigma = progress * min(height, width) / 100.0
        if sigma > 0.1:
            lab = cv2.GaussianBlur(lab, (0, 0), sigma)
        lab += progress * DRIFT_CHROMA * direction
        changed = cv2.cvtColor(np.clip(lab + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
        blend = mask * changed.astype(np.float32) + (1 - mask) * frames[t].astype(np.float32)
        out[t] = np.clip(blend + 0.5, 0, 255).astype(np.uint8)
    return out


def edge_shimmer(frames: np.ndarray, strength: float, *, seed: int = 0) -> np.ndarray:
    """Sub-pixel jitter of edges: every frame is resampled at ``x + n_t(x)``, with ``n_t`` a fresh
    Gaussian field (std ``s * SHIMMER_AMPLITUDE`` px, correlation length ~1.5 px). Flat areas
    do not change; edges wobble from frame to frame."""
    if _unchanged(frames, strength):
        return frames.copy()
    rng = np.random.default_rng(seed)
    length, height, width = frames.shape[:3]
    out = np.empty_like(frames)
    for t in range(length):
        noise = rng.standard_normal((height, width, 2)).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), 1.5)
        noise *= strength * SHIMMER_AMPLITUDE / max(float(noise.std()), 1e-6)
        out[t] = _remap(frames[t], noise)
    return out


def frozen(frames: np.ndarray, strength: float, *, seed: int = 0) -> np.ndarray:
    """Slow motion down to a freeze: frame ``t`` shows source frame ``floor(t (1 - s))``; at
    s = 1 every frame repeats the first. (``seed`` is unused: this one is deterministic.)"""
    if _unchanged(frames, strength):
        return frames.copy()
    index = np.floor(np.arange(len(frames)) * (1.0 - strength) + 1e-9).astype(int)
    return frames[index]


def teleport_object(video: np.ndarray, ground_truth: dict, *, jump: float = 3.0) -> np.ndarray:
    """``video`` uint8 (T, H, W, 3) with its first object moved ``jump`` radii sideways on the
    middle frame only: a generator's teleport of the subject. Exact for a ShapesWorld clip:
    ``ground_truth`` (the clip's) gives the object's place and the static background, which
    fills the place it left, whether or not the object ever moves. Unlike the strength-scaled
    corruptions above it needs the ground truth, so it is not in :data:`CORRUPTIONS`; the demo
    uses it."""
    from spacetime.data.shapes.render import static_image

    check_clip(video)
    size = int(ground_truth["size"])
    if video.shape[1:3] != (size, size):
        raise SpacetimeError(
            f"teleport_object: the video is {video.shape[2]}x{video.shape[1]} but its ground "
            f"truth describes a {size}x{size} clip"
        )
    out = video.copy()
    k = len(video) // 2
    obj = ground_truth["per_frame"][k]["objects"][0]
    (cx, cy), radius = obj["center"], obj["radius"]
    background = static_image(ground_truth)  # (H, W, 3)
    half = int(np.ceil(radius * np.sqrt(2))) + 2  # a square's corners lie r*sqrt(2) out
    y0, y1 = max(0, round(cy) - half), min(size, round(cy) + half)
    x0, x1 = max(0, round(cx) - half), min(size, round(cx) + half)
    box = video[k, y0:y1, x0:x1]  # (h, w, 3)
    ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5  # pixel centres
    near = np.hypot(xs - cx, ys - cy) <= radius * np.sqrt(2) + 1  # (h, w)
    differs = np.abs(box.astype(int) - background[y0:y1, x0:x1]).sum(-1) > 8  # (h, w)
    is_object = near & differs
    shift = round(jump * radius) * (-1 if cx > size / 2 else 1)
    nx0 = int(np.clip(x0 + shift, 0, size - (x1 - x0)))
    out[k, y0:y1, x0:x1][is_object] = background[y0:y1, x0:x1][is_object]
    out[k, y0:y1, nx0 : nx0 + (x1 - x0)][is_object] = box[is_object]
    return out


@dataclass(frozen=True)
class Corruption:
    """A failure injector and the metric that must detect it.

    Attributes:
        name: corruption name; apply: ``(frames, strength, seed=) -> frames``.
        metric: the targeted metric (a name of :data:`~spacetime.evaluation.metrics.METRIC_NAMES`).
        statistic: summary of the metric compared: ``"mean"`` for sustained failures,
            ``"max"`` for one-frame events.
        direction: +1 if the metric must rise with strength, -1 if it must drop.
    """

    name: str
    apply: Callable[..., np.ndarray]
    metric: str
    statistic: str = "mean"
    direction: int = 1


CORRUPTIONS: dict[str, Corruption] = {
    c.name: c
    for c in (
        Corruption("flicker", flicker, "flicker"),
        Corruption("teleport", teleport, "teleport", statistic="max"),
        Corruption("background_swim", background_swim, "background_swim"),
        Corruption("identity_drift", identity_drift, "identity_drift"),
        Corruption("edge_shimmer", edge_shimmer, "edge_shimmer"),
        Corruption("frozen", frozen, "dynamic_degree", direction=-1),
    )
}
"""Corruptions by name, each with its target metric."""

STRENGTHS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
"""Default calibration strengths."""


@dataclass(frozen=True)
class CalibrationRow:
    """One corruption on one clip: the target metric at strength 0 and at each strength.

    ``passed`` is True when the metric moves strictly in the expected direction at every
    step, starting from the clean clip (so even the weakest corruption separates).
    """

    clip: str
    corruption: str
    metric: str
    statistic: str
    clean: float
    values: tuple[float, ...]
    strengths: tuple[float, ...]
    passed: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "clip": self.clip,
            "corruption": self.corruption,
            "metric": self.metric,
            "statistic": self.statistic,
            "clean": self.clean,
            "values": dict(zip((str(s) for s in self.strengths), self.values, strict=True)),
            "passed": self.passed,
        }


def calibrate(
    frames: np.ndarray,
    *,
    clip: str = "clip",
    corruptions: Sequence[str] | None = None,
    strengths: Sequence[float] = STRENGTHS,
    analysis_size: int | None = 256,
    seed: int = 0,
) -> list[CalibrationRow]:
    """Apply each corruption at each strength to ``frames`` and score its target metric.

    Args:
        frames: clean ``(T, H, W, 3)`` uint8 clip (``T >= 4``; the teleport needs a middle).
        clip: name reported in the rows.
        corruptions: names from :data:`CORRUPTIONS` (default: all).
        strengths: increasing strengths in (0, 1].
        analysis_size: passed to :func:`~spacetime.evaluation.metrics.compute_metrics`.
        seed: corruption seed (the same for every strength, so corruptions are nested).

    Returns:
        One :class:`CalibrationRow` per corruption.
    """
    check_clip(frames)
    if len(frames) < 4:
        raise SpacetimeError(f"calibration needs at least 4 frames, got {len(frames)}")
    names = list(CORRUPTIONS) if corruptions is None else list(corruptions)
    unknown = [n for n in names if n not in CORRUPTIONS]
    if unknown:
        raise SpacetimeError(
            f"unknown corruption(s) {unknown}; expected some of {list(CORRUPTIONS)}"
        )
    levels = tuple(float(s) for s in strengths)
    if not levels or any(b <= a for a, b in itertools.pairwise(levels)) or levels[0] <= 0:
        raise SpacetimeError(f"strengths must be increasing values in (0, 1], got {levels}")
    targets = sorted({CORRUPTIONS[n].metric for n in names})
    clean = compute_metrics(frames, names=targets, analysis_size=analysis_size)
    rows = []
    for name in names:
        corruption = CORRUPTIONS[name]

        def score(video: np.ndarray, c: Corruption = corruption) -> float:
            series = compute_metrics(video, names=[c.metric], analysis_size=analysis_size)
            return float(getattr(series[c.metric], c.statistic))

        base = float(getattr(clean[corruption.metric], corruption.statistic))
        values = tuple(score(corruption.apply(frames, s, seed=seed)) for s in levels)
        steps = np.diff(np.array((base, *values))) * corruption.direction
        rows.append(
            CalibrationRow(
                clip=clip,
                corruption=name,
                metric=corruption.metric,
                statistic=corruption.statistic,
                clean=base,
                values=values,
                strengths=levels,
                passed=bool(np.all(steps > 0)),
            )
        )
    return rows
