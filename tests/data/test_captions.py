"""Tests for spacetime.data.captions: sidecars, JSONL/CSV manifests and bad inputs."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from spacetime.data.captions import (
    list_captioned,
    read_manifest,
    warn_skipped,
    warn_uncaptioned,
)
from spacetime.errors import SpacetimeError


def _touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_sidecars_are_found_recursively_in_sorted_order(tmp_path: Path) -> None:
    _touch(tmp_path / "b.mp4")
    _touch(tmp_path / "b.txt", "  a box moves left \n")
    _touch(tmp_path / "sub" / "a.MP4")
    _touch(tmp_path / "notes.md")
    entries = list_captioned(tmp_path, [".mp4"])
    assert [e.path.relative_to(tmp_path).as_posix() for e in entries] == ["b.mp4", "sub/a.MP4"]
    assert [e.caption for e in entries] == ["a box moves left", None]


def test_jsonl_manifest_is_found_by_name_and_wins_over_sidecars(tmp_path: Path) -> None:
    _touch(tmp_path / "x.mp4")
    _touch(tmp_path / "x.txt", "sidecar")
    _touch(
        tmp_path / "metadata.jsonl",
        '{"file": "x.mp4", "caption": "from manifest"}\n\n{"file_name": "y.mp4", "text": "y"}\n',
    )
    entries = list_captioned(tmp_path, [".mp4"])
    assert [(e.path, e.caption) for e in entries] == [
        (tmp_path / "x.mp4", "from manifest"),
        (tmp_path / "y.mp4", "y"),
    ]


def test_csv_manifest_with_quoted_commas(tmp_path: Path) -> None:
    manifest = _touch(tmp_path / "clips.csv", 'file,caption\na.mp4,"a ball, then a box"\nb.mp4,\n')
    entries = list_captioned(tmp_path, [".mp4"], manifest=manifest)
    assert [e.caption for e in entries] == ["a ball, then a box", ""]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.jsonl", '{"file": "a.mp4"}\n{not json\n', r"m.jsonl:2: not valid JSON"),
        ("m.jsonl", '["a.mp4"]\n', "JSON object"),
        ("m.jsonl", '{"caption": "no file"}\n', r"m.jsonl:1: a row needs a 'file'"),
        ("m.jsonl", "\n", "lists no files"),
        ("m.csv", "path,caption\na.mp4,x\n", "'file' and a 'caption' column"),
        ("m.txt", "a.mp4\n", r"\.jsonl or \.csv"),
    ],
)
def test_bad_manifests_are_user_errors(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(SpacetimeError, match=message):
        read_manifest(_touch(tmp_path / name, text))


def test_missing_or_empty_folders_name_the_folder(tmp_path: Path) -> None:
    with pytest.raises(SpacetimeError, match="does not exist"):
        list_captioned(tmp_path / "nope", [".mp4"])
    with pytest.raises(SpacetimeError, match=rf"{tmp_path.name} has no files ending in \.mp4"):
        list_captioned(tmp_path, [".mp4"])
    with pytest.raises(SpacetimeError, match="does not exist"):
        read_manifest(tmp_path / "missing.jsonl")


def test_warnings_count_and_name_files(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_skipped("unreadable videos", [tmp_path / "a.mp4", tmp_path / "b.mp4"], "broken")
        warn_skipped("unreadable videos", [], "nothing")
        warn_uncaptioned(1, 1, tmp_path)
        warn_uncaptioned(0, 1, tmp_path)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2
    assert "skipping 2 unreadable videos (broken)" in messages[0] and "b.mp4" in messages[0]
    assert messages[1].startswith("1 of 1 files")


@pytest.mark.parametrize("name", ["captions.jsonl", "captions.csv"])
def test_non_utf8_manifest_is_a_user_error(tmp_path: Path, name: str) -> None:
    header = b"file,caption\n" if name.endswith(".csv") else b""
    row = (
        b'{"file": "a.mp4", "caption": "caf\xe9"}\n'
        if name.endswith(".jsonl")
        else b"a.mp4,caf\xe9\n"
    )
    (tmp_path / name).write_bytes(header + row)  # Latin-1 e-acute
    with pytest.raises(SpacetimeError, match=r"captions\.\w+: not UTF-8 text \(byte 0xe9"):
        read_manifest(tmp_path / name)


def test_non_utf8_sidecar_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "a.mp4").write_bytes(b"")
    (tmp_path / "a.txt").write_bytes(b"caf\xe9")
    with pytest.raises(SpacetimeError, match=r"a\.txt: not UTF-8 text"):
        list_captioned(tmp_path, [".mp4"])
