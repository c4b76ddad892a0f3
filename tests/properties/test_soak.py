"""Soak: many calls with random failures in one process; nothing accumulates.

The ``ci`` profile makes 10^5 calls in all (a quarter per backend, on four
backends); the default profile 2,000. After every call, once the caller has let go
of the result or the exception, weak references show that the inputs, their
results and every exception (the raised one and those attached to it) are gone,
with the garbage collector switched off, so that a reference cycle anywhere (a
traceback holding a frame holding the exception, say) would show at once. Memory,
traced with tracemalloc over the second half of the calls, stays flat from the first
tenth of that half to its end.
"""

from __future__ import annotations

import gc
import random
import tracemalloc
import weakref
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from multi_await import (
    FIRST_COMPLETED,
    as_completed_or_abort,
    gather_or_abort,
    secondary_errors,
    wait_or_abort,
)

from .backends import BACKEND_PARAMS, BACKENDS, Backend
from .conftest import is_ci_profile

#: Calls in all, shared by the backends.
CALLS_CI = 100_000
CALLS_DEFAULT = 2_000
#: Growth of traced memory allowed over the traced half, after its first tenth. Not
#: zero: Trio drops the deadlines of cancel scopes left early from its heap lazily,
#: once about a thousand have piled up (a bounded ~250 KiB). A leak of even a few
#: dozen bytes per call exceeds it long before the end of the ``ci`` soak.
FLAT_BYTES = 512 * 1024
#: The backends on which a call may leave a reference cycle, which the cyclic
#: collector then frees. Only eager tasks: an input that fails before its first
#: await fails inside ``loop.create_task()``, so its exception's traceback links
#: back to asyncio's own ``create_task`` frame, which holds the task, which holds
#: the exception. No frame of multi_await is needed for that cycle, and
#: :class:`asyncio.TaskGroup` leaves the very same one with eager tasks.
CYCLES_TOLERATED = frozenset({"asyncio+eager"})


class Result:
    """A result that can be referenced weakly."""

    __slots__ = ("__weakref__",)


class SoakError(Exception):
    pass


class SoakCleanupError(Exception):
    pass


async def _returns(checkpoints: int) -> Result:
    for _ in range(checkpoints):
        await anyio.lowlevel.checkpoint()
    return Result()


async def _raises(checkpoints: int) -> None:
    for _ in range(checkpoints):
        await anyio.lowlevel.checkpoint()
    raise SoakError


async def _pending(cleanup_fails: bool) -> None:
    try:
        await anyio.sleep_forever()
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.lowlevel.checkpoint()
        if cleanup_fails:
            raise SoakCleanupError


def _inputs(rng: random.Random) -> list[Any]:
    kinds = [rng.choice("rrrxp") for _ in range(rng.randint(1, 4))]
    if "p" in kinds and "x" not in kinds:
        kinds.append("x")  # something must end the call
    made: list[Any] = []
    for kind in kinds:
        if kind == "r":
            made.append(_returns(rng.randint(0, 3)))
        elif kind == "x":
            made.append(_raises(rng.randint(0, 3)))
        else:
            made.append(_pending(rng.random() < 0.3))
    return made


async def _one_call(rng: random.Random, refs: list[weakref.ref[Any]]) -> None:
    """Make one random call; leave weak references to all it touched in *refs*."""
    aws = _inputs(rng)
    refs.extend(weakref.ref(aw) for aw in aws)
    primitive = rng.choice(("gather", "wait", "first", "as_completed"))
    try:
        if primitive == "gather":
            results = await gather_or_abort(*aws)
        elif primitive == "wait":
            results = [item.result() for item in await wait_or_abort(aws)]
        elif primitive == "first":
            results = [
                item.result() for item in await wait_or_abort(aws, return_when=FIRST_COMPLETED)
            ]
        else:
            async with as_completed_or_abort(aws) as completed:
                results = [value async for value in completed]
    except (SoakError, SoakCleanupError) as exc:
        refs.append(weakref.ref(exc))
        refs.extend(weakref.ref(error) for error in secondary_errors(exc))
    else:
        refs.extend(weakref.ref(result) for result in results)
        del results


def _calls_per_backend() -> int:
    total = CALLS_CI if is_ci_profile() else CALLS_DEFAULT
    return total // len(BACKENDS)


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_many_calls_leave_nothing_behind_and_memory_flat(backend: Backend) -> None:
    calls = _calls_per_backend()
    rng = random.Random(f"soak {backend.name}")
    traced: list[int] = []
    leaks: list[str] = []
    cycles: list[int] = []

    async def main() -> None:
        for number in range(calls):
            if number == calls // 2:
                tracemalloc.start()  # tracing doubles the cost of a call: half is enough
            if number == calls // 2 + calls // 20:
                traced.append(tracemalloc.get_traced_memory()[0])
            refs: list[weakref.ref[Any]] = []
            await _one_call(rng, refs)
            if any(ref() is not None for ref in refs):
                cycles.append(number)
                gc.collect()
            alive = [repr(ref()) for ref in refs if ref() is not None]
            if alive:
                leaks.append(f"call {number} left alive: {alive}")
                return
        traced.append(tracemalloc.get_traced_memory()[0])

    gc.collect()
    gc.disable()
    try:
        backend.run(main, debug=False)
    finally:
        tracemalloc.stop()
        gc.enable()
    assert leaks == []
    if backend.name not in CYCLES_TOLERATED:
        assert cycles == [], f"{len(cycles)} of {calls} calls left reference cycles"
    assert traced[1] - traced[0] < FLAT_BYTES, f"traced memory grew from {traced[0]} to {traced[1]}"
