"""N asyncio tasks created beforehand, handed in: only the wait for them is timed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from harness import Measure, now, repetitions
from loops import ASYNCIO, UVLOOP, Loop

import multi_await

from . import SMALL_SIZES, Mode, Workload, standard_sizes
from .spawn import trivial

Wait = Callable[[list["asyncio.Task[int]"]], Awaitable[Any]]
ASYNCIO_GATHER = "asyncio.gather"


async def _asyncio_wait(tasks: list[asyncio.Task[int]]) -> Any:
    return await asyncio.wait(tasks)


async def _wait_or_abort(tasks: list[asyncio.Task[int]]) -> Any:
    return await multi_await.wait_or_abort(tasks)


WAITS: dict[str, Wait] = {
    ASYNCIO_GATHER: lambda tasks: asyncio.gather(*tasks),
    "asyncio.wait": _asyncio_wait,
    "gather_or_abort": lambda tasks: multi_await.gather_or_abort(*tasks),
    "wait_or_abort": _wait_or_abort,
}


async def time_wait(wait: Wait, n: int, calls: int) -> float:
    elapsed = 0.0
    for _ in range(calls):
        tasks = [asyncio.create_task(trivial()) for _ in range(n)]
        start = now()
        await wait(tasks)
        elapsed += now() - start
    return elapsed / (n * calls) * 1e6


def contenders(loop: Loop, n: int, mode: Mode) -> dict[str, Measure]:
    calls = repetitions(n, mode.inputs_per_sample)
    return {name: lambda wait=wait: time_wait(wait, n, calls) for name, wait in WAITS.items()}


WORKLOAD = Workload(
    name="foreign_tasks",
    title="Wait for N asyncio tasks created beforehand",
    unit="µs per input",
    sizes=standard_sizes(SMALL_SIZES),
    contenders=contenders,
    baseline=lambda loop: ASYNCIO_GATHER,
    backends=(ASYNCIO, UVLOOP),
)
