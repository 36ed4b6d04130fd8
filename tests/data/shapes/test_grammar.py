"""Writing and parsing ShapesWorld captions."""

from __future__ import annotations

import itertools

import pytest

from spacetime.data.shapes import (
    COLORS,
    MOTIONS,
    SHAPES,
    ParsedCaption,
    ParsedObject,
    format_caption,
    is_shapes_caption,
    parse_caption,
)
from spacetime.errors import SpacetimeError


def test_spec_examples_parse():
    p = parse_caption("a red circle moves right")
    assert p == ParsedCaption((ParsedObject("red", "circle", "moves right"),), "plain")
    p = parse_caption("a small blue square bounces on a striped background")
    assert p.objects[0].size == "small" and p.background == "stripes"
    p = parse_caption("a yellow triangle moves left behind a pillar and a green circle stays still")
    assert [o.color for o in p.objects] == ["yellow", "green"]
    assert p.objects[0].behind_pillar and not p.objects[1].behind_pillar
    assert p.has_pillar


def test_round_trip_over_every_clause():
    for color, shape, motion, size in itertools.product(
        COLORS, SHAPES, MOTIONS, (None, "small", "large")
    ):
        obj = ParsedObject(color, shape, motion, size)
        for bg in ("plain", "stripes", "checkered"):
            text = format_caption([obj], bg)
            assert parse_caption(text) == ParsedCaption((obj,), bg)
            assert parse_caption(text).text == text


def test_three_objects_round_trip_and_normalisation():
    objs = (
        ParsedObject("red", "circle", "moves left", "large", True),
        ParsedObject("cyan", "square", "bounces"),
        ParsedObject("purple", "triangle", "stays still", "small"),
    )
    text = format_caption(objs, "checkered")
    assert parse_caption(text).objects == objs
    assert parse_caption("  A Red circle   MOVES right. ") == parse_caption(
        "a red circle moves right"
    )
    assert parse_caption("a red circle moves right on a plain background").background == "plain"


@pytest.mark.parametrize(
    "text, why",
    [
        ("", "clauses"),
        ("a dog runs", "cannot read"),
        ("a pink circle moves right", "cannot read"),
        ("a red circle moves sideways", "cannot read"),
        ("a red circle moves right and a red square stays still", "colour twice"),
        (
            "a red circle moves right behind a pillar and a blue square moves left behind a pillar",
            "at most one",
        ),
        ("a red circle moves up behind a pillar", "left or right"),
        (" and ".join(f"a {c} circle stays still" for c in list(COLORS)[:4]), "1 to 3 clauses"),
        ("a red circle moves right on a dotted background", "cannot read"),
    ],
)
def test_bad_captions_raise_and_name_the_problem(text, why):
    with pytest.raises(SpacetimeError, match=why):
        parse_caption(text)
    assert not is_shapes_caption(text)


def test_is_shapes_caption_and_non_strings():
    assert is_shapes_caption("a green square stays still")
    with pytest.raises(SpacetimeError, match="string"):
        parse_caption(3)  # type: ignore[arg-type]
    with pytest.raises(SpacetimeError, match="background"):
        format_caption([ParsedObject("red", "circle", "bounces")], "dots")
