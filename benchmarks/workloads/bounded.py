"""At most k inputs at once: N inputs that each pass one checkpoint, k = 10.

Skipped until multi_await's primitives accept ``max_concurrency=``.
"""

from __future__ import annotations

from functools import partial

from contenders import accepts, bounded, bounded_baseline
from harness import Measure, repetitions, time_per_input
from loops import Loop

import multi_await

from . import SMALL_SIZES, Mode, Workload, standard_sizes

LIMIT = 10


def contenders(loop: Loop, n: int, mode: Mode) -> dict[str, Measure]:
    async def step() -> int:
        await loop.checkpoint()
        return 1

    inputs = [step] * n
    calls = repetitions(n, mode.inputs_per_sample)
    return {
        each.name: partial(time_per_input, partial(each.run, inputs), n, calls, [1] * n)
        for each in bounded(loop, LIMIT)
    }


def skip_reason() -> str | None:
    if accepts(multi_await.gather_or_abort, "max_concurrency"):
        return None
    return "gather_or_abort() does not accept max_concurrency= yet"


WORKLOAD = Workload(
    name="bounded",
    title=f"N inputs with one checkpoint each, at most {LIMIT} at once",
    unit="µs per input",
    sizes=standard_sizes(SMALL_SIZES),
    contenders=contenders,
    baseline=bounded_baseline,
    skip_reason=skip_reason,
)
