"""Interleaved measurement: every contender once per round, rounds repeated, medians kept.

A benchmark that runs A ten times and then B ten times lets the machine drift between
the two (another process starts, the CPU clock changes, the heap grows). Here every
round runs each contender once, A B C, then B C A, then C A B, so that drift spreads
over all of them alike; the figure kept is the median of the rounds, and the ratio
of two medians measured side by side in one process is what the benchmarks compare.

This module uses the standard library alone and runs on Python 3.9 as well, so that
the process measuring multi-await 1.0.4 (which needs 3.9) uses the same rules.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

#: The clocks a run can time with. ``wall`` is :func:`time.perf_counter`; ``cpu`` is
#: :func:`time.process_time`, the CPU time of this process alone, which other work on
#: a shared machine disturbs far less. Every workload here keeps the CPU busy (no input
#: waits for I/O or a timer to expire), so on an idle machine the two agree.
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}
_clock = CLOCKS["wall"]


def use_clock(name: str) -> None:
    global _clock
    _clock = CLOCKS[name]


def now() -> float:
    """The time of the clock the run uses, in seconds."""
    return _clock()


#: One sample of a contender: runs it once and returns the figure, in the unit of its
#: workload (microseconds per input, bytes per input, ...).
Measure = Callable[[], Awaitable[float]]


@dataclass
class Result:
    """The samples of one contender on one workload, backend and input count."""

    workload: str
    backend: str
    n: int
    implementation: str
    unit: str
    samples: list[float]
    #: Set when the figures come from another process (multi-await 1.0.4 on 3.9).
    process: dict[str, Any] | None = None
    median: float = field(init=False)
    #: The median over the median of the baseline measured in the same process.
    ratio: float | None = None
    baseline: str | None = None

    def __post_init__(self) -> None:
        self.median = statistics.median(self.samples)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        result = cls(
            workload=data["workload"],
            backend=data["backend"],
            n=data["n"],
            implementation=data["implementation"],
            unit=data["unit"],
            samples=list(data["samples"]),
            process=data.get("process"),
        )
        result.ratio = data.get("ratio")
        result.baseline = data.get("baseline")
        return result


async def interleave(contenders: dict[str, Measure], repeats: int) -> dict[str, list[float]]:
    """Run one warm-up round, then *repeats* rounds, rotating the order each round."""
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(-1, repeats):
        shift = max(round_number, 0) % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()  # garbage of the previous contender is not this one's cost
            value = await contenders[name]()
            if round_number >= 0:
                samples[name].append(value)
    return samples


def set_ratios(results: list[Result], baseline: str) -> None:
    """Give each result its ratio to *baseline*, among results of the same process."""
    reference = [r for r in results if r.implementation == baseline]
    if not reference or reference[0].median <= 0:
        return
    for result in results:
        result.baseline = baseline
        result.ratio = result.median / reference[0].median


def repetitions(n: int, inputs_per_sample: int) -> int:
    """How many calls of N inputs one sample times, so that a sample is long enough."""
    return max(1, math.ceil(inputs_per_sample / n))


async def time_per_input(
    call: Callable[[], Awaitable[object]], n: int, calls: int, expected: object = None
) -> float:
    """Microseconds per input of *calls* consecutive runs of ``call()`` over N inputs.

    If *expected* is given, the last call must have returned it: a contender that
    computes the wrong thing fails the run rather than win it.
    """
    start = now()
    for _ in range(calls):
        result = await call()
    elapsed = now() - start
    if expected is not None and result != expected:
        raise AssertionError(f"{call} returned a wrong result for N={n}")
    return elapsed / (n * calls) * 1e6
