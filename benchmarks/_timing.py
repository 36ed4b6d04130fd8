"""Clocks, peak memory and the machine's description, shared by the speed benchmarks.

On a CPU with one torch thread the default clock is the process's CPU time
(``time.process_time``): on a machine shared with other jobs it counts the work done, not the
time spent waiting for a core, so two programs measured in turn compare fairly. With more
threads, or on CUDA (after ``torch.cuda.synchronize()``), it is wall-clock time.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown processor"


def machine(device: torch.device) -> str:
    """One line naming the device, torch and the thread count."""
    if device.type == "cuda":
        where = f"{torch.cuda.get_device_name(device)}"
    else:
        where = f"{cpu_model()}, {os.cpu_count()} logical cores"
    return f"{where}; torch {torch.__version__}, {torch.get_num_threads()} torch thread(s)"


def clock_for(device: torch.device, name: str) -> tuple[str, Callable[[], float]]:
    """``(name, clock)``: ``"cpu"`` process time or ``"wall"``; ``"auto"`` picks CPU time for a
    one-thread CPU run and wall time otherwise."""
    if name == "auto":
        name = "cpu" if device.type == "cpu" and torch.get_num_threads() == 1 else "wall"
    return name, time.process_time if name == "cpu" else time.perf_counter


def _rss_kib(field: str) -> int | None:
    """``VmRSS`` / ``VmHWM`` of this process in KiB (Linux), or None."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Hand freed heap memory back to the kernel (glibc ``malloc_trim``) and reset the peak-RSS
    mark of this process (Linux ``clear_refs``, value 5), so that the next peak is the call's."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def format_mib(value: float | None) -> str:
    """A peak in MiB right-aligned in 7 characters, ``-`` when unknown."""
    return f"{value:7.0f}" if value is not None else f"{'-':>7}"


@dataclass
class Measurement:
    """Median seconds of the timed runs, every run's seconds, and the peak memory in MiB."""

    seconds: float
    runs: list[float]
    peak_mib: float | None


def measure(
    fn: Callable[[], object], device: torch.device, clock: Callable[[], float]
) -> tuple[float, float | None]:
    """Seconds of one ``fn()`` and its peak memory in MiB: CUDA's peak allocation, or on a CPU
    the rise of the peak resident set above the resident set before the call, freed memory
    handed back first (None where the kernel does not offer it)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
    else:
        base = _rss_kib("VmRSS") if _reset_peak_rss() else None
    start = clock()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = clock() - start
    if device.type == "cuda":
        return seconds, (torch.cuda.max_memory_allocated(device) - base) / 2**20
    peak = _rss_kib("VmHWM")
    return seconds, None if base is None or peak is None else max(peak - base, 0) / 1024


def alternate(
    fns: dict[str, Callable[[], object]],
    repeats: int,
    device: torch.device,
    clock: Callable[[], float],
) -> dict[str, Measurement]:
    """Time every function ``repeats`` times, in turn (A B C, B C A, ...), after one untimed
    round that measures the peak memory: each sees the same machine load. Median seconds."""
    names = list(fns)
    peaks = {name: measure(fns[name], device, clock)[1] for name in names}
    runs: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            start = clock()
            fns[name]()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            runs[name].append(clock() - start)
    return {n: Measurement(statistics.median(runs[n]), runs[n], peaks[n]) for n in names}
