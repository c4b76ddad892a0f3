"""Spawn-and-gather of N trivial coroutines: cost per input against the native structures.

Interleaves the implementations in one process (A B C A B C ...), repeats, and prints
the median cost per input and its ratio to the native baseline (asyncio.TaskGroup on
asyncio, a raw nursery on Trio). A start; see benchmarks/README.md.

    python benchmarks/spawn.py [N ...]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

import anyio

from multi_await import as_completed_or_abort, gather_or_abort

REPEATS = 7


async def trivial() -> int:
    return 1


def asyncio_contenders(n: int) -> dict[str, Callable[[], Awaitable[object]]]:
    async def task_group() -> object:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(trivial()) for _ in range(n)]
        return [task.result() for task in tasks]

    contenders: dict[str, Callable[[], Awaitable[object]]] = {}
    if sys.version_info >= (3, 11):
        contenders["asyncio.TaskGroup"] = task_group
    contenders["asyncio.gather"] = lambda: asyncio.gather(*(trivial() for _ in range(n)))
    contenders.update(common_contenders(n))
    return contenders


def trio_contenders(n: int) -> dict[str, Callable[[], Awaitable[object]]]:
    import trio

    async def nursery() -> object:
        results: list[object] = [None] * n

        async def run(index: int) -> None:
            results[index] = await trivial()

        async with trio.open_nursery() as spawner:
            for index in range(n):
                spawner.start_soon(run, index)
        return results

    return {"trio nursery": nursery, **common_contenders(n)}


def common_contenders(n: int) -> dict[str, Callable[[], Awaitable[object]]]:
    async def as_completed() -> object:
        async with as_completed_or_abort([trivial() for _ in range(n)]) as completed:
            return [value async for value in completed]

    contenders: dict[str, Callable[[], Awaitable[object]]] = {
        "gather_or_abort": lambda: gather_or_abort(*(trivial() for _ in range(n))),
        "as_completed_or_abort": as_completed,
    }
    if hasattr(anyio, "gather"):
        contenders["anyio.gather"] = lambda: anyio.gather(*(trivial() for _ in range(n)))
    return contenders


async def measure(
    n: int, make: Callable[[int], dict[str, Callable[[], Awaitable[object]]]]
) -> None:
    contenders = make(n)
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(REPEATS):
        for name, run in contenders.items():
            start = time.perf_counter()
            await run()
            samples[name].append((time.perf_counter() - start) / n * 1e6)
    baseline = statistics.median(next(iter(samples.values())))
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"  {name:24} {median:8.2f} µs/input  {median / baseline:5.2f}x")


def main() -> None:
    sizes = [int(arg) for arg in sys.argv[1:]] or [100, 1000, 10000]
    for n in sizes:
        print(f"asyncio, N={n}")
        anyio.run(measure, n, asyncio_contenders, backend="asyncio")
        print(f"trio, N={n}")
        anyio.run(measure, n, trio_contenders, backend="trio")


if __name__ == "__main__":
    main()
