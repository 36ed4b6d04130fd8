"""Find the media files of a dataset folder and their captions.

Two ways to caption a folder, checked in this order:

1. A **manifest**: a JSON-lines or CSV file with one row per file, columns ``file`` (path
   relative to the manifest's folder; Hugging Face's ``file_name`` is accepted too) and
   ``caption`` (or ``text``). Pass it explicitly, or name it ``metadata.jsonl`` /
   ``metadata.csv`` at the root of the folder (the 🤗 ``datasets`` "folder" convention) and it is
   found on its own. Only the files listed are used.
2. **Sidecars**: every media file under the folder (recursively, sorted by path) with the caption
   in a ``.txt`` of the same stem beside it (``clips/dog.mp4`` -> ``clips/dog.txt``). A file with
   no sidecar gets the empty caption, which trains the unconditional branch of classifier-free
   guidance; the dataset warns once with their count.
"""

from __future__ import annotations

import csv
import json
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from spacetime.errors import SpacetimeError, SpacetimeWarning

MANIFEST_NAMES: tuple[str, ...] = ("metadata.jsonl", "metadata.csv")
_FILE_KEYS = ("file", "file_name")
_CAPTION_KEYS = ("caption", "text")


@dataclass(frozen=True)
class CaptionedFile:
    """One dataset entry: a media file and its caption (``None`` when it has none)."""

    path: Path
    caption: str | None


def _row_entry(row: dict[str, object], where: str, base: Path) -> CaptionedFile:
    file = next((row[k] for k in _FILE_KEYS if row.get(k) not in (None, "")), None)
    if file is None:
        raise SpacetimeError(f"{where}: a row needs a 'file' column naming the media file")
    caption = next((row[k] for k in _CAPTION_KEYS if row.get(k) is not None), None)
    return CaptionedFile(base / str(file), None if caption is None else str(caption).strip())


def _not_utf8(path: Path, err: UnicodeDecodeError) -> SpacetimeError:
    """The error for a caption file that is not UTF-8, naming the file and the bad byte."""
    byte = err.object[err.start]
    return SpacetimeError(
        f"{path}: not UTF-8 text (byte {byte:#04x} at offset {err.start}); save it as UTF-8"
    )


def _read_rows(path: Path, base: Path) -> list[CaptionedFile]:
    """The rows of a ``.jsonl`` / ``.csv`` manifest (UnicodeDecodeError passes through)."""
    entries: list[CaptionedFile] = []
    if path.suffix.lower() == ".jsonl":
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise SpacetimeError(f"{path}:{line_no}: not valid JSON ({err.msg})") from None
            if not isinstance(row, dict):
                raise SpacetimeError(f"{path}:{line_no}: expected a JSON object per line")
            entries.append(_row_entry(row, f"{path}:{line_no}", base))
    elif path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not set(_FILE_KEYS) & set(reader.fieldnames):
                raise SpacetimeError(
                    f"{path}: the CSV header must have a 'file' and a 'caption' column; "
                    f"got {reader.fieldnames}"
                )
            for line_no, row in enumerate(reader, 2):
                entries.append(_row_entry(row, f"{path}:{line_no}", base))
    else:
        raise SpacetimeError(f"manifest {path} must be a .jsonl or .csv file")
    return entries


def read_manifest(path: str | Path) -> list[CaptionedFile]:
    """Entries of a ``.jsonl`` or ``.csv`` manifest; file paths are relative to its folder."""
    path = Path(path)
    if not path.is_file():
        raise SpacetimeError(f"manifest {path} does not exist")
    base = path.parent
    try:
        entries = _read_rows(path, base)
    except UnicodeDecodeError as err:
        raise _not_utf8(path, err) from None
    if not entries:
        raise SpacetimeError(f"manifest {path} lists no files")
    return entries


def find_manifest(root: Path) -> Path | None:
    """The manifest found at the root of ``root`` by its conventional name, if any."""
    return next((root / n for n in MANIFEST_NAMES if (root / n).is_file()), None)


def list_captioned(
    root: str | Path, extensions: Iterable[str], *, manifest: str | Path | None = None
) -> list[CaptionedFile]:
    """The captioned media files of ``root`` (see the module docstring for the rules).

    ``extensions`` are lower-case suffixes with the dot (``".mp4"``). Raises
    :class:`SpacetimeError` when ``root`` is not a folder or holds no such file.
    """
    root = Path(root)
    if not root.is_dir():
        raise SpacetimeError(f"dataset folder {root} does not exist or is not a folder")
    manifest = Path(manifest) if manifest is not None else find_manifest(root)
    if manifest is not None:
        return read_manifest(manifest)
    suffixes = {e.lower() for e in extensions}
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in suffixes and p.is_file())
    if not files:
        raise SpacetimeError(
            f"dataset folder {root} has no files ending in {', '.join(sorted(suffixes))} "
            f"and no {' or '.join(MANIFEST_NAMES)} manifest"
        )
    entries = []
    for file in files:
        sidecar = file.with_suffix(".txt")
        try:
            caption = sidecar.read_text(encoding="utf-8").strip() if sidecar.is_file() else None
        except UnicodeDecodeError as err:
            raise _not_utf8(sidecar, err) from None
        entries.append(CaptionedFile(file, caption))
    return entries


def warn_skipped(what: str, paths: list[Path], why: str) -> None:
    """One warning for all the files a dataset drops: how many, why, and (up to 10) which."""
    if paths:
        names = ", ".join(str(p) for p in paths[:10]) + (" ..." if len(paths) > 10 else "")
        warnings.warn(
            f"skipping {len(paths)} {what} ({why}): {names}", SpacetimeWarning, stacklevel=3
        )


def warn_uncaptioned(missing: int, total: int, root: Path) -> None:
    """One warning counting the ``missing`` of ``total`` kept files with no caption."""
    if missing:
        warnings.warn(
            f"{missing} of {total} files under {root} have no caption; they train the "
            "unconditional (empty prompt) branch",
            SpacetimeWarning,
            stacklevel=3,
        )
