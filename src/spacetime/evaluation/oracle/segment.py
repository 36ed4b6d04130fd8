"""Finding ShapesWorld objects and the pillar in raw frames (no ground truth).

Colour: a pixel ``p`` (RGB) is split into its gray level ``mean(p)`` and its chromatic part
``q = p - mean(p)``, a 2-D opponent-colour plane. An anti-aliased edge pixel blends a palette
colour ``c`` with a gray (background or pillar) as ``a c + (1 - a) g``, whose chromatic part is
exactly ``a (c - mean(c))``: it keeps the colour's hue angle and scales its chroma by the
coverage ``a``. So a pixel gets the palette colour of nearest hue and the coverage
``a = <q, c_q> / |c_q|^2``, and counts as that colour when ``a >= 0.5``. The palette hues are
45-78 degrees apart in this plane (CIELAB puts blue and purple only 21 degrees apart), and
codec noise or model noise of a few levels moves neither much.

Objects are 8-connected components of one colour with at least ``min_area`` px. Their area,
centroid and shape features are measured on the *soft* mask (signed coverage of that colour
within 2 px of the component; :func:`soft_features`), which is exact for anti-aliased edges and
insensitive to blur: a triangle is lopsided (third moment of ``y``) and fills half its box; a
circle fills pi/4 of its box and a square all of it (``SHAPE_FILL``), and a square's diagonal is
sqrt(2) times its side while a circle's is 1 (:func:`classify_shape`). Objects whose size
class has a radius under ``MIN_SHAPE_RADIUS`` px (small objects in frames under 63 px, all
objects under 36 px) get no shape. The size class comes from the area alone: small shapes
cover ``2 r_s^2 .. 4 r_s^2`` and large ones ``2 r_l^2 .. 4 r_l^2``, which never overlap; the
radius is ``sqrt(area / SHAPE_AREA[shape])``.

The pillar is the largest dark-gray region (gray level within half the gap between the pillar
gray 90 and the darkest background gray 128, chroma below a quarter of the least chromatic
palette colour) of the per-pixel temporal median frame, when it covers at least 2 % of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from spacetime.data.shapes.palette import COLORS, PILLAR_GRAY, PLAIN_GRAY, SHAPE_AREA, SHAPE_FILL
from spacetime.evaluation.oracle.thresholds import Thresholds

COLOR_NAMES: tuple[str, ...] = tuple(COLORS)
_PALETTE = np.asarray([COLORS[c] for c in COLOR_NAMES], np.float32)  # (K, 3)
_PALETTE_Q = _PALETTE - _PALETTE.mean(axis=1, keepdims=True)  # (K, 3) chromatic parts
_PALETTE_CHROMA = np.linalg.norm(_PALETTE_Q, axis=1)  # (K,)
_UNITS = _PALETTE_Q / _PALETTE_CHROMA[:, None]  # (K, 3) unit chromatic directions
MIN_COVERAGE = 0.5  # a pixel belongs to an object when at least half of it is covered
PILLAR_GRAY_TOL = 0.5 * (PLAIN_GRAY - PILLAR_GRAY[0])  # 19 gray levels
PILLAR_CHROMA_TOL = 0.25 * float(_PALETTE_CHROMA.min())
PILLAR_MIN_FRACTION = 0.02
# Shapes are told apart only for objects of at least this radius (px): yuv420p video keeps one
# chroma sample per 2 x 2 pixels, and a shape needs about five samples across to show.
MIN_SHAPE_RADIUS = 5.0
# A component this close (px) to the pillar may be cut by it: the 2x2 chroma subsampling of
# yuv420p video can leave the cut edge's last pixel under half covered.
PILLAR_REACH = 1
# Third central moment of y over the cube of the equal-area radius: 0 for the symmetric
# circle and square, -(8/135) r^3 / (r sqrt(2/pi))^3 = -0.117 for the upright triangle (its
# mass sits at its base). Unlike the usual skewness it ignores blur, which adds variance but no
# third moment. A third of the triangle's value splits the classes.
TRIANGLE_SKEW = (8 / 135) / (2 / np.pi) ** 1.5 / 3
_KERNEL5 = np.ones((5, 5), np.uint8)
TRIANGLE_FILL_SPLIT = 0.5 * (SHAPE_FILL["triangle"] + SHAPE_FILL["circle"])  # 0.64


def chroma(frames: np.ndarray) -> np.ndarray:
    """Chromatic part ``(..., 3)`` float32 of RGB ``frames`` ``(..., 3)`` (gray removed)."""
    f = frames.astype(np.float32)
    return f - f.mean(axis=-1, keepdims=True)


def palette_labels(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel palette colour and coverage of ``frames`` uint8 ``(..., 3)``.

    Returns ``labels`` int8 ``(...)`` (index into ``COLOR_NAMES``) of the nearest hue and
    ``coverage`` float32 ``(...)`` (``a`` above, 0 for grays, clipped to [0, 2]).
    """
    q = chroma(frames)  # (..., 3)
    proj = q @ _UNITS.T  # (..., K) = |q| cos(angle)
    labels = proj.argmax(axis=-1).astype(np.int8)
    best = np.take_along_axis(proj, labels[..., None].astype(np.int64), axis=-1)[..., 0]
    coverage = np.clip(best / _PALETTE_CHROMA[labels], 0.0, 2.0)
    return labels, coverage.astype(np.float32)


@dataclass(frozen=True)
class Detection:
    """One coloured component in one frame. Lengths px; ``center`` is the soft centroid (x, y),
    ``box`` the pixel box (x0, y0, x1, y1) with exclusive ends, ``area`` the soft area (px^2),
    ``shape`` None when too small to tell, ``size`` the size class."""

    t: int
    color: str
    center: tuple[float, float]
    box: tuple[int, int, int, int]
    area: float
    fill: float
    skew: float
    shape: str | None
    size: str
    radius: float
    at_border: bool
    at_pillar: bool

    @property
    def clean(self) -> bool:
        """Fully seen: touches neither the frame border nor the pillar."""
        return not (self.at_border or self.at_pillar)


def classify_shape(fill: float, skew: float, diagonal: float) -> str:
    """Triangle when lopsided (``|skew|`` above ``TRIANGLE_SKEW``, a third of a triangle's) or
    filling less than the triangle/circle midpoint of its box; otherwise square when ``fill``
    and ``diagonal``, each scaled so that a circle is 0 and a square 1, add up to more than 1
    (two features: blur rounds a small square's corners, which lowers both a little)."""
    if abs(skew) > TRIANGLE_SKEW or fill < TRIANGLE_FILL_SPLIT:
        return "triangle"
    f = (fill - SHAPE_FILL["circle"]) / (SHAPE_FILL["square"] - SHAPE_FILL["circle"])
    d = (diagonal - 1.0) / (np.sqrt(2.0) - 1.0)
    return "square" if f + d > 1.0 else "circle"


def soft_features(weights: np.ndarray) -> tuple[float, float, float, float, float, float]:
    """Area, centroid and shape features of a soft mask ``weights`` (h, w), about [0, 1].

    Returns ``(area, cx, cy, fill, skew, diagonal)``: ``area = sum(w)`` px^2; the weighted
    centroid (x, y) in px of the window; ``fill = area / (width height)`` with the extents
    ``width = max_y sum_x w`` (the widest row) and ``height = max_x sum_y w`` (the tallest
    column): a sum along a row is unchanged by horizontal blur (anti-aliasing, chroma
    subsampling, a generator's softness) and averages noise out, unlike a thresholded box;
    ``skew`` the third central moment of ``y`` over ``r^3`` with ``r = sqrt(area / pi)``
    (0 for circle and square, -0.117 for an upright triangle; see ``TRIANGLE_SKEW``);
    ``diagonal``
    the widest row of the mask turned by 45 degrees over ``width`` (sqrt(2) for a square, whose
    diagonal is longer than its side, 1 for a circle).
    """
    area = float(weights.sum())
    ys = np.arange(weights.shape[0], dtype=np.float64) + 0.5
    xs = np.arange(weights.shape[1], dtype=np.float64) + 0.5
    py, px = weights.sum(axis=1) / area, weights.sum(axis=0) / area  # marginals
    cy, cx = float(py @ ys), float(px @ xs)
    r_equal = np.sqrt(max(area, 1e-9) / np.pi)  # radius of the disc of the same area
    skew = float(py @ (ys - cy) ** 3) / r_equal**3
    width = max(float(weights.sum(axis=1).max()), 1e-9)
    extent = width * float(weights.sum(axis=0).max())
    side = 3 * max(weights.shape)  # room for the turned mask
    canvas = np.zeros((side, side), np.float32)
    canvas[side // 3 : side // 3 + weights.shape[0], side // 3 : side // 3 + weights.shape[1]] = (
        weights
    )
    turn = cv2.getRotationMatrix2D((side / 2, side / 2), 45, 1.0)
    turned = cv2.warpAffine(canvas, turn, (side, side), flags=cv2.INTER_LINEAR)
    diagonal = float(turned.sum(axis=1).max()) / width
    return area, cx, cy, area / max(extent, 1e-9), skew, diagonal


def find_pillar(frames: np.ndarray) -> tuple[int, int, int, int] | None:
    """Box (x0, y0, x1, y1), exclusive ends, of the static dark-gray pillar, or None."""
    median = np.median(frames, axis=0).astype(np.float32)  # (H, W, 3)
    gray = median.mean(axis=-1)
    dark = (np.abs(gray - PILLAR_GRAY[0]) <= PILLAR_GRAY_TOL) & (
        np.linalg.norm(chroma(median), axis=-1) <= PILLAR_CHROMA_TOL
    )
    n, _, stats, _ = cv2.connectedComponentsWithStats(dark.astype(np.uint8), connectivity=8)
    if n <= 1:
        return None
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if stats[k, cv2.CC_STAT_AREA] < PILLAR_MIN_FRACTION * dark.size:
        return None
    x, y, w, h = (int(v) for v in stats[k, :4])
    return (x, y, x + w, y + h)


def detect(
    frames: np.ndarray,
    limits: Thresholds,
    pillar: tuple[int, int, int, int] | None,
    labelled: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[list[Detection]]:
    """Detections of every palette colour in each frame of ``frames`` uint8 (T, H, W, 3).

    ``labelled`` is ``palette_labels(frames)`` when the caller has it already.
    """
    t_count, height, width = frames.shape[:3]
    labels, coverage = labelled if labelled is not None else palette_labels(frames)
    out: list[list[Detection]] = []
    for t in range(t_count):
        found: list[Detection] = []
        for k, name in enumerate(COLOR_NAMES):
            mask = ((labels[t] == k) & (coverage[t] >= MIN_COVERAGE)).astype(np.uint8)
            if mask.sum() < limits.min_area:
                continue
            n, comp, stats, _cents = cv2.connectedComponentsWithStats(mask, connectivity=8)
            for c in range(1, n):
                if stats[c, cv2.CC_STAT_AREA] < limits.min_area:
                    continue
                x, y, w, h = (int(v) for v in stats[c, :4])
                # Soft mask: this colour's coverage within 2 px of the component.
                x0, y0 = max(x - 2, 0), max(y - 2, 0)
                x1, y1 = min(x + w + 2, width), min(y + h + 2, height)
                near = cv2.dilate((comp[y0:y1, x0:x1] == c).astype(np.uint8), _KERNEL5) > 0
                # Signed coverage (projection on this colour, negative allowed) keeps the
                # sums of zero-mean noise near zero instead of biasing them upwards.
                q = chroma(frames[t, y0:y1, x0:x1]) @ _UNITS[k] / _PALETTE_CHROMA[k]
                weights = np.where(near, np.clip(q, -1.0, 1.0), 0.0)
                if weights.sum() < 0.5 * limits.min_area:  # a speck of noise, not an object
                    continue
                area, cx, cy, fill, skew, diagonal = soft_features(weights)
                size_class = "small" if area < limits.size_area_split else "large"
                resolved = limits.radius(size_class) >= MIN_SHAPE_RADIUS
                shape = classify_shape(fill, skew, diagonal) if resolved else None
                box = (x, y, x + w, y + h)
                at_pillar = pillar is not None and (  # within PILLAR_REACH px of the pillar
                    box[0] <= pillar[2] + PILLAR_REACH
                    and box[2] >= pillar[0] - PILLAR_REACH
                    and box[1] <= pillar[3] + PILLAR_REACH
                    and box[3] >= pillar[1] - PILLAR_REACH
                )
                found.append(
                    Detection(
                        t=t,
                        color=name,
                        center=(x0 + cx, y0 + cy),
                        box=box,
                        area=area,
                        fill=fill,
                        skew=skew,
                        shape=shape,
                        size=size_class,
                        radius=float(np.sqrt(area / SHAPE_AREA[shape or "circle"])),
                        at_border=x <= 0 or y <= 0 or x + w >= width or y + h >= height,
                        at_pillar=at_pillar,
                    )
                )
        out.append(found)
    return out


def object_mask(
    frames: np.ndarray,
    limits: Thresholds,
    labelled: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Bool ``(T, H, W)``: pixels of objects, i.e. components of one palette colour (a quarter
    covered or more) of at least ``min_area`` px, grown by ``object_halo`` px to take in
    anti-aliased edges and codec ringing. Specks of chroma noise are not objects.
    ``labelled`` is ``palette_labels(frames)`` when the caller has it already."""
    labels, coverage = labelled if labelled is not None else palette_labels(frames)
    halo = limits.object_halo
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * halo + 1, 2 * halo + 1))
    out = np.zeros(labels.shape, bool)
    for t in range(labels.shape[0]):
        colored = coverage[t] >= 0.25
        frame_mask = np.zeros(labels.shape[1:], np.uint8)
        for k in range(len(COLOR_NAMES)):
            mask = (colored & (labels[t] == k)).astype(np.uint8)
            if mask.sum() < limits.min_area:
                continue
            _n, comp, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
            big = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= limits.min_area)
            frame_mask |= np.isin(comp, big[big > 0]).astype(np.uint8)
        out[t] = cv2.dilate(frame_mask, kernel) > 0
    return out
