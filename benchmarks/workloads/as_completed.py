"""Results in completion order: cost per item of N trivial inputs (flat in N if O(1))."""

from __future__ import annotations

from functools import partial

from contenders import completers, completion_baseline
from harness import Measure, repetitions, time_per_input
from loops import Loop

from . import Mode, Workload, standard_sizes
from .spawn import trivial


def contenders(loop: Loop, n: int, mode: Mode) -> dict[str, Measure]:
    inputs = [trivial] * n
    calls = repetitions(n, mode.inputs_per_sample)
    return {
        contender.name: partial(time_per_input, partial(contender.run, inputs), n, calls, [1] * n)
        for contender in completers(loop)
    }


WORKLOAD = Workload(
    name="as_completed",
    title="Take N trivial results in completion order",
    unit="µs per item",
    sizes=standard_sizes(),
    contenders=contenders,
    baseline=completion_baseline,
)
