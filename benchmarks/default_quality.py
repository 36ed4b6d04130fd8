"""Quality of a text->video model on held-out ShapesWorld scenes, scored by the exact oracle.

For ``--n`` held-out scenes (scene seeds 10,000,000 onward: training's ``ShapesDataset``
seeds are 63-bit hashes, so these scenes were never trained on; see
:mod:`spacetime.pipelines.shapes_eval`) the script generates one clip per caption with the
model (text only), with the per-frame baseline if ``--baseline`` is given, and with the same
model given the ground truth's first frame (image->video) and its first and last frames
(interpolation). Every clip, and the ground truth itself as a reference, is scored with the
ShapesWorld oracle (adherence, teleport rate, identity consistency, occlusion reappearance over
the clips with a pillar, physics, background stability) and the coherence metrics (means).

It prints one markdown table (metric by metric, with the targets adherence >= 90%, teleport
<= 1%, identity >= 0.95, occlusion reappearance >= 80%) and writes ``OUT/quality.json``,
``OUT/quality.md`` and ``OUT/samples.png`` (generated vs ground-truth strips)::

    .venv/bin/python benchmarks/default_quality.py \\
        --checkpoint src/spacetime/assets/default_model --baseline runs/baseline \\
        --n 200 --out bench_out/quality

Each column is kept in ``OUT/columns/`` (its summary and first clips, keyed by the settings and
a digest of the weights), so a rerun with the same settings reuses it: an interrupted run
continues, and ``--only`` splits the columns over processes, e.g. ``--only model,image`` and
``--only baseline,interpolation`` side by side, then a plain run assembles the table.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

import spacetime
from _common import run_main
from spacetime.errors import SpacetimeError
from spacetime.pipelines import VideoPipeline
from spacetime.pipelines.run_folder import pipeline_folder
from spacetime.pipelines.shapes_eval import (
    ATTRIBUTES,
    HELD_OUT_SEED,
    ORACLE_SCORES,
    TARGETS,
    ShapesTask,
    generate_tasks,
    held_out_tasks,
    meets_target,
    score_clips,
    summarize,
)

TRUTH = "ground truth"
COLUMNS = {  # --only key -> table column
    "truth": TRUTH,
    "model": "model",
    "baseline": "baseline",
    "image": "model image→video",
    "interpolation": "model interpolation",
}
SAMPLE_ROWS = 4  # held-out clips drawn in samples.png
STRIP_FRAMES = 8  # frames per strip in samples.png


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, required=True, help="pipeline or run folder")
    parser.add_argument("--baseline", type=Path, help="per-frame baseline pipeline or run folder")
    parser.add_argument("--n", type=int, default=200, help="held-out clips (default 200)")
    parser.add_argument("--out", type=Path, default=Path("bench_out/quality"), help="folder")
    parser.add_argument("--steps", type=int, default=25, help="sampler steps")
    parser.add_argument("--guidance", type=float, default=5.0, help="guidance scale")
    parser.add_argument("--sampler", default="ddim", help="sampler name")
    parser.add_argument("--batch-size", type=int, default=50, help="clips per sampler call")
    parser.add_argument("--device", default="auto", help="auto (cuda if available), cpu, cuda")
    parser.add_argument(
        "--analysis-size", type=int, default=256, help="side (px) the metrics analyse at"
    )
    parser.add_argument("--first-seed", type=int, default=HELD_OUT_SEED, help="first scene seed")
    parser.add_argument(
        "--only",
        help=f"comma-separated columns to compute ({', '.join(COLUMNS)}); the others are "
        "taken from OUT/columns/ when saved there with the same settings, else left out "
        "(the ground truth is always scored)",
    )
    return parser.parse_args(argv)


def parse_only(text: str | None) -> set[str] | None:
    """The ``--only`` keys as a set (None: compute every column)."""
    if text is None:
        return None
    keys = {k.strip() for k in text.split(",") if k.strip()}
    unknown = sorted(keys - set(COLUMNS))
    if unknown or not keys:
        raise SpacetimeError(
            f"--only {text!r}: unknown column {', '.join(unknown) or '(none given)'}; "
            f"expected a comma-separated subset of {', '.join(COLUMNS)}"
        )
    return keys


def weights_digest(folder: Path) -> str:
    """SHA-256 of a pipeline folder's safetensors files (names and bytes)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.safetensors")):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class ColumnStore:
    """Computed columns in ``root``: ``KEY.json`` (the summary, seconds and the settings it was
    made with) and ``KEY.npz`` (its first clips, for samples.png)."""

    def __init__(self, root: Path, settings: dict[str, Any]) -> None:
        self.root, self.settings = root, settings

    def load(self, key: str, source: str | None) -> tuple[dict[str, Any], np.ndarray] | None:
        """The saved column ``key`` if it was made with these settings from ``source``."""
        meta = self.root / f"{key}.json"
        if not meta.is_file():
            return None
        saved = json.loads(meta.read_text(encoding="utf-8"))
        if saved.get("settings") != self.settings or saved.get("source") != source:
            return None
        with np.load(self.root / f"{key}.npz") as clips:
            return saved, clips["clips"]

    def save(
        self, key: str, source: str | None, summary: dict[str, Any], seconds: float, clips: Any
    ) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(self.root / f"{key}.npz", clips=np.asarray(clips[:SAMPLE_ROWS]))
        entry = {"settings": self.settings, "source": source, "summary": summary}
        entry["seconds"] = seconds
        tmp = self.root / f".{key}.json.tmp"  # the JSON marks the column done: write it last
        tmp.write_text(json.dumps(entry, indent=2) + "\n", "utf-8")
        tmp.replace(self.root / f"{key}.json")


def pick_device(name: str) -> torch.device:
    """``auto``: CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def load(path: Path, device: torch.device) -> tuple[VideoPipeline, Path]:
    """The pipeline of a pipeline folder or training run folder, on ``device``."""
    folder = pipeline_folder(path)
    return VideoPipeline.from_pretrained(folder, device=device), folder


def format_cell(name: str, value: float | None) -> str:
    """A value as shown in the table: rates as percentages, with a target mark."""
    if value is None:
        return "–"
    percent = name in ("adherence", "teleport_rate", "occlusion_reappearance", "physics")
    text = f"{100 * value:.1f}%" if percent else f"{value:.3g}"
    ok = meets_target(name, value)
    return text if ok is None else f"{text} {'✓' if ok else '✗'}"


def target_text(name: str) -> str:
    if name not in TARGETS:
        return ""
    op, threshold = TARGETS[name]
    percent = name != "identity_consistency"
    return f"{'≥' if op == '>=' else '≤'} " + (
        f"{100 * threshold:g}%" if percent else f"{threshold:g}"
    )


def markdown_table(results: dict[str, dict[str, Any]]) -> str:
    """One row per score (oracle first, then coherence-metric means), one column per run."""
    columns = list(results)
    names = [*ORACLE_SCORES] + [k for k in results[columns[0]] if k.startswith("metric/")]
    lines = [
        "| score | target | " + " | ".join(columns) + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    for name in names:
        cells = [format_cell(name, results[c].get(name)) for c in columns]
        label = name.removeprefix("metric/") + (" (mean)" if name.startswith("metric/") else "")
        lines.append(f"| {label} | {target_text(name)} | " + " | ".join(cells) + " |")
    counts = [f"{results[c]['clips']} ({results[c].get('pillar_clips', 0)})" for c in columns]
    lines.append("| clips (with a pillar) | | " + " | ".join(counts) + " |")
    return "\n".join(lines)


def attribute_table(results: dict[str, dict[str, Any]]) -> str:
    """Accuracy per caption attribute (rows) for each run (columns): over every clip, then
    over the clips with 1 / 2 / 3 objects (where binding shows)."""
    columns = [c for c in results if "attributes" in results[c]]
    lines = [
        "| attribute | " + " | ".join(f"{c}: all (1 / 2 / 3 objects)" for c in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]

    def score(result: dict[str, Any], objects: str | None, name: str) -> str:
        group = result if objects is None else result["by_objects"].get(objects)
        if group is None:
            return "–"
        value = group["adherence"] if name == "adherence" else group["attributes"].get(name)
        return "–" if value is None else f"{100 * value:.0f}%"

    for name in ("adherence", *ATTRIBUTES):
        cells = []
        for c in columns:
            split = " / ".join(score(results[c], n, name) for n in ("1", "2", "3"))
            cells.append(f"{score(results[c], None, name)} ({split})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def strip(video: np.ndarray, frames: int = STRIP_FRAMES) -> np.ndarray:
    """``frames`` evenly spaced frames of uint8 (T, H, W, 3) side by side: (H, frames W, 3)."""
    index = np.linspace(0, len(video) - 1, min(frames, len(video))).round().astype(int)
    return np.concatenate(list(video[index]), axis=1)


def _upscale(image: np.ndarray, min_height: int = 96) -> np.ndarray:
    """Nearest-neighbour upscaling by an integer factor to at least ``min_height`` px."""
    factor = max(1, -(-min_height // image.shape[0]))
    return image.repeat(factor, axis=0).repeat(factor, axis=1)


def samples_png(
    path: Path, tasks: list[ShapesTask], clips: dict[str, np.ndarray], rows: int = SAMPLE_ROWS
) -> Path:
    """Per held-out clip, its caption then one labelled strip per run (ground truth first)."""
    label_w, line_h, pad = 110, 14, 4
    blocks = []
    for i, task in enumerate(tasks[:rows]):
        strips = {name: _upscale(strip(videos[i])) for name, videos in clips.items()}
        text_w = int(ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(task.caption)) + 4
        width = max(label_w + max(s.shape[1] for s in strips.values()), text_w)
        height = line_h + sum(s.shape[0] + pad for s in strips.values())
        canvas = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(canvas)
        draw.text((2, 1), task.caption, fill="black")
        y = line_h
        for name, image in strips.items():
            draw.text((2, y + image.shape[0] // 2 - 5), name, fill="black")
            canvas.paste(Image.fromarray(image), (label_w, y))
            y += image.shape[0] + pad
        blocks.append(np.asarray(canvas))
    width = max(b.shape[1] for b in blocks)
    padded = [
        np.pad(b, ((0, 8), (0, width - b.shape[1]), (0, 0)), constant_values=255) for b in blocks
    ]
    Image.fromarray(np.concatenate(padded)).save(path)
    return path


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Generate, score, print the table and write the files; returns the JSON object."""
    if args.n < 1:
        raise SpacetimeError(f"--n must be >= 1; got {args.n}")
    only = parse_only(args.only)
    device = pick_device(args.device)
    started = time.perf_counter()
    model, model_folder = load(args.checkpoint, device)
    height, width = model.sample_size
    if height != width:
        raise SpacetimeError(f"{model_folder} makes {height}x{width} frames; ShapesWorld is square")
    tasks = held_out_tasks(
        args.n, size=height, frames=model.sample_frames, first_seed=args.first_seed
    )
    pipes: dict[str, tuple[VideoPipeline, Path]] = {"model": (model, model_folder)}
    if args.baseline is not None:
        pipes["baseline"] = load(args.baseline, device)
    modes = {"model": "text", "baseline": "text", "image": "image", "interpolation": "interpolate"}
    keys = [key for key in COLUMNS if key != "baseline" or "baseline" in pipes]  # table order

    settings = {"steps": args.steps, "guidance": args.guidance, "sampler": args.sampler}
    store = ColumnStore(
        args.out / "columns",
        {**settings, "n": args.n, "first_seed": args.first_seed, "size": height,
         "frames": model.sample_frames, "analysis_size": args.analysis_size},
    )  # fmt: skip
    digests = {name: weights_digest(folder) for name, (_, folder) in pipes.items()}
    score = {"analysis_size": args.analysis_size, "progress": True}
    clips: dict[str, np.ndarray] = {}
    results: dict[str, dict[str, Any]] = {}
    seconds: dict[str, float] = {}
    for key in keys:
        label = COLUMNS[key]
        owner = "baseline" if key == "baseline" else "model"
        source = None if key == "truth" else digests[owner]
        saved = store.load(key, source)
        if saved is not None:
            entry, clips[label] = saved
            results[label], seconds[label] = entry["summary"], entry["seconds"]
            print(f"{label}: reusing {store.root / key}.json", file=sys.stderr)
            continue
        if only is not None and key not in only and key != "truth":  # truth: always there
            continue
        tic = time.perf_counter()
        if key == "truth":
            videos = np.stack([t.clip.video for t in tasks])
            run_tasks = tasks
        else:
            run_tasks = [dataclasses.replace(t, mode=modes[key]) for t in tasks]
            print(f"{label}: generating {len(run_tasks)} clips", file=sys.stderr)
            pipe = pipes[owner][0]
            videos = generate_tasks(pipe, run_tasks, batch_size=args.batch_size, **settings)
        results[label] = summarize(score_clips(videos, run_tasks, desc=label, **score))
        seconds[label] = time.perf_counter() - tic
        clips[label] = videos
        store.save(key, source, results[label], seconds[label], videos)
    seconds["total"] = time.perf_counter() - started

    table = markdown_table(results) + "\n\n" + attribute_table(results)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality.md").write_text(table + "\n", encoding="utf-8")
    baseline_folder = pipes["baseline"][1] if "baseline" in pipes else None
    report = {
        "spacetime_version": spacetime.__version__,
        "checkpoint": str(model_folder),
        "baseline": None if baseline_folder is None else str(baseline_folder),
        "n": args.n,
        "scene_seeds": [args.first_seed, args.first_seed + args.n - 1],
        "clip": {"frames": model.sample_frames, "size": height},
        "settings": {**settings, "analysis_size": args.analysis_size},
        "device": str(device),
        "threads": torch.get_num_threads(),
        "targets": {k: list(v) for k, v in TARGETS.items()},
        "results": results,
        "seconds": seconds,
    }
    (args.out / "quality.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    shown = {k: v for k, v in clips.items() if k in (TRUTH, "model", "baseline")}
    png = samples_png(args.out / "samples.png", tasks, shown) if shown else None
    written = (args.out / "quality.json", args.out / "quality.md", png)
    print(f"\nwrote {', '.join(str(p) for p in written if p)}")
    print(f"{args.n} held-out clips on {device} in {seconds['total']:.0f} s")
    return report


def main(argv: list[str] | None = None) -> int:
    return run_main("default_quality", lambda: run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
