"""The select loop of 1.x, ``MultiAwait.get()``, over S queues: cost per item taken.

Two shapes of traffic:

``select_one``
    One item arrives at a time, in turn on each of the S queues, and ``get()`` returns
    it. Every other call stays pending, so this shows whether one ``get()`` costs
    O(1) or O(S).
``select_all``
    One item arrives on every queue at once, and ``get()`` is called until all S
    are taken: the amortised cost per item when items come in bursts.

The reference is a fan-in written by hand: one forwarding task per queue puts
``(index, item)`` into one shared queue, so each item costs O(1) whatever S is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from harness import Measure, now
from loops import Loop

import multi_await

from . import Mode, Workload

FAN_IN = "fan-in queue (by hand)"
Queue = tuple[Callable[[Any], None], Callable[[], Awaitable[Any]]]
Select = Callable[[Loop, list[Queue], int, bool], Awaitable[float]]


def items_per_sample(sources: int, mode: Mode) -> int:
    """Items to take in one sample: fewer for many sources, where a get may cost O(S)."""
    return max(50, min(mode.inputs_per_sample // 10, 200_000 // sources))


async def feed_and_take(
    queues: list[Queue], take: Callable[[], Awaitable[int]], items: int, burst: bool
) -> float:
    """Microseconds per item: put items in, ``take()`` them (it returns how many it took)."""
    sources = len(queues)
    start = now()
    if burst:
        for round_number in range(max(1, items // sources)):
            for put, _ in queues:
                put(round_number)
            taken = 0
            while taken < sources:
                taken += await take()
        items = max(1, items // sources) * sources
    else:
        for index in range(items):
            queues[index % sources][0](index)
            await take()
    return (now() - start) / items * 1e6


async def multi_await_get(loop: Loop, queues: list[Queue], items: int, burst: bool) -> float:
    async with multi_await.multi_await() as selector:
        for _, get in queues:
            selector.add(get)
        queues[0][0](None)
        await selector.get()  # starts the call on every queue

        async def take() -> int:
            completed, _ = await selector.get()
            return len(completed) - completed.count(None)  # the cheapest scan of the list

        return await feed_and_take(queues, take, items, burst)


async def fan_in(loop: Loop, queues: list[Queue], items: int, burst: bool) -> float:
    put_out, get_out = loop.queue()

    async def forward(index: int, get: Callable[[], Awaitable[Any]]) -> None:
        while True:
            put_out((index, await get()))

    async def take() -> int:
        await get_out()
        return 1

    async with anyio.create_task_group() as group:
        for index, (_, get) in enumerate(queues):
            group.start_soon(forward, index, get)
        queues[0][0](None)
        await get_out()
        cost = await feed_and_take(queues, take, items, burst)
        group.cancel_scope.cancel()
    return cost


async def asyncio_wait(loop: Loop, queues: list[Queue], items: int, burst: bool) -> float:
    """What 1.x does inside ``get()``: ``asyncio.wait(..., FIRST_COMPLETED)`` over S tasks."""
    pending = {asyncio.ensure_future(get()): index for index, (_, get) in enumerate(queues)}

    async def take() -> int:
        done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            index = pending.pop(task)
            task.result()
            pending[asyncio.ensure_future(queues[index][1]())] = index
        return len(done)

    try:
        queues[0][0](None)
        await take()
        return await feed_and_take(queues, take, items, burst)
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def selects(loop: Loop) -> dict[str, Select]:
    found: dict[str, Select] = {FAN_IN: fan_in, "MultiAwait.get": multi_await_get}
    if loop.is_asyncio:
        found["asyncio.wait loop"] = asyncio_wait
    return found


def make_contenders(burst: bool) -> Callable[[Loop, int, Mode], dict[str, Measure]]:
    def contenders(loop: Loop, sources: int, mode: Mode) -> dict[str, Measure]:
        items = items_per_sample(sources, mode)

        def measure(select: Select) -> Measure:
            return lambda: select(loop, [loop.queue() for _ in range(sources)], items, burst)

        return {name: measure(select) for name, select in selects(loop).items()}

    return contenders


SOURCES = {"quick": (10, 100), "default": (10, 100, 1_000, 10_000)}
SOURCES["full"] = SOURCES["default"]

WORKLOADS = [
    Workload(
        name="select_one",
        title="Select loop over S queues, one item at a time",
        unit="µs per item",
        sizes=SOURCES,
        contenders=make_contenders(burst=False),
        baseline=lambda loop: FAN_IN,
        size_label="S queues",
    ),
    Workload(
        name="select_all",
        title="Select loop over S queues, an item on every queue at once",
        unit="µs per item",
        sizes=SOURCES,
        contenders=make_contenders(burst=True),
        baseline=lambda loop: FAN_IN,
        size_label="S queues",
    ),
]
