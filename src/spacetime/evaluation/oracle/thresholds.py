"""Every tolerance of the oracle, derived from ShapesWorld's geometry (never fitted to a clip).

With ``S`` the frame side (px), ``r_s = 0.08 S`` and ``r_l = 0.14 S`` the small and large radii,
and ``v_min``, ``v_max`` the per-axis speed range (1.5-3 px/frame at 64 px and 8 fps, scaled by
``S / 64`` and ``8 / fps``; :mod:`spacetime.data.shapes.palette`):

- ``min_area = max(4, 0.25 * 2 r_s^2)`` px: a quarter of the smallest shape (small triangle);
  drops specks of noise, keeps objects that are three-quarters hidden.
- ``size_area_split = 2 sqrt(2) r_s r_l`` px^2: geometric midpoint between the largest small
  shape (square, ``4 r_s^2``) and the smallest large one (triangle, ``2 r_l^2``).
- ``still_speed = 0.5 v_min``: half the slowest motion.
- ``teleport_jump = 2 sqrt(2) v_max + 0.5 r_s``: the largest honest change of displacement
  (both axes reversing in a corner bounce) plus half a small radius.
- ``accel_tol = 0.5 v_min``: a change of velocity the world only makes at walls (centroids are
  accurate to ~0.1 px after mp4 at 64 px, so noise stays far below it).
- ``wall_reach = v_max + 1`` px: how close to a wall a bounce happens.
- ``reappear_tol = r_s``: coming back a small radius off the constant-velocity path is visibly
  wrong (velocities from two or three clear sightings per side carry ~0.1 px/frame of codec
  noise over ~12 hidden frames, i.e. ~1-2 px).
- ``background_tol = 0.4 * (172 - 150)`` gray levels: under half the contrast of the background
  patterns, so a pixel that swaps pattern grays always exceeds it; codec noise (a few levels)
  does not.
- ``object_halo = max(2, 0.05 S)`` px: object edge pixels (anti-aliasing, codec ringing) left
  out of the background.
- ``present_frac = 0.25``: share of frames an object must be seen in to be present.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from spacetime.data.shapes.palette import (
    PATTERN_GRAYS,
    RADIUS_FRACTION,
    SHAPE_AREA,
    speed_range_px,
)


@dataclass(frozen=True)
class Thresholds:
    """The oracle's tolerances for a ``size`` px video at ``fps`` (see the module table)."""

    size: int
    fps: float
    r_small: float
    r_large: float
    v_min: float
    v_max: float
    min_area: float
    size_area_split: float
    still_speed: float
    teleport_jump: float
    accel_tol: float
    wall_reach: float
    reappear_tol: float
    background_tol: float
    object_halo: int
    present_frac: float = 0.25

    @classmethod
    def for_video(cls, size: int, fps: float = 8.0) -> Thresholds:
        """Tolerances for frames of side ``size`` px (the short side) played at ``fps``."""
        r_s, r_l = RADIUS_FRACTION["small"] * size, RADIUS_FRACTION["large"] * size
        v_min, v_max = speed_range_px(size, fps)
        return cls(
            size=size,
            fps=fps,
            r_small=r_s,
            r_large=r_l,
            v_min=v_min,
            v_max=v_max,
            min_area=max(4.0, 0.25 * SHAPE_AREA["triangle"] * r_s**2),
            size_area_split=2 * math.sqrt(2) * r_s * r_l,
            still_speed=0.5 * v_min,
            teleport_jump=2 * math.sqrt(2) * v_max + 0.5 * r_s,
            accel_tol=0.5 * v_min,
            wall_reach=v_max + 1.0,
            reappear_tol=r_s,
            background_tol=0.4 * (PATTERN_GRAYS[1] - PATTERN_GRAYS[0]),
            object_halo=max(2, round(0.05 * size)),
        )

    def radius(self, size_class: str) -> float:
        """Radius in px of ``size_class`` ("small" or "large")."""
        return self.r_small if size_class == "small" else self.r_large
