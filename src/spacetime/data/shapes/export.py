"""Writing a folder of ShapesWorld clips: mp4 files, captions and ground truth.

Layout of ``out/`` after :func:`write_dataset` (``n`` clips, clip ``i`` from seed ``seed + i``)::

    clip_00000.mp4 ...          H.264 (yuv420p, crf 18) at the scene's fps
    captions.jsonl              {"file": "clip_00000.mp4", "caption": "...", "seed": 0} per line
    ground_truth.jsonl          {"file": "clip_00000.mp4", **ground_truth} per line
                                (schema in :mod:`spacetime.data.shapes.render`)

The same arguments always write the same videos: each clip depends only on its seed.
"""

from __future__ import annotations

import json
from pathlib import Path

from tqdm import tqdm

from spacetime.data.shapes.palette import BACKGROUNDS
from spacetime.data.shapes.render import generate
from spacetime.data.shapes.scene import check_resolution
from spacetime.errors import SpacetimeError

CAPTIONS_FILE = "captions.jsonl"
GROUND_TRUTH_FILE = "ground_truth.jsonl"


def clip_name(index: int, n: int) -> str:
    """File name of clip ``index`` of ``n`` (zero-padded to at least 5 digits)."""
    return f"clip_{index:0{max(5, len(str(n - 1)))}d}.mp4"


def write_dataset(
    out: str | Path,
    n: int,
    *,
    seed: int = 0,
    size: int = 64,
    frames: int = 16,
    fps: float = 8.0,
    n_objects: int | None = None,
    occluder: bool | None = None,
    background: str | None = None,
    progress: bool = True,
) -> list[Path]:
    """Render ``n`` clips (seeds ``seed .. seed + n - 1``) into ``out``; returns the mp4 paths.

    Keyword arguments are those of :func:`spacetime.data.shapes.sample_scene`; ``progress``
    shows a tqdm bar. :class:`SpacetimeError` on a bad count, seed or scene argument, on
    ``frames < 2`` (a one-frame clip has no transition to evaluate), on an odd ``size`` (H.264
    in yuv420p pads odd sides, so the mp4 would not match the ground truth) and on an output
    folder that cannot be written.
    """
    from spacetime.video import write_mp4

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SpacetimeError(f"--n must be an integer >= 1 (clips to write), got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SpacetimeError(f"--seed must be an integer >= 0, got {seed!r}")
    check_resolution(size, frames, fps)
    if frames < 2:
        raise SpacetimeError(
            f"--frames must be >= 2 for an exported dataset (eval needs a transition), got {frames}"
        )
    if size % 2:
        raise SpacetimeError(
            f"--size must be even for mp4 export (yuv420p stores 2x2 chroma blocks, so an odd "
            f"side is padded and the video would not match its ground truth), got {size}"
        )
    if background is not None and background not in BACKGROUNDS:
        raise SpacetimeError(f"--background must be one of {list(BACKGROUNDS)}, got {background!r}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SpacetimeError(f"--out {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        captions = (out / CAPTIONS_FILE).open("w", encoding="utf-8")
    except OSError as err:
        raise SpacetimeError(f"--out {out}: cannot write there ({err.strerror or err})") from err
    paths = []
    with captions, (out / GROUND_TRUTH_FILE).open("w", encoding="utf-8") as truth:
        for i in tqdm(range(n), desc="shapes", unit="clip", disable=not progress):
            clip = generate(
                seed + i,
                size=size,
                frames=frames,
                fps=fps,
                n_objects=n_objects,
                occluder=occluder,
                background=background,
            )
            name = clip_name(i, n)
            paths.append(write_mp4(out / name, clip.video, clip.fps))
            captions.write(json.dumps({"file": name, "caption": clip.caption, "seed": seed + i}))
            captions.write("\n")
            truth.write(json.dumps({"file": name, **clip.ground_truth}) + "\n")
    return paths
