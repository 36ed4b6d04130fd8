"""The run log (``RUN/log.jsonl``), the step timer and periodic samples scored with the evaluator.

Every ``sample_every`` steps the trainer generates a few clips from held-out prompts with the
EMA pipeline, writes them to ``RUN/samples/step_0000500_0.gif``, and logs beside the loss the
temporal-coherence metrics of :func:`spacetime.evaluation.metrics.compute_metrics` (mean over
transitions, then over clips) and, on ShapesWorld, the oracle's verdict on whether each clip
shows what its caption says.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from spacetime.video.writer import write_video

__all__ = ["RunLog", "SampleMonitor", "StepTimer"]


class RunLog:
    """Append-only JSON-lines log; one object per logged step (``{"step": ..., ...}``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def append(self, record: dict[str, Any]) -> None:
        """Write ``record`` as one line (non-finite floats become null, keeping valid JSON)."""
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(_finite(record)) + "\n")

    def read(self) -> list[dict[str, Any]]:
        """Every record, in order (empty when the log does not exist).

        A last line cut short (the run was killed while appending it) is dropped: the resumed
        run writes that step again.
        """
        if not self.path.is_file():
            return []
        lines = [line for line in self.path.read_text(encoding="utf-8").splitlines() if line]
        records = []
        for number, line in enumerate(lines, 1):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                if number < len(lines):  # only the last line can be torn by a kill
                    raise
        return records

    def truncate_after(self, step: int) -> None:
        """Drop records of steps after ``step``: a resumed run rewrites them. The log is
        replaced atomically, so a kill meanwhile leaves the old one whole."""
        if not self.path.is_file():
            return
        kept = [r for r in self.read() if int(r.get("step", 0)) <= step]
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")
        os.replace(tmp, self.path)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


class StepTimer:
    """Wall time of the training steps since the last report, and the share of it spent outside
    the network (reading the batch, the EMA update): what a faster data path could save."""

    def __init__(self) -> None:
        self.steps, self.total, self.outside = 0, 0.0, 0.0
        self._begin = 0.0

    def start(self) -> None:
        self._begin = time.perf_counter()

    def stop(self) -> None:
        self.total += time.perf_counter() - self._begin
        self.steps += 1

    @contextlib.contextmanager
    def overhead(self) -> Iterator[None]:
        tic = time.perf_counter()
        try:
            yield
        finally:
            self.outside += time.perf_counter() - tic

    def report(self) -> dict[str, float]:
        """``{"step_seconds": mean wall per step, "overhead": outside share}``; then resets."""
        out = {
            "step_seconds": self.total / max(self.steps, 1),
            "overhead": self.outside / max(self.total, 1e-9),
        }
        self.steps, self.total, self.outside = 0, 0.0, 0.0
        return out


class SampleMonitor:
    """Generate, save and score a few clips with a pipeline.

    Args:
        out: the run folder; clips go to ``out/samples/``.
        prompts: one prompt per clip.
        seed: clip ``i`` uses seed ``seed + i`` (the same clips every time, so runs compare).
        steps: sampler steps.
        guidance: classifier-free guidance scale.
        oracle: also score each clip against its caption with the ShapesWorld oracle.
        fps: frame rate of the written clips.
    """

    def __init__(
        self,
        out: str | Path,
        prompts: list[str],
        *,
        seed: int = 0,
        steps: int = 20,
        guidance: float = 3.0,
        oracle: bool = False,
        fps: float = 8.0,
    ) -> None:
        self.folder = Path(out) / "samples"
        self.prompts = list(prompts)
        self.seed, self.steps, self.guidance = seed, steps, guidance
        self.oracle, self.fps = oracle, fps

    def __call__(self, pipeline: Any, step: int) -> dict[str, Any]:
        """Sample with ``pipeline`` at training step ``step``; returns the log entry."""
        from spacetime.evaluation.metrics import compute_metrics

        self.folder.mkdir(parents=True, exist_ok=True)
        seeds = [self.seed + i for i in range(len(self.prompts))]
        videos = pipeline(
            self.prompts, seeds=seeds, steps=self.steps, guidance=self.guidance, progress=False
        )  # uint8 (B, T, H, W, 3)
        files, per_clip, oracle = [], [], []
        for i, (video, prompt) in enumerate(zip(videos, self.prompts, strict=True)):
            path = write_video(self.folder / f"step_{step:07d}_{i}.gif", video, fps=self.fps)
            files.append(str(path.relative_to(self.folder.parent)))
            if video.shape[0] >= 2:
                per_clip.append({k: s.mean for k, s in compute_metrics(video).items()})
            if self.oracle:
                oracle.append(_oracle(video, prompt))
        entry: dict[str, Any] = {"files": files, "prompts": self.prompts}
        if per_clip:
            entry["metrics"] = {k: float(np.mean([m[k] for m in per_clip])) for k in per_clip[0]}
        if oracle:
            entry["oracle"] = oracle
        return entry


def _oracle(video: np.ndarray, caption: str) -> dict[str, Any]:
    """The oracle's flat scores of one clip (per-object details are left out of the log)."""
    from spacetime.evaluation.oracle import score_video

    report = score_video(video, caption).to_dict()
    return {k: v for k, v in report.items() if k not in ("objects", "details")}
