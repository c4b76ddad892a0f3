"""The workloads: what is measured, in which unit, at which sizes, against whom.

Each workload builds its contenders inside the running event loop, for one input
count, as a mapping from implementation name to one measurement
(:data:`harness.Measure`); the runner interleaves them and keeps the medians.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harness import Measure
from loops import BACKENDS, Loop


@dataclass(frozen=True)
class Mode:
    """How long a run may take: ``quick`` proves the benchmarks run, ``full`` adds scale."""

    name: str
    #: Measured rounds (after one warm-up round) for N up to 10^4; fewer beyond, where
    #: one sample takes seconds and varies less.
    repeats: int
    #: Inputs one timing sample covers at least, repeating the call for small N.
    inputs_per_sample: int

    def repeats_for(self, n: int) -> int:
        if n <= 10_000:
            return self.repeats
        return min(self.repeats, 5 if n <= 100_000 else 3)


MODES = {
    "quick": Mode("quick", repeats=3, inputs_per_sample=2_000),
    "default": Mode("default", repeats=7, inputs_per_sample=20_000),
    "full": Mode("full", repeats=7, inputs_per_sample=20_000),
}

QUICK_SIZES = (100, 1_000)
SIZES = (100, 1_000, 10_000, 100_000)
#: For workloads whose samples are slow at 10^5 (aborts, tracemalloc): 10^5 in full only.
SMALL_SIZES = SIZES[:-1]


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    #: The unit of every figure, e.g. "µs per input".
    unit: str
    #: Input counts per mode name.
    sizes: dict[str, tuple[int, ...]]
    #: ``contenders(loop, n, mode)``: implementation name -> one measurement.
    contenders: Callable[[Loop, int, Mode], dict[str, Measure]]
    #: The implementation every ratio on a loop is taken against.
    baseline: Callable[[Loop], str]
    backends: tuple[str, ...] = BACKENDS
    #: What N counts, for tables and plots.
    size_label: str = "N inputs"
    #: Plot the figures on a log scale (else linear, from zero).
    log_y: bool = True
    #: At most this many measured rounds, for figures that hardly vary (memory).
    max_repeats: int | None = None
    #: Why the workload cannot run now (a feature not yet in multi_await), or None.
    skip_reason: Callable[[], str | None] = lambda: None


def standard_sizes(
    default: tuple[int, ...] = SIZES, full: tuple[int, ...] = SIZES
) -> dict[str, tuple[int, ...]]:
    return {"quick": QUICK_SIZES, "default": default, "full": full}


def all_workloads() -> list[Workload]:
    from . import abort, as_completed, bounded, foreign_tasks, map, memory, select_loop, spawn

    return [
        spawn.WORKLOAD,
        spawn.SUSPENDING,
        abort.WORKLOAD,
        abort.IN_SCOPES,
        memory.WORKLOAD,
        as_completed.WORKLOAD,
        foreign_tasks.WORKLOAD,
        bounded.WORKLOAD,
        *select_loop.WORKLOADS,
        map.COST,
        map.MEMORY,
    ]
