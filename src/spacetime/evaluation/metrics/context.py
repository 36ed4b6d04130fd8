"""The analysis copy of a clip that every metric shares: resized frames, flow, tracks.

Metrics never touch the caller's frames: :class:`AnalysisClip` resizes them once so that the
longer side is ``analysis_size`` pixels (area interpolation; never upscaled), and caches the
grayscale copy, the edge maps, the DIS flow pairs (:class:`~spacetime.evaluation.flow.VideoFlow`)
and the point tracks, so each is computed at most once however many metrics are asked for.

Units shared by the metrics, chosen so that values compare across resolutions:

- intensities in **8-bit levels** (0..255), whatever the analysis size;
- displacements in **percent of the image diagonal** (``%diag``): 1 px of a 256x256 analysis
  frame is ``100 / 362 = 0.276 %diag``.
"""

from __future__ import annotations

import cv2
import numpy as np

from spacetime.contracts.frames import check_frames
from spacetime.errors import SpacetimeError
from spacetime.evaluation.flow import VideoFlow


def sobel_magnitude(gray: np.ndarray) -> np.ndarray:
    """``(T, h, w)`` float32 Sobel gradient magnitude of ``(T, h, w)`` gray frames, in levels
    per pixel (the 3x3 Sobel kernels scaled by 1/8, so a ramp of slope k gives k)."""
    out = np.empty_like(gray)
    for t, frame in enumerate(gray):
        gx = cv2.Sobel(frame, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
        gy = cv2.Sobel(frame, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
        # numpy, not cv2.magnitude: OpenCV's result changes in the last bit with the memory
        # alignment of its inputs, and the report must not depend on where arrays land.
        out[t] = np.sqrt(gx * gx + gy * gy)
    return out


MIN_SIDE = 16
"""Smallest frame side the analysis accepts (DIS needs a few pyramid levels of its patches)."""


def check_clip(frames: np.ndarray) -> np.ndarray:
    """``frames`` if they are a clip the metrics can measure: uint8 ``(T, H, W, 3)`` with
    ``T >= 2`` and sides of at least :data:`MIN_SIDE` pixels; else a
    :class:`~spacetime.errors.VideoError` (:func:`~spacetime.contracts.frames.check_frames`)."""
    return check_frames(frames, min_frames=2, min_side=MIN_SIDE, needs="temporal metrics")


def analysis_shape(height: int, width: int, analysis_size: int | None) -> tuple[int, int]:
    """``(h, w)`` with the longer side scaled down to ``analysis_size`` (None: unchanged),
    keeping the aspect ratio, never upscaling, and the shorter side at least ``MIN_SIDE``."""
    if analysis_size is None or max(height, width) <= analysis_size:
        return height, width
    scale = max(analysis_size / max(height, width), MIN_SIDE / min(height, width))
    if scale >= 1.0:
        return height, width
    return max(MIN_SIDE, round(height * scale)), max(MIN_SIDE, round(width * scale))


class AnalysisClip:
    """A clip prepared for the metrics.

    Args:
        frames: ``(T, H, W, 3)`` uint8 RGB, ``T >= 2``.
        analysis_size: longer side of the analysis copy in pixels (None: native size). 256
            keeps 720p clips fast while preserving the motion the metrics look at.
        flow_preset: DIS preset (see :data:`spacetime.evaluation.flow.PRESETS`).
    """

    def __init__(
        self, frames: np.ndarray, analysis_size: int | None = 256, flow_preset: str = "ultrafast"
    ) -> None:
        frames = check_clip(frames)
        if analysis_size is not None and analysis_size < 16:
            raise SpacetimeError(f"analysis_size must be >= 16 pixels or None, got {analysis_size}")
        height, width = analysis_shape(frames.shape[1], frames.shape[2], analysis_size)
        if (height, width) != frames.shape[1:3]:
            frames = np.stack(
                [cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA) for f in frames]
            )
        self.rgb = np.ascontiguousarray(frames)  # (T, h, w, 3) uint8
        self.gray_u8 = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in self.rgb])
        self.gray = self.gray_u8.astype(np.float32)  # (T, h, w) in 8-bit levels
        self.edges = sobel_magnitude(self.gray)
        # The flow pass also motion-compensates the gray levels and edges (FlowPair.compensated).
        self.flow = VideoFlow(
            self.gray_u8, flow_preset, payload=np.stack([self.gray, self.edges], -1)
        )
        self.diagonal = float(np.hypot(height, width))  # pixels of the analysis frame

    @property
    def num_frames(self) -> int:
        return self.rgb.shape[0]

    @property
    def num_transitions(self) -> int:
        return self.rgb.shape[0] - 1

    def to_percent_diag(self, pixels: np.ndarray | float) -> np.ndarray | float:
        """Convert a length in analysis pixels to percent of the image diagonal."""
        return pixels * (100.0 / self.diagonal)
