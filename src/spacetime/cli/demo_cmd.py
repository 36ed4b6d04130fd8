"""`spacetime demo`: the evaluation half end to end, in seconds, with no model and no download.

It renders a few ShapesWorld clips (an occlusion, a bounce, three objects at once), writes
each as mp4 and gif, breaks a copy of one on purpose (a square region that teleports for one
frame, plus brightness flicker, from :mod:`spacetime.evaluation.corruptions`), then reads the
mp4 files back and scores them with the coherence metrics and the ShapesWorld oracle. The
corrupted clip should stand out in the table, in ``report.json`` and in ``report.html``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from spacetime.evaluation.report import VideoReport

DEMO_CAPTIONS: tuple[tuple[str, str], ...] = (
    ("occlusion", "a red circle moves right behind a pillar on a striped background"),
    ("bounce", "a large blue square bounces on a checkered background"),
    (
        "three_objects",
        "a yellow triangle moves left and a green circle moves down and a purple square "
        "stays still",
    ),
)
"""(name, caption) of each clean demo clip."""

CORRUPTED_SOURCE = "bounce"
"""The clean clip that is copied and corrupted (teleport + flicker at full strength)."""


@dataclass
class DemoResult:
    """Where :func:`run_demo` put things: one mp4 and one gif per clip, captions, reports."""

    out: Path
    videos: list[Path]
    gifs: list[Path]
    captions: Path
    report_json: Path
    report_html: Path
    reports: list[VideoReport]


def run_demo(
    out: Path, *, size: int = 64, frames: int = 16, fps: float = 8.0, seed: int = 0
) -> DemoResult:
    """Render, corrupt, write and evaluate the demo clips under ``out`` (see module docstring).

    ``size`` is the frame side in px (32..256), ``frames`` the clip length, ``fps`` the frame
    rate, ``seed`` fixes the scenes' geometry (same seed, same files).
    """
    from spacetime.data import shapes
    from spacetime.evaluation import corruptions
    from spacetime.evaluation.report import (
        EvalRun,
        eval_html,
        evaluate_videos,
        write_html,
        write_report,
    )
    from spacetime.video import write_gif, write_mp4

    clips_dir = out / "clips"
    clips_dir.mkdir(parents=True, exist_ok=True)
    named = []
    for index, (name, caption) in enumerate(DEMO_CAPTIONS):
        scene = shapes.scene_from_caption(caption, seed + index, size=size, frames=frames, fps=fps)
        named.append((name, shapes.render(scene)))
    source = dict(named)[CORRUPTED_SOURCE]
    broken = corruptions.flicker(corruptions.teleport(source.video, 1.0, seed=seed), 1.0, seed=seed)
    entries = [
        (f"{i + 1:02d}_{name}", clip.video, clip.caption) for i, (name, clip) in enumerate(named)
    ]
    entries.append((f"{len(entries) + 1:02d}_{CORRUPTED_SOURCE}_corrupted", broken, source.caption))

    videos, gifs = [], []
    for stem, video, _ in entries:
        videos.append(write_mp4(clips_dir / f"{stem}.mp4", video, fps))
        gifs.append(write_gif(clips_dir / f"{stem}.gif", video, fps))
    captions = clips_dir / "captions.jsonl"
    lines = [json.dumps({"file": f"{stem}.mp4", "caption": text}) for stem, _, text in entries]
    captions.write_text("\n".join(lines) + "\n", encoding="utf-8")

    # Score what was written (decoded back from the mp4 files), as `spacetime eval` would.
    reports = evaluate_videos(
        videos, captions=[text for _, _, text in entries], with_strip=True, desc="demo"
    )
    report_json = write_report(out / "report.json", EvalRun(reports))
    report_html = write_html(out / "report.html", eval_html(reports, title="spacetime demo"))
    return DemoResult(out, videos, gifs, captions, report_json, report_html, reports)


def demo_command(
    out: Path = typer.Option(Path("demo_out"), "--out", help="Folder for the clips and reports."),
    size: int = typer.Option(64, "--size", help="Frame side in pixels (32..256)."),
    frames: int = typer.Option(16, "--frames", help="Frames per clip."),
    seed: int = typer.Option(0, "--seed", help="Seed of the scenes' geometry."),
) -> None:
    """Render ShapesWorld clips, corrupt one, and write an evaluation report (no model needed)."""
    from spacetime.evaluation.report import eval_tables, print_tables

    result = run_demo(out, size=size, frames=frames, seed=seed)
    print_tables(eval_tables(result.reports))
    typer.echo(f"clips (mp4 + gif): {result.out / 'clips'} ({len(result.videos)} each)")
    typer.echo(f"captions:          {result.captions}")
    typer.echo(f"JSON report:       {result.report_json}")
    typer.echo(f"HTML report:       {result.report_html}")
    typer.echo(
        f"the clip {result.videos[-1].name} was corrupted on purpose (teleport + flicker); "
        "see how it stands out. Score your own videos with: spacetime eval VIDEO_OR_DIR --html "
        "report.html"
    )


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo_command)
