"""Timing helpers shared by the benchmarks (``python bench/<name>.py`` puts this folder on the
path)."""

from __future__ import annotations

import gc
import resource
import statistics
import time
from collections.abc import Callable

__all__ = ["peak_mb", "timed"]


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def timed(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    """The median wall time of ``runs`` calls of ``fn`` (a full garbage collection before each)
    and the last result."""
    times, result = [], None
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result
