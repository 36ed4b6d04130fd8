"""Peak memory of `spacetime generate --long` for a short and a long video.

Each measurement is a fresh Python process, ``python -m spacetime generate ...`` (the command
itself), whose peak resident set size (``ru_maxrss``) is read from ``os.wait4`` when it ends;
one more process only loads the pipeline (:func:`spacetime.pipelines.loading.load_pipeline`),
the floor every run pays. Windows and chunked decoding should keep a 128-frame video near a
16-frame one::

    .venv/bin/python benchmarks/long_video_memory.py --frames 16,128 --method extend
    .venv/bin/python benchmarks/long_video_memory.py --checkpoint runs/default --steps 5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import run_main
from spacetime.errors import SpacetimeError

LOAD_ONLY = """
import json, sys
from spacetime.pipelines.loading import load_pipeline
load_pipeline(json.loads(sys.argv[1]))
"""


def peak_mb(command: list[str], what: str) -> float:
    """Peak RSS (MB) of a fresh process ``python COMMAND`` (Linux: ``ru_maxrss`` is in KiB);
    ``what`` names it in the error raised when it fails."""
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen([sys.executable, *command], stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, not all children's
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            err.seek(0)
            message = err.read().decode(errors="replace").strip()[-400:]
            raise SpacetimeError(f"{what} failed: {message}")
    return usage.ru_maxrss / 1024


def run(args: argparse.Namespace) -> dict[str, float]:
    frames = [int(f) for f in args.frames.split(",")]
    checkpoint = None if args.checkpoint is None else str(args.checkpoint)
    rows = {"load only": peak_mb(["-c", LOAD_ONLY, json.dumps(checkpoint)], "loading the pipeline")}
    with tempfile.TemporaryDirectory() as tmp:
        for n in frames:
            argv = ["generate", args.prompt, "--frames", str(n), "--steps", str(args.steps),
                    "--out", str(Path(tmp) / f"clip{n}.mp4"), "--long", args.method]  # fmt: skip
            if args.checkpoint is not None:
                argv += ["--checkpoint", str(args.checkpoint)]
            rows[f"{n} frames ({args.method})"] = peak_mb(
                ["-m", "spacetime", *argv], f"spacetime {' '.join(argv)}"
            )
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
