"""Peak memory of `spacetime generate --long` for a short and a long video.

Each measurement is a fresh Python process that runs the ``spacetime generate`` command
in-process and reports its own peak resident set size (``ru_maxrss``); one more process only
loads the pipeline, the floor every run pays. Windows and chunked decoding should keep a
128-frame video near a 16-frame one::

    .venv/bin/python benchmarks/long_video_memory.py --frames 16,128 --method extend
    .venv/bin/python benchmarks/long_video_memory.py --checkpoint runs/default --steps 5
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import run_main
from spacetime.errors import SpacetimeError

CHILD = """
import json, resource, sys
from pathlib import Path
from spacetime.cli.main import main
from spacetime.pipelines.video_pipeline import VideoPipeline
from spacetime.cli.generate_cmd import resolve_pipeline
argv = json.loads(sys.argv[1])
if argv:
    try:
        main(argv)
    except SystemExit as done:
        if done.code:
            raise
else:
    ckpt = json.loads(sys.argv[2])
    VideoPipeline.from_pretrained(resolve_pipeline(None if ckpt is None else Path(ckpt)))
print("MAXRSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_mb(argv: list[str], checkpoint: str | None) -> float:
    """Peak RSS (MB) of a fresh process running ``spacetime ARGV`` (no argv: only loading)."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(argv), json.dumps(checkpoint)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        raise SpacetimeError(f"spacetime {' '.join(argv)} failed: {done.stderr.strip()[-400:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("MAXRSS_KB"))
    return int(line.split()[1]) / 1024


def run(args: argparse.Namespace) -> dict[str, float]:
    frames = [int(f) for f in args.frames.split(",")]
    rows = {"load only": peak_mb([], None if args.checkpoint is None else str(args.checkpoint))}
    with tempfile.TemporaryDirectory() as tmp:
        for n in frames:
            argv = ["generate", args.prompt, "--frames", str(n), "--steps", str(args.steps),
                    "--out", str(Path(tmp) / f"clip{n}.mp4"), "--long", args.method]  # fmt: skip
            if args.checkpoint is not None:
                argv += ["--checkpoint", str(args.checkpoint)]
            rows[f"{n} frames ({args.method})"] = peak_mb(argv, None)
    print("| run | peak RSS (MB) |\n|---|---|")
    for name, mb in rows.items():
        print(f"| {name} | {mb:.0f} |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, help="pipeline or run (default: bundled)")
    parser.add_argument("--frames", default="16,128", help="comma-separated frame counts")
    parser.add_argument("--method", default="extend", help="--long method")
    parser.add_argument("--steps", type=int, default=5, help="sampler steps (memory only)")
    parser.add_argument("--prompt", default="a red circle bounces")
    args = parser.parse_args()
    return run_main("long_video_memory", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
