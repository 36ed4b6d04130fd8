"""ShapesWorld's vocabulary and geometry: colours, shapes, sizes, motions, backgrounds.

Every number a scene is built from lives here, so that the renderer, the caption grammar and
the oracle (:mod:`spacetime.evaluation.oracle`) derive their thresholds from one place.

Geometry is defined at a *reference* frame of 64 px and 8 fps and scales with the resolution
``size`` (px) and the frame rate ``fps``:

- an object of size class ``s`` has radius ``RADIUS_FRACTION[s] * size`` px; every shape fits
  the box ``[x - r, x + r] x [y - r, y + r]`` around its centre ``(x, y)``: a circle of radius
  ``r``, an axis-aligned square of side ``2r`` and an upward triangle with apex ``(x, y - r)``
  and base corners ``(x -/+ r, y + r)`` (area ``2 r^2``);
- a moving object travels ``SPEED_RANGE`` px per frame per moving axis at the reference
  (1.5-3 px/frame at 64 px, 8 fps), i.e. ``speed * size / 64 * 8 / fps`` px per frame.

Coordinates are continuous pixels: ``x`` to the right, ``y`` down, the frame spans
``[0, size]`` on both axes and pixel ``(i, j)`` covers ``[j, j + 1] x [i, i + 1]``.
"""

from __future__ import annotations

import math

COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (40, 80, 220),
    "yellow": (230, 200, 40),
    "purple": (150, 60, 190),
    "cyan": (40, 190, 200),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
SIZES: tuple[str, ...] = ("small", "large")
MOTIONS: tuple[str, ...] = (
    "moves left",
    "moves right",
    "moves up",
    "moves down",
    "bounces",
    "stays still",
)
BACKGROUNDS: tuple[str, ...] = ("plain", "stripes", "checkered")

RADIUS_FRACTION: dict[str, float] = {"small": 0.08, "large": 0.14}
# Area of each shape in units of r^2: circle pi r^2, square (2r)^2, triangle 2r x 2r / 2.
SHAPE_AREA: dict[str, float] = {"circle": math.pi, "square": 4.0, "triangle": 2.0}
# Filled fraction of the shape's tight bounding box: the oracle's shape feature.
SHAPE_FILL: dict[str, float] = {"circle": math.pi / 4.0, "square": 1.0, "triangle": 0.5}

REFERENCE_SIZE = 64  # px: the frame side the speeds below are quoted at
REFERENCE_FPS = 8.0  # frames/second the speeds below are quoted at
SPEED_RANGE: tuple[float, float] = (1.5, 3.0)  # px/frame per moving axis at the reference
SIZE_RANGE: tuple[int, int] = (32, 256)  # allowed square resolutions, px
MAX_OBJECTS = 3

PILLAR_GRAY: tuple[int, int, int] = (90, 90, 90)
# Background grays: light, low contrast, never close to the pillar nor to a (chromatic) colour.
PLAIN_GRAY = 128
PATTERN_GRAYS: tuple[int, int] = (150, 172)
STRIPE_PERIOD = 1.0 / 6.0  # stripes: period as a fraction of the frame side (45-degree bands)
CHECKER_CELL = 1.0 / 8.0  # checkered: cell side as a fraction of the frame side

# Caption words of each background (plain says nothing unless asked).
BACKGROUND_WORD: dict[str, str] = {
    "plain": "plain",
    "stripes": "striped",
    "checkered": "checkered",
}


def radius_px(size_class: str, size: int) -> float:
    """Radius in px of an object of ``size_class`` ("small"/"large") in a ``size`` px frame."""
    return RADIUS_FRACTION[size_class] * size


def speed_scale(size: int, fps: float) -> float:
    """Factor from reference px/frame to px/frame at resolution ``size`` and ``fps``."""
    return (size / REFERENCE_SIZE) * (REFERENCE_FPS / fps)


def speed_range_px(size: int, fps: float) -> tuple[float, float]:
    """(min, max) speed per moving axis in px/frame at resolution ``size`` and ``fps``."""
    k = speed_scale(size, fps)
    return SPEED_RANGE[0] * k, SPEED_RANGE[1] * k


def vocabulary() -> list[str]:
    """Every word a ShapesWorld caption can use, sorted (for word-level text encoders)."""
    words = {"a", "and", "behind", "pillar", "on", "background"}
    words.update(COLORS)
    words.update(SHAPES)
    words.update(SIZES)
    for motion in MOTIONS:
        words.update(motion.split())
    words.update(BACKGROUND_WORD.values())
    return sorted(words)
