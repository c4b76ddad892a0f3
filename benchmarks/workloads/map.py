"""A map over N items through 50 slots: the cost per item, and the peak memory.

The function mapped passes one checkpoint and returns its item; the items come from
``range(N)``, pulled as the mapper wants them. ``map`` hands every result to a list
(their sum is checked), in µs per item. ``map_memory`` drops each result as it comes
and takes tracemalloc's peak over the whole call, in KiB: a mapper that pulls its
items lazily is flat in N, one that lays them out first is not.

The peers: aiometer's ``amap`` (it takes a sequence, and yields in completion order),
aiostream's ``stream.map(..., task_limit=)`` (asyncio only), and the loop a user
would write by hand: a ``TaskGroup`` and a ``Semaphore`` acquired before each spawn,
or a nursery and a ``CapacityLimiter``.
"""

from __future__ import annotations

import asyncio
import sys
import tracemalloc
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from contenders import installed
from harness import Measure, repetitions, time_per_input
from loops import Loop

import multi_await

from . import QUICK_SIZES, SMALL_SIZES, Mode, Workload

SLOTS = 50

Step = Callable[[int], Awaitable[int]]
Put = Callable[[Any], object]
#: ``mapper(step, n, put)`` maps *step* over ``range(n)``, handing each result to *put*.
Mapper = Callable[[Step, int, Put], Awaitable[None]]


async def _map_or_abort(step: Step, n: int, put: Put) -> None:
    async with multi_await.map_or_abort(step, range(n), max_concurrency=SLOTS) as results:
        async for result in results:
            put(result)


async def _aiometer_amap(step: Step, n: int, put: Put) -> None:
    import aiometer

    async with aiometer.amap(step, range(n), max_at_once=SLOTS) as results:
        async for result in results:
            put(result)


async def _aiostream_map(step: Step, n: int, put: Put) -> None:
    from aiostream import stream

    mapped = stream.map(stream.iterate(range(n)), step, task_limit=SLOTS)
    async with mapped.stream() as results:
        async for result in results:
            put(result)


async def _task_group_and_semaphore(step: Step, n: int, put: Put) -> None:
    semaphore = asyncio.Semaphore(SLOTS)

    async def one(item: int) -> None:
        try:
            put(await step(item))
        finally:
            semaphore.release()

    async with asyncio.TaskGroup() as group:  # type: ignore[attr-defined,unused-ignore]
        for item in range(n):
            await semaphore.acquire()
            group.create_task(one(item))


async def _nursery_and_limiter(step: Step, n: int, put: Put) -> None:
    import trio

    limiter = trio.CapacityLimiter(SLOTS)

    async def one(item: int) -> None:
        try:
            put(await step(item))
        finally:
            limiter.release_on_behalf_of(item)

    async with trio.open_nursery() as nursery:
        for item in range(n):
            await limiter.acquire_on_behalf_of(item)
            nursery.start_soon(one, item)


def baseline(loop: Loop) -> str:
    return "TaskGroup + Semaphore" if loop.is_asyncio else "nursery + CapacityLimiter"


def mappers(loop: Loop) -> dict[str, Mapper]:
    found: dict[str, Mapper] = {}
    if not loop.is_asyncio:
        found[baseline(loop)] = _nursery_and_limiter
    elif sys.version_info >= (3, 11):
        found[baseline(loop)] = _task_group_and_semaphore
    found["map_or_abort"] = _map_or_abort
    if installed("aiometer"):
        found["aiometer.amap"] = _aiometer_amap
    if loop.is_asyncio and installed("aiostream"):
        found["aiostream stream.map"] = _aiostream_map
    return found


def _step(loop: Loop) -> Step:
    async def step(item: int) -> int:
        await loop.checkpoint()
        return item

    return step


async def _summed(mapper: Mapper, step: Step, n: int) -> int:
    results: list[int] = []
    await mapper(step, n, results.append)
    return sum(results)


def cost_contenders(loop: Loop, n: int, mode: Mode) -> dict[str, Measure]:
    calls = repetitions(n, mode.inputs_per_sample)
    step, total = _step(loop), n * (n - 1) // 2
    return {
        name: partial(time_per_input, partial(_summed, mapper, step, n), n, calls, total)
        for name, mapper in mappers(loop).items()
    }


async def peak_kib(mapper: Mapper, step: Step, n: int) -> float:
    tracemalloc.start()
    try:
        await mapper(step, n, lambda result: None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1024


def memory_contenders(loop: Loop, n: int, mode: Mode) -> dict[str, Measure]:
    step = _step(loop)
    return {name: partial(peak_kib, mapper, step, n) for name, mapper in mappers(loop).items()}


COST = Workload(
    name="map",
    title=f"Map over N items, {SLOTS} at once",
    unit="µs per item",
    sizes={"quick": QUICK_SIZES, "default": SMALL_SIZES, "full": (*SMALL_SIZES, 100_000)},
    contenders=cost_contenders,
    baseline=baseline,
    size_label="N items",
)

MEMORY = Workload(
    name="map_memory",
    title=f"Peak memory of a map over N items, {SLOTS} at once, results dropped",
    unit="KiB peak",
    sizes={"quick": (1_000, 10_000), "default": (10_000, 100_000), "full": (10**4, 10**5, 10**6)},
    contenders=memory_contenders,
    baseline=baseline,
    size_label="N items",
    log_y=False,
    max_repeats=1,  # tracemalloc makes a sample slow, and a peak hardly varies
)
