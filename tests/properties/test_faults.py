"""Faults injected on purpose, beyond the random schedules.

Inputs that ignore their cancellation for a while, cleanups cancelled from outside,
``KeyboardInterrupt``-like exceptions, and one call with 10^5 pending inputs. Each
example runs in a fresh event loop with a virtual clock where the backend has one
(see ``backends.py``), so that "neither returns early nor hangs" is checked to the
exact virtual instant.
"""

from __future__ import annotations

import asyncio
import gc
import math
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

from .backends import ASYNCIO_PARAMS, BACKEND_PARAMS, TRIO, Backend
from .conftest import is_ci_profile
from .harness import CleanupError, InputError, Interrupt

#: How long an input keeps working after it was cancelled.
IGNORES_FOR = 1_000.0
#: Where the clock is real (uvloop), a short time stands for IGNORES_FOR.
IGNORES_FOR_REAL = 0.05
#: A call that outlives the moment it should end by this much (real clock) has hung.
REAL_SLACK = 5.0


def _ignores_for(backend: Backend) -> float:
    return IGNORES_FOR if backend.virtual else IGNORES_FOR_REAL


def _soon(backend: Backend) -> float:
    """When the input that fails first fails: a virtual second, or 10 ms of real time."""
    return 1.0 if backend.virtual else 0.01


async def _first_failure_then(fail_at: float, error: BaseException) -> None:
    await anyio.sleep(fail_at)
    raise error


async def _call(primitive: str, aws: list[Any]) -> Any:
    if primitive == "gather":
        return await gather_or_abort(*aws)
    if primitive == "wait":
        return await wait_or_abort(aws)
    if primitive == "wait_first_completed":
        return await wait_or_abort(aws, return_when=FIRST_COMPLETED)
    async with as_completed_or_abort(aws) as completed:
        return [value async for value in completed]


PRIMITIVES = ["gather", "wait", "wait_first_completed", "as_completed"]


class Log:
    """What the inputs of one example did, with the (virtual) time of each step."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, float]] = []
        self._waiting: dict[str, anyio.Event] = {}

    def __call__(self, step: str) -> None:
        self.steps.append((step, anyio.current_time()))
        if step in self._waiting:
            self._waiting.pop(step).set()

    async def reached(self, step: str) -> None:
        """Return once *step* was logged."""
        if step not in self.names():
            await self._waiting.setdefault(step, anyio.Event()).wait()

    def time_of(self, step: str) -> float:
        return next(time for name, time in self.steps if name == step)

    def names(self) -> list[str]:
        return [name for name, _ in self.steps]


# -- inputs that ignore their cancellation for a while ------------------------------


async def _shielded_worker(log: Log, seconds: float) -> None:
    """Keeps working, shielded, for *seconds* after it is cancelled."""
    try:
        await anyio.sleep_forever()
    finally:
        log("cancelled")
        with anyio.CancelScope(shield=True):
            await anyio.sleep(seconds)
        log("finished")


async def _stubborn_worker(log: Log, seconds: float) -> None:
    """Catches its cancellation and sleeps on, unshielded: asyncio cancels it only once."""
    try:
        await anyio.sleep_forever()
    except asyncio.CancelledError:
        log("cancelled")
        await asyncio.sleep(seconds)
        log("finished")
        raise


async def _relentless_worker(log: Log, times: int) -> None:
    """On Trio: catches the level-triggered cancellation at *times* checkpoints in a row."""
    import trio

    try:
        await trio.sleep_forever()
    except trio.Cancelled:
        log("cancelled")
        for _ in range(times):
            try:
                await trio.lowlevel.checkpoint()
            except trio.Cancelled:
                continue
        log("finished")
        raise


@pytest.mark.parametrize("primitive", PRIMITIVES)
@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_a_call_waits_exactly_as_long_as_a_shielded_input_keeps_working(
    backend: Backend, primitive: str
) -> None:
    log, seconds = Log(), _ignores_for(backend)
    error = InputError("first")

    async def main() -> None:
        with pytest.raises(InputError) as caught:
            await _call(
                primitive,
                [_shielded_worker(log, seconds), _first_failure_then(_soon(backend), error)],
            )
        log("call ended")
        assert caught.value is error

    backend.run(main)
    assert log.names() == ["cancelled", "finished", "call ended"]
    _ended_when_the_input_finished(backend, log, seconds)


def _ended_when_the_input_finished(backend: Backend, log: Log, seconds: float) -> None:
    cancelled, finished = log.time_of("cancelled"), log.time_of("finished")
    ended = log.time_of("call ended")
    if backend.virtual:
        assert finished == cancelled + seconds
        assert ended == finished  # not a moment earlier (2.2), not a moment later
    else:
        assert ended >= finished >= cancelled + seconds * 0.9
        assert ended - finished < REAL_SLACK


@pytest.mark.parametrize("primitive", PRIMITIVES)
@pytest.mark.parametrize("backend", ASYNCIO_PARAMS)
def test_a_call_waits_for_an_input_that_catches_its_one_cancellation_and_works_on(
    backend: Backend, primitive: str
) -> None:
    log, seconds = Log(), _ignores_for(backend)

    async def main() -> None:
        with pytest.raises(InputError):
            await _call(
                primitive,
                [_stubborn_worker(log, seconds), _first_failure_then(_soon(backend), InputError())],
            )
        log("call ended")

    backend.run(main)
    _ended_when_the_input_finished(backend, log, seconds)


@pytest.mark.parametrize("primitive", PRIMITIVES)
def test_on_trio_a_call_waits_for_an_input_that_catches_many_cancellations(
    primitive: str,
) -> None:
    log = Log()
    backend = TRIO

    async def main() -> None:
        with pytest.raises(InputError):
            await _call(
                primitive,
                [_relentless_worker(log, 1_000), _first_failure_then(_soon(backend), InputError())],
            )
        log("call ended")

    backend.run(main)
    assert log.names() == ["cancelled", "finished", "call ended"]


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_the_timeout_fires_on_time_and_the_call_then_waits_for_a_slow_cleanup(
    backend: Backend,
) -> None:
    log, seconds = Log(), _ignores_for(backend)
    timeout = 7.0 if backend.virtual else 0.01

    async def main() -> None:
        start = anyio.current_time()
        with pytest.raises(TimeoutError):
            await gather_or_abort(_shielded_worker(log, seconds), timeout=timeout)
        log("call ended")
        if backend.virtual:
            assert log.time_of("cancelled") == start + timeout
        else:
            assert log.time_of("cancelled") >= start + timeout

    backend.run(main)
    _ended_when_the_input_finished(backend, log, seconds)


# -- cleanups cancelled from outside ------------------------------------------------


@pytest.mark.parametrize("backend", ASYNCIO_PARAMS)
@pytest.mark.parametrize("whose", ["foreign task", "own task"])
def test_an_input_whose_cleanup_is_cancelled_again_by_somebody_else_is_waited_for(
    backend: Backend, whose: str
) -> None:
    log = Log()
    error = InputError("first")
    tasks: list[asyncio.Task[Any]] = []

    async def cleans_up_slowly() -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.append(task)
        try:
            await asyncio.sleep(math.inf)
        finally:
            log("cleanup began")
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                log("cleanup cancelled")
                raise

    async def cancels_the_cleanup() -> None:
        await log.reached("cleanup began")
        tasks[0].cancel()  # a second cancel(), not ours: it cuts the cleanup short

    async def main() -> None:
        loop = asyncio.get_running_loop()
        victim: Any = cleans_up_slowly()
        if whose == "foreign task":
            victim = loop.create_task(victim)
        canceller = loop.create_task(cancels_the_cleanup())
        with pytest.raises(InputError) as caught:
            await gather_or_abort(victim, _first_failure_then(_soon(backend), error))
        log("call ended")
        assert caught.value is error
        # Cancelled by us first: its end is not a failure of its own.
        assert secondary_errors(caught.value) == ()
        assert tasks[0].done()
        await canceller

    backend.run(main)
    assert log.names() == ["cleanup began", "cleanup cancelled", "call ended"]


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
@pytest.mark.parametrize("how", ["scope", "native"])
def test_the_callers_cancellation_during_the_cleanups_waits_for_them_and_keeps_the_failure(
    backend: Backend, how: str
) -> None:
    if how == "native" and not backend.asyncio:
        pytest.skip("Task.cancel() is asyncio's")
    log, seconds = Log(), _ignores_for(backend)
    error = InputError("first")

    async def main() -> None:
        caller: Any = None

        async def cancel_the_caller_during_the_cleanup() -> None:
            await log.reached("cancelled")
            if how == "scope":
                scope.cancel()
            else:
                caller.cancel()
                caller.cancel()

        async def call() -> None:
            with pytest.raises(InputError) as caught:
                await gather_or_abort(
                    _shielded_worker(log, seconds), _first_failure_then(_soon(backend), error)
                )
            log("call ended")
            # A failure outranks the caller's cancellation (docs/guarantee.rst), which
            # is still pending: the caller's next await raises it.
            assert caught.value is error
            with pytest.raises(anyio.get_cancelled_exc_class()):
                await anyio.lowlevel.checkpoint()

        async with anyio.create_task_group() as tg:
            tg.start_soon(cancel_the_caller_during_the_cleanup)
            with anyio.CancelScope() as scope:
                if how == "native":
                    caller = asyncio.get_running_loop().create_task(call())
                    await asyncio.wait([caller])
                    caller.result()
                else:
                    await call()

    backend.run(main)
    _ended_when_the_input_finished(backend, log, seconds)


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_a_cleanup_cut_short_by_its_own_deadline_finishes_the_input(backend: Backend) -> None:
    log = Log()
    cut_after = 2.0 if backend.virtual else 0.01

    async def bounded_cleanup() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(cut_after):
                log("cleanup began")
                await anyio.sleep(math.inf)
            log("cleanup cut short")

    async def main() -> None:
        with pytest.raises(InputError):
            await gather_or_abort(
                bounded_cleanup(), _first_failure_then(_soon(backend), InputError())
            )
        log("call ended")

    backend.run(main)
    assert log.names() == ["cleanup began", "cleanup cut short", "call ended"]
    if backend.virtual:
        assert log.time_of("call ended") == log.time_of("cleanup began") + cut_after


def test_on_trio_an_unshielded_cleanup_is_cut_short_at_its_first_await() -> None:
    log = Log()
    backend = TRIO
    error = InputError("first")

    async def unshielded_cleanup() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            log("cleanup began")
            await anyio.sleep(10)  # Trio's cancellation is level-triggered: raises at once
            log("never")

    async def main() -> None:
        with pytest.raises(InputError) as caught:
            await gather_or_abort(unshielded_cleanup(), _first_failure_then(_soon(backend), error))
        log("call ended")
        assert caught.value is error
        assert secondary_errors(error) == ()

    backend.run(main)
    assert log.names() == ["cleanup began", "call ended"]


# -- KeyboardInterrupt and other BaseExceptions -------------------------------------


@pytest.mark.parametrize("primitive", PRIMITIVES)
@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_a_custom_base_exception_aborts_the_rest_and_propagates_as_itself(
    backend: Backend, primitive: str
) -> None:
    log = Log()
    interrupt = Interrupt("stop")
    cleanup_error = CleanupError("cleanup")

    async def fails_in_cleanup() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            log("cleaned")
            raise cleanup_error

    async def main() -> None:
        with pytest.raises(Interrupt) as caught:
            await _call(
                primitive, [fails_in_cleanup(), _first_failure_then(_soon(backend), interrupt)]
            )
        log("call ended")
        assert caught.value is interrupt
        assert secondary_errors(interrupt) == (cleanup_error,)

    backend.run(main)
    assert log.names() == ["cleaned", "call ended"]


@pytest.mark.parametrize("error_type", [KeyboardInterrupt, SystemExit])
def test_on_trio_keyboard_interrupt_from_an_input_is_raised_by_the_call_as_itself(
    error_type: type[BaseException],
) -> None:
    log = Log()
    error = error_type()
    backend = TRIO

    async def main() -> None:
        with pytest.raises(error_type) as caught:
            await gather_or_abort(
                _shielded_worker(log, 1), _first_failure_then(_soon(backend), error)
            )
        log("call ended")
        assert caught.value is error

    backend.run(main)
    assert log.names() == ["cancelled", "finished", "call ended"]


@pytest.mark.parametrize("error_type", [KeyboardInterrupt, SystemExit])
@pytest.mark.parametrize("backend", ASYNCIO_PARAMS)
def test_on_asyncio_keyboard_interrupt_from_an_input_leaves_the_loop_and_shutdown_cleans_up(
    backend: Backend, error_type: type[BaseException]
) -> None:
    """asyncio re-raises KeyboardInterrupt and SystemExit out of the event loop at once.

    No library running inside the loop can wait for anything first: the exception
    leaves ``asyncio.run()`` (here ``anyio.run()``), whose shutdown then cancels what
    is left. The call's inputs are cancelled with it and their cleanups still run to
    the end; the call itself raises that same exception as it is torn down.
    """
    log = Log()
    error = error_type()
    raised: list[BaseException] = []

    async def main() -> None:
        try:
            await gather_or_abort(
                _shielded_worker(log, 1), _first_failure_then(_soon(backend), error)
            )
        except BaseException as exc:
            raised.append(exc)
            raise

    with pytest.raises(error_type) as caught:
        backend.run(main)
    assert caught.value is error
    assert log.names() == ["cancelled", "finished"]
    assert raised == [error]


# -- memory pressure ----------------------------------------------------------------


def _pending_count() -> int:
    return 100_000 if is_ci_profile() else 2_000


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_one_call_with_many_pending_inputs_aborts_and_cleans_up_every_one(
    backend: Backend,
) -> None:
    """10^5 pending inputs (the ``ci`` profile; 2,000 by default), one failure.

    Every input is cancelled, runs its cleanup, and is freed once the call is over
    and its exception dropped. asyncio's debug mode, which records a stack for every
    task and callback, is left on for the small size only: at 10^5 it costs minutes
    and measures asyncio's debugging aids rather than this library.
    """
    count = _pending_count()
    cleaned = 0
    sample: list[weakref.ref[Any]] = []

    async def pending() -> None:
        nonlocal cleaned
        try:
            await anyio.sleep_forever()
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.lowlevel.checkpoint()
            cleaned += 1

    async def main() -> None:
        error = InputError("the last input failed")
        aws: list[Any] = [pending() for _ in range(count)]
        sample.extend(weakref.ref(aw) for aw in aws[:: count // 100])
        aws.append(_first_failure_then(_soon(backend), error))
        with pytest.raises(InputError) as caught:
            await gather_or_abort(*aws)
        assert caught.value is error
        assert cleaned == count

    backend.run(main, debug=count <= 10_000)
    gc.collect()
    assert [ref for ref in sample if ref() is not None] == []
