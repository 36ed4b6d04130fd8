"""Typed dataclass configs from YAML mappings and ``--set key.sub=value`` strings.

The generic half of config resolution, shared by :class:`~spacetime.training.config.
TrainConfig` and the autoencoder's :class:`~spacetime.training.autoencoder_config.
AutoencoderTrainConfig`: a (partial) nested mapping is merged over a dataclass instance key by
key, every value checked against (and, for numbers, converted to) the field's annotated type.
Nested dataclass fields merge recursively; dict-valued fields are replaced as a whole by a
mapping, or one entry at a time with a dotted key (``model.overrides.depth=4``).

Unknown keys and badly typed values raise :class:`SpacetimeError` naming the key and listing
the valid ones.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from spacetime.errors import SpacetimeError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = [
    "apply_overrides",
    "dataclass_to_dict",
    "merge",
    "parse_set",
    "read_yaml",
]

C = TypeVar("C")


def read_yaml(path: Path | Traversable) -> dict[str, Any]:
    """The mapping in the YAML file ``path`` (``{}`` for an empty file; a file of the package
    read through :mod:`importlib.resources` is a ``Traversable``)."""
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as err:
        raise SpacetimeError(f"cannot read config file {path}: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise SpacetimeError(f"config file {path} is not valid YAML: {err}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SpacetimeError(f"config file {path} must hold a mapping of keys, got {data!r}")
    return data


def dataclass_to_dict(config: Any) -> dict[str, Any]:
    """A plain nested dict of a dataclass (tuples as lists), ready for YAML / JSON."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, (tuple, list)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(config)


def parse_set(item: str) -> tuple[str, Any]:
    """Split ``"key.sub=value"`` into the key and the value parsed as a YAML scalar."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SpacetimeError(f"--set expects key=value (e.g. optim.lr=1e-4), got {item!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as err:
        raise SpacetimeError(f"--set {key}: cannot parse value {raw!r}: {err}") from err
    return key, value


def apply_overrides(config: C, items: list[str]) -> C:
    """Apply ``key.sub=value`` strings in order to dataclass ``config``; returns a new one.

    A mapping value replaces a dict field (``masks.probs={none: 1.0}``); a key below a dict
    field sets one entry and keeps the others (``model.overrides.depth=4``).
    """
    for item in items:
        key, value = parse_set(item)
        config = _set_path(config, key.split("."), value, source=f"--set {item}")
    return config


def _set_path(base: Any, parts: list[str], value: Any, *, source: str, prefix: str = "") -> Any:
    """A copy of dataclass ``base`` with the dotted path ``parts`` set to ``value``."""
    head, rest = parts[0], parts[1:]
    current = getattr(base, head, None) if head in typing.get_type_hints(type(base)) else None
    if rest and dataclasses.is_dataclass(current):
        inner = _set_path(current, rest, value, source=source, prefix=f"{prefix}{head}.")
        return dataclasses.replace(base, **{head: inner})
    if rest and isinstance(current, dict) and len(rest) == 1:
        entries = {**current, rest[0]: value}
        return merge(base, {head: entries}, source=source, prefix=prefix)
    nested: Any = value
    for part in reversed(rest):
        nested = {part: nested}
    return merge(base, {head: nested}, source=source, prefix=prefix)


def merge(base: C, data: dict[str, Any], *, source: str, prefix: str = "") -> C:
    """A copy of dataclass ``base`` with the fields in ``data`` replaced (recursively).

    ``source`` (a file name, ``--set ...``) and ``prefix`` (the dotted path of ``base``) only
    name the culprit in errors.
    """
    if not isinstance(data, dict):
        raise SpacetimeError(
            f"{source}: {prefix.rstrip('.') or 'config'} must be a mapping, got {data!r}"
        )
    hints = typing.get_type_hints(type(base))
    names = [f.name for f in dataclasses.fields(base)]
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key not in hints:
            raise SpacetimeError(
                f"{source}: unknown key {prefix + str(key)!r}; valid keys"
                f"{' of ' + prefix.rstrip('.') if prefix else ''}: {', '.join(names)}"
            )
        current = getattr(base, key)
        if dataclasses.is_dataclass(current):
            changes[key] = merge(current, value, source=source, prefix=f"{prefix}{key}.")
        else:  # a mapping replaces a dict field as a whole
            changes[key] = _coerce(value, hints[key], prefix + key, source)
    return dataclasses.replace(base, **changes)


def _coerce(value: Any, tp: Any, key: str, source: str) -> Any:
    """``value`` checked against (and, for numbers, converted to) the annotated type ``tp``."""

    def fail() -> typing.NoReturn:
        name = getattr(tp, "__name__", str(tp))
        raise SpacetimeError(f"{source}: {key} expects {name}, got {value!r}")

    if tp is Any:
        _check_finite(value, key, source)
        return value
    origin = typing.get_origin(tp)
    if origin is tuple and typing.get_args(tp)[1:] == (Ellipsis,):
        if not isinstance(value, (list, tuple)):
            fail()
        item = typing.get_args(tp)[0]
        return tuple(_coerce(v, item, f"{key}[{i}]", source) for i, v in enumerate(value))
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            fail()
        return tuple(
            _coerce(v, a, f"{key}[{i}]", source)
            for i, (v, a) in enumerate(zip(value, args, strict=True))
        )
    if origin is list:
        if not isinstance(value, (list, tuple)):
            fail()
        item = typing.get_args(tp)[0]
        return [_coerce(v, item, f"{key}[{i}]", source) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            fail()
        return {
            str(k): _coerce(v, typing.get_args(tp)[1], f"{key}.{k}", source)
            for k, v in value.items()
        }
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None and len(args) < len(typing.get_args(tp)):
            return None
        if len(args) != 1:
            fail()
        return _coerce(value, args[0], key, source)
    if tp is bool:
        if not isinstance(value, bool):
            fail()
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            fail()
        return value
    if tp is float:
        if isinstance(value, str):  # YAML 1.1 reads "1e-4" as a string
            try:
                number = float(value)
            except ValueError:
                fail()
            _check_finite(number, key, source)
            return number
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fail()
        _check_finite(value, key, source)
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            fail()
        return value
    fail()


def _check_finite(value: Any, key: str, source: str) -> None:
    """Refuse NaN and infinities anywhere in ``value`` (a number, list or mapping): no
    setting of a run means "not a number", and a NaN passes every range check."""
    if isinstance(value, float) and not math.isfinite(value):
        raise SpacetimeError(f"{source}: {key} must be a finite number, got {value!r}")
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_finite(item, f"{key}[{i}]", source)
    elif isinstance(value, dict):
        for name, item in value.items():
            _check_finite(item, f"{key}.{name}", source)
