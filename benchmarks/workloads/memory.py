"""Peak memory per pending input, traced while all N inputs are waiting.

Each input notes that it started and waits for an event of the loop. Once all have
started, the peak of the memory traced since the call began (the inputs' coroutines
and their waiting included, the same for every contender) is divided by N; then the
event is set and every input returns.
"""

from __future__ import annotations

import tracemalloc
from functools import partial

import anyio
from contenders import Run, baseline, gatherers
from harness import Measure
from loops import Loop

from . import SMALL_SIZES, Mode, Workload, standard_sizes


async def peak_per_input(run: Run, loop: Loop, n: int) -> float:
    started = 0
    all_started = loop.event()
    release = loop.event()

    async def waiter() -> None:
        nonlocal started
        started += 1
        if started == n:
            all_started.set()
        await release.wait()

    inputs = [waiter] * n
    tracemalloc.start()
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(run, inputs)
            await all_started.wait()
            _, peak = tracemalloc.get_traced_memory()
            release.set()
    finally:
        tracemalloc.stop()
    return peak / n


def contenders(loop: Loop, n: int, mode: Mode) -> dict[str, Measure]:
    return {each.name: partial(peak_per_input, each.run, loop, n) for each in gatherers(loop)}


WORKLOAD = Workload(
    name="memory",
    title="Peak memory per pending input",
    unit="bytes per input",
    sizes=standard_sizes(SMALL_SIZES),
    contenders=contenders,
    baseline=baseline,
    log_y=False,
    max_repeats=3,  # tracemalloc makes a sample slow, and the figure varies little
)
