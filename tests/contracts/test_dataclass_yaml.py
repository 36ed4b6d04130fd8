"""Dataclasses from YAML values and --set strings: type checks, coercion and errors."""

from __future__ import annotations

import pytest

from spacetime.contracts.dataclass_yaml import apply_overrides, parse_set
from spacetime.errors import SpacetimeError
from spacetime.training.config import TrainConfig


def test_set_parses_typed_values() -> None:
    config = apply_overrides(
        TrainConfig(),
        [
            "optim.lr=1e-3",  # YAML 1.1 reads this as a string: must become a float
            "steps=7",
            "model.temporal=false",
            "optim.betas=[0.5, 0.9]",
            "model.overrides.channels=24",
            "masks.probs.none=1.0",
            "data.path=some/dir",
            "masks.max_context=2",
            "masks.strides=[2, 3]",
        ],
    )
    assert config.optim.lr == pytest.approx(1e-3) and isinstance(config.optim.lr, float)
    assert config.steps == 7 and config.model.temporal is False
    assert config.optim.betas == (0.5, 0.9)
    assert config.model.overrides == {"channels": 24}
    assert config.masks.probs["none"] == 1.0 and "first" in config.masks.probs
    assert config.data.path == "some/dir"
    assert config.masks.max_context == 2 and config.masks.strides == (2, 3)
    assert apply_overrides(config, ["masks.max_context=null"]).masks.max_context is None
    # A mapping replaces a dict field; a dotted key sets one entry.
    assert apply_overrides(config, ["masks.probs={first: 2}"]).masks.probs == {"first": 2.0}
    assert apply_overrides(config, ["model.overrides.depth=3"]).model.overrides == {
        "channels": 24,
        "depth": 3,
    }
    assert TrainConfig().model.overrides == {}  # defaults not mutated


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("optim.lrr=1", r"unknown key 'optim.lrr'; valid keys of optim: lr, betas"),
        ("nope=1", r"unknown key 'nope'; valid keys: model, text"),
        ("steps=ten", r"steps expects int, got 'ten'"),
        ("steps=1.5", r"steps expects int"),
        ("model.temporal=3", r"model.temporal expects bool"),
        ("optim.betas=[1]", r"optim.betas expects"),
        ("optim=3", r"optim must be a mapping"),
        ("no-equals-sign", r"expects key=value"),
    ],
)
def test_bad_overrides_raise_naming_the_key(item: str, message: str) -> None:
    with pytest.raises(SpacetimeError, match=message):
        apply_overrides(TrainConfig(), [item])


def test_parse_set_splits_key_and_yaml_value() -> None:
    assert parse_set("a.b= [1, 2]") == ("a.b", [1, 2])
    assert parse_set("x=") == ("x", "")
