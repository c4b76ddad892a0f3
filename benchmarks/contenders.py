"""multi_await and the structures a user would pick instead, each as one way to run inputs.

Every contender takes the inputs as async functions of no argument and runs them the
way its library is meant to be used: coroutines for those that take coroutines,
``start_soon(fn)`` for a Trio nursery. A peer that is not installed, or not in this
version of its library, is simply absent.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import inspect
import math
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from loops import Loop

import multi_await

Inputs = Sequence[Callable[[], Awaitable[Any]]]
Run = Callable[[Inputs], Awaitable[list[Any]]]

TASK_GROUP = "asyncio.TaskGroup"
GATHER = "asyncio.gather"
NURSERY = "trio nursery"
ANYIO_TASK_GROUP = "anyio task group"


@dataclass(frozen=True)
class Contender:
    name: str
    run: Run
    #: Cancels the other inputs on a failure and waits for them before raising.
    aborts: bool = True


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def accepts(function: Callable[..., Any], keyword: str) -> bool:
    """Whether *function* takes the keyword argument *keyword* (features still landing)."""
    return keyword in inspect.signature(function).parameters


def baseline(loop: Loop) -> str:
    """The native structure every ratio on *loop* is taken against."""
    if not loop.is_asyncio:
        return NURSERY
    return TASK_GROUP if sys.version_info >= (3, 11) else GATHER


# -- gathering: every result, in input order ---------------------------------------


def gatherers(loop: Loop) -> list[Contender]:
    """Ways to run N inputs and get their results in input order."""
    found: list[Contender] = []
    if loop.is_asyncio:
        if sys.version_info >= (3, 11):
            found.append(Contender(TASK_GROUP, _task_group))
        found.append(Contender(GATHER, _asyncio_gather, aborts=False))
    else:
        found.append(Contender(NURSERY, _nursery))
    found += [
        Contender("gather_or_abort", _gather_or_abort),
        Contender("wait_or_abort", _wait_or_abort),
        Contender("as_completed_or_abort", _as_completed_or_abort),
    ]
    if hasattr(anyio, "gather"):
        found.append(Contender("anyio.gather", _anyio_gather))
    if loop.is_asyncio and installed("quattro"):
        found.append(Contender("quattro.gather", _quattro_gather))
    if loop.is_asyncio and installed("aiotools"):
        # Returns failures in place, like asyncio.gather(return_exceptions=True).
        found.append(Contender("aiotools.gather_safe", _aiotools_gather_safe, aborts=False))
    return found


async def _task_group(inputs: Inputs) -> list[Any]:
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fn()) for fn in inputs]
    return [task.result() for task in tasks]


async def _asyncio_gather(inputs: Inputs) -> list[Any]:
    return await asyncio.gather(*(fn() for fn in inputs))


async def _nursery(inputs: Inputs) -> list[Any]:
    import trio

    return await _each_kept(trio.open_nursery(), inputs)


async def _each_kept(group: Any, inputs: Inputs) -> list[Any]:
    """Start each of *inputs* in *group* (a nursery, a task group); their results."""
    results: list[Any] = [None] * len(inputs)

    async def keep(index: int, fn: Callable[[], Awaitable[Any]]) -> None:
        results[index] = await fn()

    async with group as started:
        for index, fn in enumerate(inputs):
            started.start_soon(keep, index, fn)
    return results


async def _gather_or_abort(inputs: Inputs) -> list[Any]:
    return await multi_await.gather_or_abort(*(fn() for fn in inputs))


async def _wait_or_abort(inputs: Inputs) -> list[Any]:
    done = await multi_await.wait_or_abort([fn() for fn in inputs])
    return [item.result() for item in done]


async def _as_completed_or_abort(inputs: Inputs) -> list[Any]:
    async with multi_await.as_completed_or_abort([fn() for fn in inputs]) as completed:
        return [value async for value in completed]


async def anyio_task_group(inputs: Inputs) -> list[Any]:
    """Run *inputs* in an AnyIO task group; their results in input order."""
    return await _each_kept(anyio.create_task_group(), inputs)


async def _anyio_gather(inputs: Inputs) -> list[Any]:
    return list(await anyio.gather(*(fn() for fn in inputs)))


async def _quattro_gather(inputs: Inputs) -> list[Any]:
    import quattro

    return list(await quattro.gather(*(fn() for fn in inputs)))


async def _aiotools_gather_safe(inputs: Inputs) -> list[Any]:
    import aiotools

    return await aiotools.gather_safe([fn() for fn in inputs])


# -- completion order ----------------------------------------------------------------


def completers(loop: Loop) -> list[Contender]:
    """Ways to run N inputs and take each result as it arrives."""
    found: list[Contender] = []
    if loop.is_asyncio:
        found.append(Contender("asyncio.as_completed", _asyncio_as_completed, aborts=False))
    else:
        found.append(Contender("trio nursery + channel", _nursery_channel))
    found.append(Contender("as_completed_or_abort", _as_completed_or_abort))
    if hasattr(anyio, "as_completed"):
        found.append(Contender("anyio.as_completed", _anyio_as_completed))
    if loop.is_asyncio and installed("aiotools"):
        found.append(Contender("aiotools.as_completed_safe", _aiotools_as_completed_safe))
    return found


def completion_baseline(loop: Loop) -> str:
    return "asyncio.as_completed" if loop.is_asyncio else "trio nursery + channel"


async def _asyncio_as_completed(inputs: Inputs) -> list[Any]:
    return [await step for step in asyncio.as_completed([fn() for fn in inputs])]


async def _nursery_channel(inputs: Inputs) -> list[Any]:
    import trio

    send, receive = trio.open_memory_channel[Any](math.inf)

    async def forward(fn: Callable[[], Awaitable[Any]]) -> None:
        send.send_nowait(await fn())

    async with trio.open_nursery() as nursery:
        for fn in inputs:
            nursery.start_soon(forward, fn)
        return [await receive.receive() for _ in inputs]


async def _anyio_as_completed(inputs: Inputs) -> list[Any]:
    async with anyio.as_completed(*(fn() for fn in inputs)) as handles:
        return [handle.return_value async for handle in handles]


async def _aiotools_as_completed_safe(inputs: Inputs) -> list[Any]:
    import aiotools

    steps = aiotools.as_completed_safe([fn() for fn in inputs])
    async with contextlib.aclosing(steps):
        return [await step async for step in steps]


# -- bounded concurrency: at most k inputs at once -----------------------------------


def bounded(loop: Loop, limit: int) -> list[Contender]:
    """Ways to run N inputs, at most *limit* at once, and get their results in order."""

    async def with_semaphore(inputs: Inputs) -> list[Any]:
        semaphore = asyncio.Semaphore(limit)

        async def one(fn: Callable[[], Awaitable[Any]]) -> Any:
            async with semaphore:
                return await fn()

        limited = [lambda fn=fn: one(fn) for fn in inputs]
        if sys.version_info >= (3, 11):
            return await _task_group(limited)
        return await _asyncio_gather(limited)

    async def with_limiter(inputs: Inputs) -> list[Any]:
        import trio

        limiter = trio.CapacityLimiter(limit)

        async def one(fn: Callable[[], Awaitable[Any]]) -> Any:
            async with limiter:
                return await fn()

        return await _nursery([lambda fn=fn: one(fn) for fn in inputs])

    async def gather_or_abort(inputs: Inputs) -> list[Any]:
        return await multi_await.gather_or_abort(*(fn() for fn in inputs), max_concurrency=limit)

    async def wait_or_abort(inputs: Inputs) -> list[Any]:
        done = await multi_await.wait_or_abort([fn() for fn in inputs], max_concurrency=limit)
        return [item.result() for item in done]

    async def as_completed_or_abort(inputs: Inputs) -> list[Any]:
        completed_or_abort = multi_await.as_completed_or_abort(
            [fn() for fn in inputs], max_concurrency=limit
        )
        async with completed_or_abort as completed:
            return [value async for value in completed]

    async def quattro_gather(inputs: Inputs) -> list[Any]:
        import quattro

        return list(await quattro.gather(*(fn() for fn in inputs), concurrency_limit=limit))

    async def aiometer_run_all(inputs: Inputs) -> list[Any]:
        import aiometer

        return await aiometer.run_all(inputs, max_at_once=limit)

    native = with_semaphore if loop.is_asyncio else with_limiter
    found: list[Contender] = [Contender(bounded_baseline(loop), native)]
    if accepts(multi_await.gather_or_abort, "max_concurrency"):
        found.append(Contender("gather_or_abort", gather_or_abort))
    if accepts(multi_await.wait_or_abort, "max_concurrency"):
        found.append(Contender("wait_or_abort", wait_or_abort))
    if accepts(multi_await.as_completed_or_abort, "max_concurrency"):
        found.append(Contender("as_completed_or_abort", as_completed_or_abort))
    if loop.is_asyncio and installed("quattro"):
        import quattro

        if accepts(quattro.gather, "concurrency_limit"):  # quattro 26.1 and later
            found.append(Contender("quattro.gather", quattro_gather))
    if installed("aiometer"):
        found.append(Contender("aiometer.run_all", aiometer_run_all))
    return found


def bounded_baseline(loop: Loop) -> str:
    if not loop.is_asyncio:
        return "nursery + CapacityLimiter"
    return "TaskGroup + Semaphore" if sys.version_info >= (3, 11) else "gather + Semaphore"
