"""Spawn and gather N trivial inputs: the fixed cost a call adds to each input."""

from __future__ import annotations

from functools import partial

from contenders import baseline, gatherers
from harness import Measure, repetitions, time_per_input
from loops import Loop

from . import SIZES, Mode, Workload, standard_sizes


async def trivial() -> int:
    return 1


def contenders(loop: Loop, n: int, mode: Mode) -> dict[str, Measure]:
    inputs = [trivial] * n
    calls = repetitions(n, mode.inputs_per_sample)
    return {
        contender.name: partial(time_per_input, partial(contender.run, inputs), n, calls, [1] * n)
        for contender in gatherers(loop)
    }


WORKLOAD = Workload(
    name="spawn",
    title="Spawn and gather N trivial inputs",
    unit="µs per input",
    sizes=standard_sizes(SIZES, (*SIZES, 1_000_000)),
    contenders=contenders,
    baseline=baseline,
)
