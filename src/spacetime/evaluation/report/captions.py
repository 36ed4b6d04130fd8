"""Captions for the clips of an evaluation: one text for all, or a manifest matched by path.

A ``captions.jsonl`` file (what ``spacetime shapes`` writes) has lines ``{"file":
"clip_000.mp4", "caption": "..."}``; ``file`` is relative to the manifest's folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from spacetime.data.captions import read_manifest
from spacetime.errors import SpacetimeError

__all__ = ["load_captions", "match_captions"]


def load_captions(path: Path | str) -> dict[Path, str]:
    """Read a captions manifest (``captions.jsonl`` or ``.csv``) into ``{resolved path: caption}``.

    Rows are ``{"file": ..., "caption": ...}`` (see :func:`spacetime.data.captions.read_manifest`);
    ``file`` is relative to the manifest's folder. Rows without a caption are left out.
    """
    entries = read_manifest(path)
    return {e.path.resolve(): e.caption for e in entries if e.caption is not None}


def match_captions(
    videos: Sequence[Path], *, caption: str | None = None, captions_file: Path | str | None = None
) -> list[str | None]:
    """The caption of each video: ``caption`` for all, or looked up in the manifest file.

    A video takes the caption of the row whose path (manifest folder / ``file``) is the video's.
    Failing that, a row whose file *name* is the video's, if the manifest has exactly one such
    row and no video already claimed it by path (so ``eval gen/ real/ --captions
    real/captions.jsonl`` does not give ``gen/clip.mp4`` the caption of ``real/clip.mp4``).
    Videos matched neither way get ``None``.

    Raises:
        SpacetimeError: both ``caption`` and ``captions_file``; an unreadable manifest; a
            name-only match that the manifest makes ambiguous (two rows with that file name).
    """
    if caption is not None and captions_file is not None:
        raise SpacetimeError("--caption and --captions are exclusive: give one text or one file")
    if captions_file is None:
        return [caption] * len(videos)
    table = load_captions(captions_file)
    resolved = [Path(video).resolve() for video in videos]
    claimed = {path for path in resolved if path in table}
    by_name: dict[str, list[Path]] = {}
    for path in table:
        by_name.setdefault(path.name, []).append(path)
    texts: list[str | None] = []
    for video, path in zip(videos, resolved, strict=True):
        if path in table:
            texts.append(table[path])
            continue
        rows = by_name.get(path.name, [])
        if len(rows) > 1:
            raise SpacetimeError(
                f"{captions_file}: {len(rows)} rows are named {path.name!r} "
                f"({', '.join(str(r) for r in rows)}) and none is {video}; give paths in "
                "the manifest relative to its folder so each video has one caption"
            )
        texts.append(table[rows[0]] if rows and rows[0] not in claimed else None)
    return texts
