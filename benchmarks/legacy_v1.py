"""multi-await 1.0.4 on Python 3.9, in a process of its own; run.py starts it.

Version 1.0.4 runs only on Python 3.9 (it passes ``loop=`` to :func:`asyncio.wait`),
and its distribution has the import name of version 2, so its figures cannot be
taken in the process that measures version 2. This script measures the same
workloads the way 1.x is used (inputs are tasks), interleaved with the stdlib
structure a 3.9 user had instead, and prints the figures as JSON; ratios are to that
structure, in this process. It needs a Python 3.9 with ``multi-await==1.0.4 aiotk``::

    python3.9 benchmarks/legacy_v1.py --mode quick --workload spawn abort
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from harness import (
    Measure,
    Result,
    interleave,
    now,
    repetitions,
    set_ratios,
    time_per_input,
    use_clock,
)
from machine import describe_machine

import multi_await  # version 1.0.4

Inputs = list[Callable[[], Awaitable[Any]]]
LEGACY = "multi-await 1.0.4"
MODES = {"quick": (3, 2_000), "default": (7, 20_000), "full": (7, 20_000)}
SIZES = {"quick": (100, 1_000), "default": (100, 1_000, 10_000, 100_000)}
SIZES["full"] = SIZES["default"]
#: As in run.py: 10^5 in full mode only, for the slow samples.
SMALL_SIZES = {"quick": SIZES["quick"], "default": SIZES["default"][:-1], "full": SIZES["full"]}
SOURCES = {"quick": (10, 100), "default": (10, 100, 1_000, 10_000)}
SOURCES["full"] = SOURCES["default"]


def tasks_of(inputs: Inputs) -> list[asyncio.Task]:
    return [asyncio.ensure_future(fn()) for fn in inputs]


async def trivial() -> int:
    return 1


# -- spawn, memory: gather_or_abort of tasks against asyncio.gather ------------------


async def legacy_gather(inputs: Inputs) -> list[Any]:
    return await multi_await.gather_or_abort(*tasks_of(inputs))


async def stdlib_gather(inputs: Inputs) -> list[Any]:
    return await asyncio.gather(*(fn() for fn in inputs))


GATHERS = {"asyncio.gather": stdlib_gather, f"{LEGACY} gather_or_abort": legacy_gather}


def spawn(n: int, repeats: int, per_sample: int) -> dict[str, Measure]:
    calls = repetitions(n, per_sample)
    inputs = [trivial] * n
    return {
        name: partial(time_per_input, partial(run, inputs), n, calls)
        for name, run in GATHERS.items()
    }


async def peak_per_input(run: Callable[[Inputs], Awaitable[Any]], n: int) -> float:
    started = 0
    all_started = asyncio.Event()
    release = asyncio.Event()

    async def waiter() -> None:
        nonlocal started
        started += 1
        if started == n:
            all_started.set()
        await release.wait()

    inputs = [waiter] * n
    tracemalloc.start()
    try:
        call = asyncio.ensure_future(run(inputs))
        await all_started.wait()
        _, peak = tracemalloc.get_traced_memory()
        release.set()
        await call
    finally:
        tracemalloc.stop()
    return peak / n


def memory(n: int, repeats: int, per_sample: int) -> dict[str, Measure]:
    return {name: partial(peak_per_input, run, n) for name, run in GATHERS.items()}


# -- abort latency ---------------------------------------------------------------------


class FailingInputError(Exception):
    pass


async def cancel_and_wait(inputs: Inputs) -> Any:
    """What a careful 3.9 user writes by hand: wait, cancel the rest, wait for them."""
    tasks = tasks_of(inputs)
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    return [task.result() for task in tasks if task in done]


async def legacy_wait(inputs: Inputs) -> Any:
    return await multi_await.wait_or_abort(tasks_of(inputs))


async def legacy_as_completed(inputs: Inputs) -> Any:
    return [await step for step in multi_await.as_completed_or_abort(tasks_of(inputs))]


async def latency(run: Callable[[Inputs], Awaitable[Any]], n: int) -> float:
    started = 0
    all_started = asyncio.Event()
    raised_at = 0.0

    async def sleeper() -> None:
        nonlocal started
        started += 1
        if started == n:
            all_started.set()
        await asyncio.sleep(86_400)

    async def failer() -> None:
        nonlocal raised_at
        await all_started.wait()
        raised_at = now()
        raise FailingInputError

    inputs: Inputs = [sleeper] * n
    inputs.append(failer)
    try:
        await run(inputs)
    except FailingInputError:
        caught_at = now()
    else:
        raise AssertionError("the failing input did not fail the call")
    return (caught_at - raised_at) * 1e6


async def mean_latency(run: Callable[[Inputs], Awaitable[Any]], n: int, calls: int) -> float:
    return sum([await latency(run, n) for _ in range(calls)]) / calls


def abort(n: int, repeats: int, per_sample: int) -> dict[str, Measure]:
    calls = repetitions(n, per_sample // 10)
    runs = {
        "asyncio.wait + cancel (by hand)": cancel_and_wait,
        f"{LEGACY} gather_or_abort": legacy_gather,
        f"{LEGACY} wait_or_abort": legacy_wait,
        f"{LEGACY} as_completed_or_abort": legacy_as_completed,
    }
    return {name: partial(mean_latency, run, n, calls) for name, run in runs.items()}


# -- completion order, foreign tasks --------------------------------------------------


async def stdlib_as_completed(inputs: Inputs) -> Any:
    return [await step for step in asyncio.as_completed([fn() for fn in inputs])]


def as_completed(n: int, repeats: int, per_sample: int) -> dict[str, Measure]:
    calls = repetitions(n, per_sample)
    inputs = [trivial] * n
    runs = {
        "asyncio.as_completed": stdlib_as_completed,
        f"{LEGACY} as_completed_or_abort": legacy_as_completed,
    }
    return {
        name: partial(time_per_input, partial(run, inputs), n, calls) for name, run in runs.items()
    }


async def time_wait(wait: Callable[..., Awaitable[Any]], n: int, calls: int) -> float:
    elapsed = 0.0
    for _ in range(calls):
        tasks = [asyncio.ensure_future(trivial()) for _ in range(n)]
        start = now()
        await wait(*tasks)
        elapsed += now() - start
    return elapsed / (n * calls) * 1e6


def foreign_tasks(n: int, repeats: int, per_sample: int) -> dict[str, Measure]:
    calls = repetitions(n, per_sample)
    waits = {
        "asyncio.gather": asyncio.gather,
        f"{LEGACY} gather_or_abort": multi_await.gather_or_abort,
    }
    return {name: partial(time_wait, wait, n, calls) for name, wait in waits.items()}


# -- the select loop ------------------------------------------------------------------


async def feed_and_take(
    queues: list[asyncio.Queue], take: Callable[[], Awaitable[int]], items: int, burst: bool
) -> float:
    sources = len(queues)
    start = now()
    if burst:
        rounds = max(1, items // sources)
        for round_number in range(rounds):
            for queue in queues:
                queue.put_nowait(round_number)
            taken = 0
            while taken < sources:
                taken += await take()
        items = rounds * sources
    else:
        for index in range(items):
            queues[index % sources].put_nowait(index)
            await take()
    return (now() - start) / items * 1e6


async def legacy_select(sources: int, items: int, burst: bool) -> float:
    queues = [asyncio.Queue() for _ in range(sources)]
    async with multi_await.multi_await() as selector:
        for queue in queues:
            selector.add(queue.get)
        queues[0].put_nowait(None)
        await selector.get()

        async def take() -> int:
            completed, _ = await selector.get()
            return len(completed) - completed.count(None)  # the cheapest scan of the list

        return await feed_and_take(queues, take, items, burst)


async def fan_in(sources: int, items: int, burst: bool) -> float:
    queues = [asyncio.Queue() for _ in range(sources)]
    out: asyncio.Queue = asyncio.Queue()

    async def forward(index: int, queue: asyncio.Queue) -> None:
        while True:
            out.put_nowait((index, await queue.get()))

    async def take() -> int:
        await out.get()
        return 1

    forwarders = [asyncio.ensure_future(forward(i, q)) for i, q in enumerate(queues)]
    try:
        queues[0].put_nowait(None)
        await out.get()
        return await feed_and_take(queues, take, items, burst)
    finally:
        for task in forwarders:
            task.cancel()
        await asyncio.gather(*forwarders, return_exceptions=True)


def select(burst: bool) -> Callable[[int, int, int], dict[str, Measure]]:
    def contenders(sources: int, repeats: int, per_sample: int) -> dict[str, Measure]:
        items = max(50, min(per_sample // 10, 200_000 // sources))
        return {
            "fan-in queue (by hand)": partial(fan_in, sources, items, burst),
            f"{LEGACY} MultiAwait.get": partial(legacy_select, sources, items, burst),
        }

    return contenders


WORKLOADS = {
    "spawn": (spawn, SIZES, "µs per input", "asyncio.gather"),
    "abort": (abort, SMALL_SIZES, "µs", "asyncio.wait + cancel (by hand)"),
    "memory": (memory, SMALL_SIZES, "bytes per input", "asyncio.gather"),
    "as_completed": (as_completed, SIZES, "µs per item", "asyncio.as_completed"),
    "foreign_tasks": (foreign_tasks, SMALL_SIZES, "µs per input", "asyncio.gather"),
    "select_one": (select(False), SOURCES, "µs per item", "fan-in queue (by hand)"),
    "select_all": (select(True), SOURCES, "µs per item", "fan-in queue (by hand)"),
}


async def measure(mode: str, names: list[str]) -> list[Result]:
    repeats, per_sample = MODES[mode]
    results: list[Result] = []
    for name in names:
        contenders, sizes, unit, baseline = WORKLOADS[name]
        for n in sizes[mode]:
            started = time.perf_counter()
            rounds = repeats if n <= 10_000 else min(repeats, 5 if n <= 100_000 else 3)
            if name == "memory":
                rounds = min(rounds, 3)
            samples = await interleave(contenders(n, repeats, per_sample), rounds)
            print(
                f"  {name:13} {'asyncio, 1.0.4':15} {n:>8}  {time.perf_counter() - started:6.1f} s",
                file=sys.stderr,
            )
            group = [
                Result(name, "asyncio", n, implementation, unit, values)
                for implementation, values in samples.items()
            ]
            set_ratios(group, baseline)
            results += [r for r in group if r.implementation.startswith(LEGACY)]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="multi-await 1.0.4, on Python 3.9")
    parser.add_argument("--mode", choices=MODES, default="default")
    parser.add_argument("--workload", nargs="*", default=list(WORKLOADS))
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args()
    use_clock(args.clock)
    info = describe_machine(["multi-await", "aiotk"])
    results = asyncio.run(measure(args.mode, [w for w in args.workload if w in WORKLOADS]))
    for result in results:
        result.process = {"python": info["python"], "libraries": info["libraries"]}
    json.dump({"machine": info, "results": [r.as_json() for r in results]}, sys.stdout)


if __name__ == "__main__":
    main()
