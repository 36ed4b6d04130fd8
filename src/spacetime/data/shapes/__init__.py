"""ShapesWorld: deterministic synthetic videos of coloured shapes, with captions and exact
ground truth (positions, radii, visibility, occluder), for training and for the oracle.

>>> from spacetime.data import shapes
>>> clip = shapes.generate(0)                       # video uint8 (16, 64, 64, 3)
>>> clip.caption                                     # doctest: +SKIP
'a small blue square bounces on a striped background'
>>> scene = shapes.scene_from_caption("a red circle moves right behind a pillar", seed=1)
>>> shapes.render(scene).ground_truth["occluder"]    # doctest: +SKIP

Modules: :mod:`.palette` (vocabulary and geometry), :mod:`.grammar` (captions),
:mod:`.scene` (scene data and trajectories), :mod:`.layout` (sensible random scenes),
:mod:`.render` (anti-aliased rendering and the ground-truth schema).
"""

from spacetime.data.shapes.grammar import (
    ParsedCaption,
    ParsedObject,
    format_caption,
    is_shapes_caption,
    parse_caption,
)
from spacetime.data.shapes.layout import sample_scene, scene_from_caption
from spacetime.data.shapes.palette import (
    BACKGROUNDS,
    COLORS,
    MOTIONS,
    SHAPES,
    SIZES,
    vocabulary,
)
from spacetime.data.shapes.render import ShapesClip, generate, render
from spacetime.data.shapes.scene import ObjectSpec, SceneSpec, trajectory

__all__ = [
    "BACKGROUNDS",
    "COLORS",
    "MOTIONS",
    "SHAPES",
    "SIZES",
    "ObjectSpec",
    "ParsedCaption",
    "ParsedObject",
    "SceneSpec",
    "ShapesClip",
    "format_caption",
    "generate",
    "is_shapes_caption",
    "parse_caption",
    "render",
    "sample_scene",
    "scene_from_caption",
    "trajectory",
    "vocabulary",
]
