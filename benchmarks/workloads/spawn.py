"""Spawn and gather N trivial inputs: the fixed cost a call adds to each input.

``spawn`` inputs return at once (with eager tasks, inside ``create_task``);
``spawn_suspending`` inputs pass one checkpoint of the loop first.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from contenders import Inputs, baseline, gatherers
from harness import Measure, repetitions, time_per_input
from loops import Loop

from . import SIZES, Mode, Workload, standard_sizes

Contenders = Callable[[Loop, int, Mode], dict[str, Measure]]


async def trivial() -> int:
    return 1


def contenders(loop: Loop, n: int, mode: Mode) -> dict[str, Measure]:
    return _gathering([trivial] * n, loop, n, mode)


def suspending_contenders(loop: Loop, n: int, mode: Mode) -> dict[str, Measure]:
    async def suspends_once() -> int:
        await loop.checkpoint()
        return 1

    return _gathering([suspends_once] * n, loop, n, mode)


def _gathering(inputs: Inputs, loop: Loop, n: int, mode: Mode) -> dict[str, Measure]:
    calls = repetitions(n, mode.inputs_per_sample)
    return {
        contender.name: partial(time_per_input, partial(contender.run, inputs), n, calls, [1] * n)
        for contender in gatherers(loop)
    }


def _workload(name: str, title: str, measures: Contenders) -> Workload:
    return Workload(
        name=name,
        title=title,
        unit="µs per input",
        sizes=standard_sizes(SIZES, (*SIZES, 1_000_000)),
        contenders=measures,
        baseline=baseline,
    )


WORKLOAD = _workload("spawn", "Spawn and gather N trivial inputs", contenders)
SUSPENDING = _workload(
    "spawn_suspending", "Spawn and gather N inputs that suspend once", suspending_contenders
)
