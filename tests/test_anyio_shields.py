"""An abort cancels inputs as an AnyIO task group does, on every backend: CONTRACT 2.2.

An input inside a shielded AnyIO scope is not interrupted there: the cancellation
reaches it at its first checkpoint after the shield ends. On asyncio, code outside any
AnyIO scope is cancelled once, as :class:`asyncio.TaskGroup` does, so a cleanup that
awaits after catching the cancellation runs to its end.

Each behaviour is checked through every way a call can be aborted: a failure in
``gather_or_abort``, ``wait_or_abort`` and ``as_completed_or_abort``, the first result
of ``FIRST_COMPLETED`` and of a race, a ``break``, ``max_concurrency``, leaving the
select loop's block, and inputs handed in already running (asyncio tasks, AnyIO task
handles). Time is virtual wherever the backend allows it (uvloop keeps real time, and
the durations here are short).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractContextManager
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from multi_await import (
    FIRST_COMPLETED,
    as_completed_or_abort,
    gather_or_abort,
    multi_await,
    race_or_abort,
    secondary_errors,
    wait_or_abort,
)

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup

from .conftest import BACKENDS, on_a_virtual_clock
from .support import Elsewhere

pytestmark = pytest.mark.anyio

#: How long the work inside a shield takes, in seconds (virtual where time can be).
SHIELDED_WORK = 0.05
#: A deadline that never passes while a test runs.
FAR_AWAY = 3600

Victim = Callable[[], Coroutine[Any, Any, Any]]
Call = Callable[[Victim, anyio.Event], Awaitable[BaseException | None]]


@pytest.fixture(params=[pytest.param(param.id, id=param.id) for param in BACKENDS])
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    backend_id: str = request.param
    if backend_id == "asyncio+uvloop":  # libuv keeps the time: no virtual clock
        return next(param.values[0] for param in BACKENDS if param.id == backend_id)
    return on_a_virtual_clock(backend_id)


class AbortingFailureError(Exception):
    """The failure that makes a call abort its other inputs."""


async def ends_the_call(ready: anyio.Event, *, fail: bool) -> str:
    """Once the victim is in place, fail (or return, where a result ends the call)."""
    await ready.wait()
    if fail:
        raise AbortingFailureError
    return "first"


async def raised_by(call: Awaitable[object]) -> BaseException | None:
    try:
        await call
    except Exception as exc:
        return exc
    return None


async def by_gather(victim: Victim, ready: anyio.Event) -> BaseException | None:
    return await raised_by(gather_or_abort(victim(), ends_the_call(ready, fail=True)))


async def by_gather_with_max_concurrency(
    victim: Victim, ready: anyio.Event
) -> BaseException | None:
    return await raised_by(
        gather_or_abort(victim(), ends_the_call(ready, fail=True), max_concurrency=2)
    )


async def by_wait(victim: Victim, ready: anyio.Event) -> BaseException | None:
    return await raised_by(wait_or_abort([victim(), ends_the_call(ready, fail=True)]))


async def by_first_completed(victim: Victim, ready: anyio.Event) -> BaseException | None:
    aws = [victim(), ends_the_call(ready, fail=False)]
    return await raised_by(wait_or_abort(aws, return_when=FIRST_COMPLETED))


async def by_race(victim: Victim, ready: anyio.Event) -> BaseException | None:
    return await raised_by(race_or_abort([victim, lambda: ends_the_call(ready, fail=False)]))


async def by_as_completed(victim: Victim, ready: anyio.Event) -> BaseException | None:
    async def iterate() -> None:
        async with as_completed_or_abort([victim(), ends_the_call(ready, fail=True)]) as done:
            async for _ in done:
                pass

    return await raised_by(iterate())


async def by_break(victim: Victim, ready: anyio.Event) -> BaseException | None:
    async def break_at_the_first() -> None:
        async with as_completed_or_abort([victim(), ends_the_call(ready, fail=False)]) as done:
            async for _ in done:
                break

    return await raised_by(break_at_the_first())


async def by_leaving_the_select_loop(victim: Victim, ready: anyio.Event) -> BaseException | None:
    async def select() -> None:
        async with multi_await() as m:
            m.add(victim)
            m.add(lambda: ends_the_call(ready, fail=True))
            _, failures = await m.get()
            assert isinstance(failures[1], AbortingFailureError)

    return await raised_by(select())


async def by_gather_of_asyncio_tasks(victim: Victim, ready: anyio.Event) -> BaseException | None:
    if not on_asyncio():
        pytest.skip("asyncio tasks cannot run under Trio")
    async with Elsewhere("asyncio task") as elsewhere:
        task = elsewhere.start(victim())
        return await raised_by(gather_or_abort(task, ends_the_call(ready, fail=True)))


async def by_gather_of_task_handles(victim: Victim, ready: anyio.Event) -> BaseException | None:
    outcome = None
    try:
        async with Elsewhere("task handle") as elsewhere:
            handle = elsewhere.start(victim())
            outcome = await raised_by(gather_or_abort(handle, ends_the_call(ready, fail=True)))
    except ExceptionGroup as group:  # the task group owning the handle raises its failure too
        assert all(raised_or_attached(error, outcome) for error in group.exceptions)
    return outcome


CALLS: list[Call] = [
    by_gather,
    by_gather_with_max_concurrency,
    by_wait,
    by_first_completed,
    by_race,
    by_as_completed,
    by_break,
    by_leaving_the_select_loop,
    by_gather_of_asyncio_tasks,
    by_gather_of_task_handles,
]


def call_ids(calls: list[Call]) -> list[str]:
    return [call.__name__.removeprefix("by_") for call in calls]


@pytest.fixture(params=CALLS, ids=call_ids(CALLS))
def aborted(request: pytest.FixtureRequest) -> Call:
    """A way of running a victim input and aborting it once it has set *ready*."""
    call: Call = request.param
    return call


#: Those whose inputs are cancelled by multi_await: an AnyIO task group cancels the
#: task of a handle, level-triggered, as AnyIO does everywhere.
NATIVELY_CANCELLED = [call for call in CALLS if call is not by_gather_of_task_handles]


def on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def raised_or_attached(error: BaseException, outcome: BaseException | None) -> bool:
    return outcome is error or (outcome is not None and error in secondary_errors(outcome))


async def test_shielded_checkpoints_inside_an_input_all_run_on_abort(aborted: Call) -> None:
    log: list[str] = []
    ready = anyio.Event()

    async def victim() -> None:
        with anyio.CancelScope(shield=True):
            ready.set()
            for _ in range(5):
                await anyio.lowlevel.checkpoint()
            log.append("shielded work done")
        await anyio.lowlevel.checkpoint()
        log.append("ran past its first checkpoint after the shield")

    await aborted(victim, ready)
    assert log == ["shielded work done"]


#: The shielded scopes an input can open, by name.
SHIELDS: dict[str, Callable[[], AbstractContextManager[anyio.CancelScope]]] = {
    "CancelScope": lambda: anyio.CancelScope(shield=True),
    "move_on_after": lambda: anyio.move_on_after(FAR_AWAY, shield=True),
    "fail_after": lambda: anyio.fail_after(FAR_AWAY, shield=True),
}


@pytest.mark.parametrize("shield", SHIELDS)
async def test_a_shielded_sleep_inside_an_input_completes_on_abort(
    aborted: Call, shield: str
) -> None:
    log: list[str] = []
    ready = anyio.Event()

    async def victim() -> None:
        with SHIELDS[shield]() as scope:
            ready.set()
            await anyio.sleep(SHIELDED_WORK)
            log.append("slept")
        assert not scope.cancelled_caught
        await anyio.sleep(FAR_AWAY)

    await aborted(victim, ready)
    assert log == ["slept"]


async def test_a_shielded_fail_after_expiring_during_the_abort_fails_the_input(
    aborted: Call,
) -> None:
    caught: list[TimeoutError] = []
    ready = anyio.Event()

    async def victim() -> None:
        try:
            with anyio.fail_after(SHIELDED_WORK, shield=True):
                ready.set()
                await anyio.sleep(FAR_AWAY)
        except TimeoutError as exc:
            caught.append(exc)
            raise

    outcome = await aborted(victim, ready)
    assert len(caught) == 1
    assert raised_or_attached(caught[0], outcome)


async def test_a_failure_raised_in_a_shielded_cleanup_is_raised_or_attached(
    aborted: Call,
) -> None:
    error = OSError("flush failed")
    ready = anyio.Event()

    async def victim() -> None:
        with anyio.CancelScope(shield=True):
            ready.set()
            await anyio.sleep(SHIELDED_WORK)
            raise error

    outcome = await aborted(victim, ready)
    assert raised_or_attached(error, outcome)


async def test_an_inputs_own_failure_survives_its_shielded_cleanup(aborted: Call) -> None:
    error = KeyError("its own failure")
    ready = anyio.Event()

    async def victim() -> None:
        try:
            ready.set()
            raise error
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.sleep(SHIELDED_WORK)

    outcome = await aborted(victim, ready)
    assert raised_or_attached(error, outcome)


async def test_the_abort_reaches_code_after_the_shield_at_its_first_checkpoint(
    aborted: Call,
) -> None:
    log: list[str] = []
    ready = anyio.Event()

    async def victim() -> None:
        with anyio.CancelScope(shield=True):
            ready.set()
            await anyio.sleep(SHIELDED_WORK)
        log.append("left the shield")  # no checkpoint yet: this still runs
        try:
            await anyio.lowlevel.checkpoint()
        except anyio.get_cancelled_exc_class():
            log.append("cancelled at the first checkpoint")
            raise
        log.append("ran past it")

    await aborted(victim, ready)
    assert log == ["left the shield", "cancelled at the first checkpoint"]


async def test_nested_scopes_shielded_inside_unshielded_hold_until_the_shield_ends(
    aborted: Call,
) -> None:
    log: list[str] = []
    ready = anyio.Event()

    async def victim() -> None:
        with anyio.move_on_after(FAR_AWAY):
            with anyio.CancelScope(shield=True):
                ready.set()
                await anyio.sleep(SHIELDED_WORK)
                log.append("shielded work done")
            try:
                await anyio.sleep(FAR_AWAY)
            except anyio.get_cancelled_exc_class():
                log.append("cancelled inside the outer scope")
                raise

    await aborted(victim, ready)
    assert log == ["shielded work done", "cancelled inside the outer scope"]


async def test_an_anyio_task_group_inside_an_input_is_cancelled_with_it(aborted: Call) -> None:
    log: list[str] = []
    ready = anyio.Event()

    async def child() -> None:
        try:
            await anyio.sleep(FAR_AWAY)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.sleep(SHIELDED_WORK)
            log.append("child cleaned up")

    async def victim() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(child)
            await anyio.lowlevel.checkpoint()
            ready.set()
            await anyio.sleep(FAR_AWAY)
        log.append("ran past its task group")

    await aborted(victim, ready)
    assert log == ["child cleaned up"]


async def in_an_unshielded_scope(ready: anyio.Event) -> None:
    with anyio.move_on_after(FAR_AWAY):
        ready.set()
        await anyio.sleep_forever()


async def past_a_shield(ready: anyio.Event) -> None:
    with anyio.CancelScope(shield=True):
        ready.set()
        await anyio.sleep(SHIELDED_WORK)
    await asyncio.sleep(FAR_AWAY)


async def in_an_anyio_task_group(ready: anyio.Event) -> None:
    async with anyio.create_task_group() as tg:
        tg.start_soon(anyio.sleep_forever)
        ready.set()
        await anyio.sleep_forever()


#: Where an input waits when the abort comes, by name.
WAITS = {
    "in an unshielded AnyIO scope": in_an_unshielded_scope,
    "past a shield": past_a_shield,
    "in an AnyIO task group": in_an_anyio_task_group,
}


async def awaits(log: list[str]) -> None:
    for _ in range(5):
        await asyncio.sleep(0)
    log.append("cleanup done")


async def awaits_in_an_anyio_scope(log: list[str]) -> None:
    with anyio.move_on_after(FAR_AWAY):
        await awaits(log)


#: Cleanups outside any AnyIO scope when the cancellation comes, by name.
CLEANUPS = {"awaits": awaits, "awaits in an AnyIO scope it opens": awaits_in_an_anyio_scope}


class TestCancelledOnceOutsideAnyScope:
    """asyncio only: Trio cancels every checkpoint until the cancelled scope is left,
    so there a cleanup that awaits must shield itself."""

    @pytest.fixture(autouse=True)
    def _on_asyncio_only(self, anyio_backend: Any) -> None:
        if anyio_backend[0] != "asyncio":
            pytest.skip("Trio's cancellation is level-triggered, as it documents")

    @pytest.fixture(params=NATIVELY_CANCELLED, ids=call_ids(NATIVELY_CANCELLED))
    def aborted(self, request: pytest.FixtureRequest) -> Call:
        call: Call = request.param
        return call

    @pytest.mark.parametrize("waits", WAITS)
    @pytest.mark.parametrize("cleanup", CLEANUPS)
    async def test_a_cleanup_that_awaits_after_catching_the_cancellation_completes(
        self, aborted: Call, waits: str, cleanup: str
    ) -> None:
        log: list[str] = []
        ready = anyio.Event()

        async def victim() -> None:
            try:
                await WAITS[waits](ready)
            except asyncio.CancelledError:
                await CLEANUPS[cleanup](log)
                raise

        await aborted(victim, ready)
        assert log == ["cleanup done"]


class TestOneTaskTwoCalls:
    @pytest.fixture(autouse=True)
    def _on_asyncio_only(self, anyio_backend: Any) -> None:
        if anyio_backend[0] != "asyncio":
            pytest.skip("asyncio tasks cannot run under Trio")

    async def test_a_task_two_calls_abort_is_cancelled_as_by_one(self) -> None:
        log: list[str] = []
        ready = anyio.Event()

        async def victim() -> None:
            with anyio.CancelScope(shield=True):
                ready.set()
                await anyio.sleep(SHIELDED_WORK)
                log.append("shielded work done")
            try:
                await asyncio.sleep(FAR_AWAY)
            except asyncio.CancelledError:
                await awaits(log)
                raise

        task = asyncio.create_task(victim())
        outcomes: list[BaseException | None] = []

        async def one_call() -> None:
            outcomes.append(await raised_by(gather_or_abort(task, ends_the_call(ready, fail=True))))

        async with anyio.create_task_group() as tg:
            tg.start_soon(one_call)
            tg.start_soon(one_call)
        assert log == ["shielded work done", "cleanup done"]
        assert task.cancelled()
        assert [type(outcome) for outcome in outcomes] == [AbortingFailureError] * 2
