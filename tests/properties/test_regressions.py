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
    as_completed_or_abort,
    gather_or_abort,
    secondary_errors,
    wait_or_abort,
)

from .backends import BACKENDS, TRIO, Backend
from .checks import check_run
from .harness import run_example
from .model import Call, Cleanup, Leaf, Outer, Schedule

VIRTUAL_ASYNCIO = next(backend for backend in BACKENDS if backend.name == "asyncio")
ASYNCIO_BACKENDS = [backend for backend in BACKENDS if backend.asyncio]
#: Where the instants of a schedule are exact (uvloop's are not, see backends.py).
VIRTUAL_ASYNCIO_BACKENDS = [backend for backend in ASYNCIO_BACKENDS if backend.virtual]

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


class _Box:
    """An awaitable that is not a coroutine, wrapping one."""

    def __init__(self, coroutine: Any) -> None:
        self._coroutine = coroutine

    def __await__(self) -> Any:
        return self._coroutine.__await__()


class _Result:
    """A result that can be referenced weakly."""


async def _pending_cleanup_fails() -> None:
    try:
        await anyio.sleep_forever()
    finally:
        raise _CleanupError("cleanup")


async def _fails() -> None:
    await anyio.lowlevel.checkpoint()
    raise _FirstError("fails")


async def _returns_result(refs: list[weakref.ref[Any]]) -> _Result:
    result = _Result()
    refs.append(weakref.ref(result))
    return result


def _inputs(form: str, refs: list[weakref.ref[Any]]) -> list[Any]:
    """Inputs in *form*, weakly referenced in *refs*: the caller keeps none of them."""
    made = [_pending_cleanup_fails(), _returns_result(refs), _fails()]
    refs.extend(weakref.ref(coroutine) for coroutine in made)
    if form == "awaitable":
        boxes = [_Box(coroutine) for coroutine in made]
        refs.extend(weakref.ref(box) for box in boxes)
        return boxes
    if form == "callable":
        return [functools.partial(lambda made: made, coroutine) for coroutine in made]
    return made


@pytest.mark.parametrize("form", ["coroutine", "callable", "awaitable"])
@pytest.mark.parametrize("backend", BACKENDS, ids=[backend.name for backend in BACKENDS])
def test_a_raised_exception_does_not_keep_the_inputs_alive(backend: Backend, form: str) -> None:
    # The caller's own frame is in the traceback too: what its locals hold stays
    # alive with the exception (Python's doing, see docs/reliability.rst). So the
    # inputs are made where the caller keeps no reference to them: then nothing in
    # the exception, its traceback or the failures attached to it may hold them.
    refs: list[weakref.ref[Any]] = []
    kept: list[BaseException] = []

    async def main() -> None:
        try:
            await gather_or_abort(*_inputs(form, refs))
        except _FirstError as exc:
            kept.append(exc)

    backend.run(main)
    gc.collect()
    assert [type(error) for error in secondary_errors(kept[0])] == [_CleanupError]
    assert [repr(ref()) for ref in refs if ref() is not None] == []


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
        except (_FirstError, _CleanupError, TimeoutError) as exc:
            if type(exc) is not TimeoutError:  # builtins cannot be referenced weakly
                refs.append(weakref.ref(exc))  # (the failures attached to it can)
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


def test_a_cleanup_failure_attached_to_the_first_failure_leaves_no_reference_cycle_on_trio() -> (
    None
):
    async def gather(aws: list[Any]) -> Any:
        return await gather_or_abort(*aws)

    assert _no_cycle_left(TRIO, gather) == []


async def _loop_body_raises(aws: list[Any]) -> None:
    aws[1].close()
    async with as_completed_or_abort([aws[0], _returns()]) as completed:
        async for _ in completed:
            raise _FirstError("the loop's body failed")


async def _times_out(aws: list[Any]) -> None:
    aws[1].close()
    await gather_or_abort(aws[0], timeout=0.01)


async def _caller_cancelled(aws: list[Any]) -> None:
    aws[1].close()
    with anyio.move_on_after(0.01):
        await gather_or_abort(aws[0])


async def _first_completed(aws: list[Any]) -> None:
    aws[1].close()
    await wait_or_abort([aws[0], _returns()], return_when=FIRST_COMPLETED)


@pytest.mark.parametrize(
    "call",
    [_loop_body_raises, _times_out, _caller_cancelled, _first_completed],
    ids=lambda call: call.__name__.strip("_"),
)
@pytest.mark.parametrize("backend", BACKENDS, ids=[backend.name for backend in BACKENDS])
def test_a_cleanup_failure_leaves_no_reference_cycle_however_the_call_ends(
    backend: Backend, call: Callable[[list[Any]], Awaitable[Any]]
) -> None:
    # On Trio the loop's body raising used to leave a cycle (the abort ran while its
    # exception was handled, so the Cancelled took it as __context__); the caller
    # cancelled too, on every backend (the frames that caught the cancellation kept
    # it, and their traceback holds them).
    assert _no_cycle_left(backend, call) == []


@pytest.mark.parametrize(
    "backend", VIRTUAL_ASYNCIO_BACKENDS, ids=[b.name for b in VIRTUAL_ASYNCIO_BACKENDS]
)
def test_a_call_an_input_failed_by_cancelling_itself_may_end_past_its_deadline(
    backend: Backend,
) -> None:
    # Found on Python 3.10 as "ran past its deadline t=1 to t=2, then ended with
    # failure, not TimeoutError": a fault of the checks, not of the library. The
    # input that cancels its own task at t=0 fails the call there, the input still
    # running takes two ticks to clean up, and the call rightly raises that failure
    # at t=2. Python 3.10 cannot tell a task's own cancellation from the call's, and
    # the checks took the failure for no reason to abort at all. (Where time is real,
    # the one tick of timeout may pass before the input cancels itself.)
    returns = Leaf(body="return")
    schedule = Schedule(
        call=Call(
            primitive="gather",
            inputs=(
                returns,
                returns,
                Leaf(body="forever", cleanup=Cleanup(ticks=2)),
                Leaf(body="self_cancel"),
            ),
            timeout=1.0,
        ),
        outer=Outer(how="none"),
    )
    run = run_example(backend, schedule)
    check_run(run)
    top = run.nodes[0]
    assert isinstance(top.raised, InputCancelledError)
    assert top.raised.index == 3
    assert top.end == 2


#: Where the inputs are still running when an immediate timeout fires: under the eager
#: factory they start inside create_task and both return before it.
LAZY_ASYNCIO_BACKENDS = [backend for backend in ASYNCIO_BACKENDS if backend.name != "asyncio+eager"]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout() is 3.11+")
@pytest.mark.parametrize(
    "backend", LAZY_ASYNCIO_BACKENDS, ids=[b.name for b in LAZY_ASYNCIO_BACKENDS]
)
def test_a_frozen_failure_under_an_expired_asyncio_timeout_is_cpythons_to_replace(
    backend: Backend,
) -> None:
    # Found on Python 3.14 as "the call raised FrozenError, but FrozenInstanceError
    # left the caller": a fault of the checks. From 3.13 an expired asyncio.timeout()
    # writes a TimeoutError into the context chain of the exception leaving it, which
    # a frozen dataclass refuses; asyncio.TaskGroup meets the same.
    schedule = Schedule(
        call=Call(
            primitive="gather",
            inputs=(
                Leaf(body="return"),
                Leaf(
                    body="return",
                    checkpoints=1,
                    cleanup=Cleanup(ending="raise_odd"),
                    odd="frozen",
                ),
            ),
        ),
        outer=Outer(how="asyncio_timeout", at=0),
    )
    run = run_example(backend, schedule)
    check_run(run)
    assert type(run.nodes[0].raised).__name__ == "FrozenError"
    replaced = sys.version_info >= (3, 13)
    assert (type(run.outer.escaped).__name__ == "FrozenInstanceError") is replaced


#: Runs of a call whose outcome depends on the order Trio picks: each order comes up
#: about every other run.
ATTEMPTS = 30


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
