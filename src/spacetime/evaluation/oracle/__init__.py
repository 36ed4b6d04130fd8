"""The ShapesWorld oracle: exact scoring of any video against a ShapesWorld caption.

>>> from spacetime.data import shapes
>>> from spacetime.evaluation.oracle import score_video
>>> clip = shapes.generate(3)
>>> report = score_video(clip.video, clip.caption)
>>> report.adherence, report.teleport_rate                 # doctest: +SKIP
(1.0, 0.0)

Modules: :mod:`.thresholds` (tolerances from the world's geometry), :mod:`.segment` (colour
segmentation, shape and size, the pillar), :mod:`.track` (linking, motion, teleports, physics),
:mod:`.background` (stability and pattern of the static background), :mod:`.score` (matching
to the caption, the scores, :class:`OracleReport`).
"""

from spacetime.evaluation.oracle.background import background_stability, classify_background
from spacetime.evaluation.oracle.score import (
    ObjectReport,
    OracleReport,
    Reappearance,
    score_video,
)
from spacetime.evaluation.oracle.segment import Detection, detect, find_pillar, palette_labels
from spacetime.evaluation.oracle.thresholds import Thresholds
from spacetime.evaluation.oracle.track import Track, classify_motion, link

__all__ = [
    "Detection",
    "ObjectReport",
    "OracleReport",
    "Reappearance",
    "Thresholds",
    "Track",
    "background_stability",
    "classify_background",
    "classify_motion",
    "detect",
    "find_pillar",
    "link",
    "palette_labels",
    "score_video",
]
