"""Bugs the property-based tests found, each pinned by a minimal example.

Every test here is marked ``xfail(strict=True)`` while its bug is open: it fails,
as the bug makes it. Once the bug is fixed the test passes, strict xfail turns that
into a failure, and the mark must go (with the workaround the mark names, if any).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
import subprocess
import sys
import textwrap
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from multi_await import (
    FIRST_COMPLETED,
    InputCancelledError,
    gather_or_abort,
    secondary_errors,
    wait_or_abort,
)

from .backends import BACKENDS, TRIO, Backend

VIRTUAL_ASYNCIO = next(backend for backend in BACKENDS if backend.name == "asyncio")
ASYNCIO_BACKENDS = [backend for backend in BACKENDS if backend.asyncio]

#: Seconds a subprocess may take to show that a call returned rather than hung.
SUBPROCESS_SECONDS = 10


def _run_alone(code: str) -> subprocess.CompletedProcess[str]:
    """Run *code* in a fresh interpreter, so that a hang can be told from a failure."""
    try:
        return subprocess.run(
            [sys.executable, "-X", "dev", "-W", "error", "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the call hung: no result within {SUBPROCESS_SECONDS} s")


def test_a_call_made_in_a_cancelled_scope_raises_the_cancellation_on_trio() -> None:
    # The three primitives open their inputs' nursery the same way; one shows it.
    done = _run_alone(
        """
        import anyio, trio
        from multi_await import gather_or_abort

        async def ok():
            return 1

        async def main():
            with anyio.CancelScope() as scope:
                scope.cancel()
                await gather_or_abort(ok())
            assert scope.cancelled_caught

        anyio.run(main, backend="trio")
        print("returned")
        """
    )
    assert done.stdout.strip() == "returned", done.stderr


@pytest.mark.parametrize("kind", ["future", "task", "coroutine"])
def test_an_awaitable_given_again_through_a_callable_is_refused_before_anything_starts(
    kind: str,
) -> None:
    async def one() -> int:
        await asyncio.sleep(0)
        return 1

    async def main() -> None:
        loop = asyncio.get_running_loop()
        if kind == "future":
            aw: Any = loop.create_future()
            aw.set_result(1)
        elif kind == "task":
            aw = loop.create_task(one())
        else:
            aw = one()
        with pytest.raises(TypeError, match="input 1"):
            await gather_or_abort(aw, lambda: aw)
        if kind == "task":
            await aw

    VIRTUAL_ASYNCIO.run(main)


def test_an_input_that_cancels_itself_as_another_fails_is_reported_too() -> None:
    async def fails() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("fails")

    async def cancels_itself() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(0)

    async def main() -> None:
        # Both finish in the same loop iteration, the failing one first.
        with pytest.raises(RuntimeError) as caught:
            await gather_or_abort(fails(), cancels_itself())
        attached = secondary_errors(caught.value)
        assert [type(error) for error in attached] == [InputCancelledError]
        assert attached[0].index == 1  # type: ignore[attr-defined]

    VIRTUAL_ASYNCIO.run(main)


@pytest.mark.xfail(
    strict=True,
    reason="The exception a call raises keeps every input of the call alive, with its "
    "frame and locals, as long as the caller holds the exception: its traceback "
    "holds the frames of gather_or_abort (whose locals aws, given and engine hold the "
    "inputs) and of AbortEngine.run/close (self holds _inputs and values). "
    "asyncio.TaskGroup keeps none of its tasks alive this way.",
)
@pytest.mark.parametrize("backend", BACKENDS, ids=[backend.name for backend in BACKENDS])
def test_a_raised_exception_does_not_keep_the_inputs_alive(backend: Backend) -> None:
    inputs: list[weakref.ref[Any]] = []
    kept: list[BaseException] = []

    async def pending() -> None:
        await anyio.sleep_forever()

    async def fails() -> None:
        await anyio.lowlevel.checkpoint()
        raise RuntimeError("fails")

    async def main() -> None:
        aws = [pending(), pending(), fails()]
        inputs.extend(weakref.ref(aw) for aw in aws)
        try:
            await gather_or_abort(*aws)
        except RuntimeError as exc:
            kept.append(exc)

    backend.run(main)
    gc.collect()
    assert kept
    assert [ref for ref in inputs if ref() is not None] == []


class _CleanupError(Exception):
    pass


class _FirstError(Exception):
    pass


def _no_cycle_left(backend: Backend, call: Callable[[list[Any]], Awaitable[Any]]) -> list[str]:
    """Run *call* on a failing cleanup and another input, with the collector off.

    Returns what is still alive of the inputs and the exceptions once the caller has
    dropped them: anything there is held by a reference cycle.
    """
    alive: list[str] = []

    async def cleanup_fails() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            raise _CleanupError("cleanup")

    async def main() -> None:
        aws = [cleanup_fails(), _other()]
        refs: list[weakref.ref[Any]] = [weakref.ref(aw) for aw in aws]
        try:
            await call(aws)
        except (_FirstError, _CleanupError) as exc:
            refs.append(weakref.ref(exc))
            refs.extend(weakref.ref(error) for error in secondary_errors(exc))
        del aws
        await anyio.lowlevel.checkpoint()
        alive.extend(repr(ref()) for ref in refs if ref() is not None)

    gc.collect()
    gc.disable()
    try:
        backend.run(main)
    finally:
        gc.enable()
    return alive


async def _other() -> None:
    await anyio.lowlevel.checkpoint()
    raise _FirstError("fails")


async def _returns() -> int:
    await anyio.lowlevel.checkpoint()
    return 1


@pytest.mark.parametrize("backend", ASYNCIO_BACKENDS, ids=[b.name for b in ASYNCIO_BACKENDS])
def test_a_cleanup_failure_the_call_raises_leaves_no_reference_cycle_on_asyncio(
    backend: Backend,
) -> None:
    async def first_completed(aws: list[Any]) -> Any:
        aws[1].close()
        return await wait_or_abort([aws[0], _returns()], return_when=FIRST_COMPLETED)

    assert _no_cycle_left(backend, first_completed) == []


@pytest.mark.xfail(
    strict=True,
    reason="Trio: a cleanup failure attached to the first failure is held in a reference "
    "cycle: _run calls input_raised inside its except block, so the abort cancels the "
    "nursery while the first failure is being handled, and the Cancelled that Trio "
    "raises takes it as __context__; the cleanup error raised while handling that "
    "Cancelled is attached to the first failure: first -> attached -> Cancelled -> "
    "first. The printed traceback shows it too: the attached error's note prints the "
    "first failure again, as its context.",
)
def test_a_cleanup_failure_attached_to_the_first_failure_leaves_no_reference_cycle_on_trio() -> (
    None
):
    async def gather(aws: list[Any]) -> Any:
        return await gather_or_abort(*aws)

    assert _no_cycle_left(TRIO, gather) == []


#: Runs of a call whose outcome depends on the order Trio picks: each order comes up
#: about every other run.
ATTEMPTS = 30


class _Box:
    """An awaitable that is not a coroutine, wrapping one."""

    def __init__(self, coroutine: Any) -> None:
        self._coroutine = coroutine

    def __await__(self) -> Any:
        return self._coroutine.__await__()


@pytest.mark.parametrize("how", ["expired timeout", "cancelled caller"])
def test_an_awaitable_is_awaited_even_when_the_call_aborts_before_it_starts_on_trio(
    how: str,
) -> None:
    async def work() -> None:
        await anyio.sleep(1)

    async def main(wrapped: Any) -> None:
        if how == "expired timeout":
            with pytest.raises(TimeoutError):
                await gather_or_abort(_Box(wrapped), timeout=0)
        else:
            with anyio.CancelScope() as scope:
                scope.cancel()
                await gather_or_abort(_Box(wrapped))
            assert scope.cancelled_caught

    # Whether the abort comes before the host task opened the inputs' nursery is up
    # to Trio's scheduler: try enough times for both orders to come up.
    for _ in range(ATTEMPTS):
        wrapped = work()
        try:
            TRIO.run(functools.partial(main, wrapped))
            assert inspect.getcoroutinestate(wrapped) == inspect.CORO_CLOSED
        finally:
            wrapped.close()  # so that the bug, if there, fails this test only
