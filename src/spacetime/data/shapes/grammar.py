"""The ShapesWorld caption grammar: writing captions and parsing them back.

A caption is one to three object clauses joined by " and ", then an optional background::

    caption    := clause (" and " clause)* [" on a " background-word " background"]
    clause     := "a " [size " "] colour " " shape " " motion [" behind a pillar"]
    size       := "small" | "large"
    motion     := "moves left" | "moves right" | "moves up" | "moves down" | "bounces"
                | "stays still"
    background := "striped" | "checkered" | "plain"      (no phrase means plain)

e.g. "a yellow triangle moves left behind a pillar and a green circle stays still".
Parsing is case-insensitive and ignores extra spaces and a final full stop. A parsed caption is
also *consistent*: distinct colours, at most one object behind the pillar and that object moves
left or right (a vertical pillar can only hide horizontal motion).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from spacetime.data.shapes.palette import (
    BACKGROUND_WORD,
    COLORS,
    MAX_OBJECTS,
    MOTIONS,
    SHAPES,
    SIZES,
)
from spacetime.errors import SpacetimeError

PILLAR_PHRASE = "behind a pillar"
PILLAR_MOTIONS = ("moves left", "moves right")

_CLAUSE = re.compile(
    r"^an? (?:(?P<size>{sizes}) )?(?P<color>{colors}) (?P<shape>{shapes}) "
    r"(?P<motion>{motions})(?P<pillar> {pillar})?$".format(
        sizes="|".join(SIZES),
        colors="|".join(COLORS),
        shapes="|".join(SHAPES),
        motions="|".join(re.escape(m) for m in MOTIONS),
        pillar=re.escape(PILLAR_PHRASE),
    )
)
_BACKGROUND = re.compile(
    r"^(?P<body>.*) on an? (?P<word>{words}) background$".format(
        words="|".join(BACKGROUND_WORD.values())
    )
)
_WORD_TO_BACKGROUND = {word: kind for kind, word in BACKGROUND_WORD.items()}


@dataclass(frozen=True)
class ParsedObject:
    """One clause: ``size`` is None when the caption does not say it."""

    color: str
    shape: str
    motion: str
    size: str | None = None
    behind_pillar: bool = False

    @property
    def phrase(self) -> str:
        """The clause, e.g. "a small red circle moves right behind a pillar"."""
        size = f"{self.size} " if self.size else ""
        pillar = f" {PILLAR_PHRASE}" if self.behind_pillar else ""
        return f"a {size}{self.color} {self.shape} {self.motion}{pillar}"


@dataclass(frozen=True)
class ParsedCaption:
    """A caption's objects (in caption order) and background kind (one of ``BACKGROUNDS``)."""

    objects: tuple[ParsedObject, ...]
    background: str = "plain"

    @property
    def has_pillar(self) -> bool:
        """True when one object passes behind a pillar."""
        return any(o.behind_pillar for o in self.objects)

    @property
    def text(self) -> str:
        """The canonical caption text (plain backgrounds say nothing)."""
        return format_caption(self.objects, self.background)


def format_caption(objects: Sequence[ParsedObject], background: str = "plain") -> str:
    """Write the caption of ``objects`` on ``background`` (a kind of ``BACKGROUNDS``)."""
    if background not in BACKGROUND_WORD:
        raise SpacetimeError(
            f"background must be one of {sorted(BACKGROUND_WORD)}, got {background!r}"
        )
    text = " and ".join(o.phrase for o in objects)
    if background != "plain":
        text += f" on a {BACKGROUND_WORD[background]} background"
    return text


def _check_consistent(objects: Sequence[ParsedObject], text: str) -> None:
    colors = [o.color for o in objects]
    if len(set(colors)) != len(colors):
        raise SpacetimeError(
            f"caption {text!r} names a colour twice; objects need distinct colours"
        )
    behind = [o for o in objects if o.behind_pillar]
    if len(behind) > 1:
        raise SpacetimeError(f"caption {text!r}: at most one object can pass behind the pillar")
    if behind and behind[0].motion not in PILLAR_MOTIONS:
        raise SpacetimeError(
            f"caption {text!r}: an object behind the (vertical) pillar must move left or right, "
            f"not {behind[0].motion!r}"
        )


def parse_caption(text: str) -> ParsedCaption:
    """Parse a ShapesWorld caption; :class:`SpacetimeError` if it is not of that form."""
    if not isinstance(text, str):
        raise SpacetimeError(f"a caption must be a string, got {type(text).__name__}")
    norm = " ".join(text.lower().split()).rstrip(".").strip()
    background = "plain"
    match = _BACKGROUND.match(norm)
    if match:
        norm, background = match["body"], _WORD_TO_BACKGROUND[match["word"]]
    clauses = re.split(r" and (?=an? )", norm) if norm else []
    if not 1 <= len(clauses) <= MAX_OBJECTS:
        raise SpacetimeError(
            f"caption {text!r} is not of ShapesWorld form: expected 1 to {MAX_OBJECTS} clauses "
            "like 'a red circle moves right' joined by 'and'"
        )
    objects = []
    for clause in clauses:
        m = _CLAUSE.match(clause)
        if m is None:
            raise SpacetimeError(
                f"caption {text!r} is not of ShapesWorld form: cannot read {clause!r}; expected "
                "'a [small|large] <colour> <shape> <motion> [behind a pillar]' with colour in "
                f"{list(COLORS)}, shape in {list(SHAPES)}, motion in {list(MOTIONS)}"
            )
        objects.append(
            ParsedObject(
                color=m["color"],
                shape=m["shape"],
                motion=m["motion"],
                size=m["size"],
                behind_pillar=m["pillar"] is not None,
            )
        )
    _check_consistent(objects, text)
    return ParsedCaption(objects=tuple(objects), background=background)


def is_shapes_caption(text: str) -> bool:
    """True when ``text`` parses as a (consistent) ShapesWorld caption."""
    try:
        parse_caption(text)
    except SpacetimeError:
        return False
    return True
