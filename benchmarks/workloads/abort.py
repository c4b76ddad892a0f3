"""Abort latency: from the failing input's ``raise`` to the caller's ``except``.

N inputs sleep, with no cleanup to do; one more input waits until all of them have
started, notes the time (:func:`time.perf_counter`, or the CPU time with ``--clock
cpu``) and raises. The figure is
the time until the caller's ``except`` runs, which covers cancelling the N sleepers
and waiting until every one of them has finished: linear in N at best.

``abort_in_scopes`` is the same with each sleeper inside an AnyIO cancel scope of its
own (as code written with AnyIO is), with an AnyIO task group among the contenders.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import anyio
from contenders import ANYIO_TASK_GROUP, Contender, Run, anyio_task_group, baseline, gatherers
from harness import Measure, now, repetitions
from loops import Loop

from . import SMALL_SIZES, Mode, Workload, standard_sizes


class FailingInputError(Exception):
    """The failure of the failing input."""


def holds_failure(error: BaseException) -> bool:
    """True if *error* is our failure, alone or inside an exception group."""
    if isinstance(error, FailingInputError):
        return True
    inner = getattr(error, "exceptions", None)
    return inner is not None and any(holds_failure(each) for each in inner)


async def latency(run: Run, loop: Loop, n: int, in_scope: bool) -> float:
    """Microseconds from the raise to the caller's except, for one call over N sleepers."""
    started = 0
    all_started = loop.event()
    raised_at = 0.0

    async def sleeper() -> None:
        nonlocal started
        started += 1
        if started == n:
            all_started.set()
        if in_scope:
            with anyio.CancelScope():
                await loop.sleep_forever()
        else:
            await loop.sleep_forever()

    async def failer() -> None:
        nonlocal raised_at
        await all_started.wait()
        raised_at = now()
        raise FailingInputError

    inputs: list[Callable[[], Awaitable[Any]]] = [sleeper] * n
    inputs.append(failer)
    try:
        await run(inputs)
    except BaseException as error:
        caught_at = now()
        if not holds_failure(error):
            raise
    else:
        raise AssertionError("the failing input did not fail the call")
    return (caught_at - raised_at) * 1e6


async def mean_latency(run: Run, loop: Loop, n: int, calls: int, in_scope: bool) -> float:
    return sum([await latency(run, loop, n, in_scope) for _ in range(calls)]) / calls


def contenders(loop: Loop, n: int, mode: Mode, in_scope: bool = False) -> dict[str, Measure]:
    calls = repetitions(n, mode.inputs_per_sample // 10)
    aborting: list[Contender] = [each for each in gatherers(loop) if each.aborts]
    if in_scope:
        aborting.append(Contender(ANYIO_TASK_GROUP, anyio_task_group))
    return {
        each.name: partial(mean_latency, each.run, loop, n, calls, in_scope) for each in aborting
    }


WORKLOAD = Workload(
    name="abort",
    title="Abort latency with N pending sleepers",
    unit="µs",
    sizes=standard_sizes(SMALL_SIZES),
    contenders=contenders,
    baseline=baseline,
)

IN_SCOPES = Workload(
    name="abort_in_scopes",
    title="Abort latency with N pending sleepers, each inside an AnyIO cancel scope",
    unit="µs",
    sizes=standard_sizes(SMALL_SIZES),
    contenders=partial(contenders, in_scope=True),
    baseline=baseline,
)
