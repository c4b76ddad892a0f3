"""What a hostile user broke: CONTRACT 2.1, 2.3 and 2.7, one rule per test."""

from __future__ import annotations

import dataclasses
import functools
import gc
import inspect
import sys
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from multi_await import (
    InputCancelledError,
    MultiAwait,
    as_completed_or_abort,
    cancel_all,
    gather_or_abort,
    multi_await,
    race_or_abort,
    secondary_errors,
    wait_or_abort,
)

from .conftest import ASYNCIO_BACKENDS, TRIO_BACKENDS
from .support import Probe, until

pytestmark = pytest.mark.anyio


def _asyncio_only(anyio_backend_name: str) -> None:
    if anyio_backend_name != "asyncio":
        pytest.skip("asyncio tasks and futures exist only on asyncio")


def _cancelling() -> int:
    import asyncio

    task = asyncio.current_task()
    assert task is not None
    return task.cancelling()


async def _gather(aws: list[Any]) -> Any:
    return await gather_or_abort(*aws)


async def _wait(aws: list[Any]) -> Any:
    return await wait_or_abort(aws)


async def _as_completed(aws: list[Any]) -> Any:
    async with as_completed_or_abort(aws) as completed:
        return [value async for value in completed]


class BodyError(Exception):
    pass


PRIMITIVES = [
    pytest.param(_gather, id="gather"),
    pytest.param(_wait, id="wait"),
    pytest.param(_as_completed, id="as_completed"),
]


# -- 1. the caller's cancellation is not lost when an input's failure wins ----------


class TestCallersCancellationAndAFailure:
    """An input fails while the call aborts for the caller's ``Task.cancel()``."""

    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    @staticmethod
    async def _call_cancelled_while_an_input_fails(
        primitive: Callable[[list[Any]], Awaitable[Any]], after: Callable[[], Awaitable[Any]]
    ) -> dict[str, Any]:
        """Run *primitive* in a task cancelled once; the task then awaits *after*."""
        import asyncio

        probe = Probe()
        error = ValueError("cleanup")
        seen: dict[str, Any] = {}

        async def caller() -> None:
            try:
                await primitive([probe.sleeps("a", cleanup_error=error), probe.sleeps("b")])
            except ValueError as exc:
                seen["caught"] = exc
            if sys.version_info >= (3, 11):
                seen["cancelling"] = _cancelling()
            await after()
            seen["ran on"] = True

        task = asyncio.create_task(caller())
        await until(lambda: len(probe.started) == 2)
        await anyio.wait_all_tasks_blocked()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        seen["cleaned"] = sorted(probe.cleaned)
        return seen

    @pytest.mark.parametrize("primitive", PRIMITIVES)
    async def test_the_next_await_after_a_winning_failure_raises_the_callers_cancellation(
        self, primitive: Callable[[list[Any]], Awaitable[Any]]
    ) -> None:
        seen = await self._call_cancelled_while_an_input_fails(primitive, anyio.lowlevel.checkpoint)
        assert isinstance(seen["caught"], ValueError)
        assert "ran on" not in seen
        assert seen["cleaned"] == ["a", "b"]

    @pytest.mark.skipif(sys.version_info < (3, 11), reason="Task.cancelling() is 3.11+")
    async def test_cancelling_stays_one_after_a_failure_wins_over_task_cancel(self) -> None:
        seen = await self._call_cancelled_while_an_input_fails(_gather, anyio.lowlevel.checkpoint)
        assert seen["cancelling"] == 1

    @pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is 3.11+")
    async def test_a_failure_that_wins_over_asyncio_timeout_leaves_nothing_pending(self) -> None:
        import asyncio

        probe = Probe()
        error = ValueError("cleanup")
        with pytest.raises(ValueError) as caught:
            async with asyncio.timeout(0):
                await gather_or_abort(probe.sleeps("a", cleanup_error=error))
        assert caught.value is error
        assert _cancelling() == 0
        await asyncio.sleep(0)  # no cancellation is left over: the timeout's was consumed

    @staticmethod
    async def _runs_on_after_being_cancelled_in_the_cleanup(
        probe: Probe, call: Callable[[], Awaitable[None]]
    ) -> bool:
        """Run *call* in a task cancelled once while input ``s`` cleans up; the task
        then awaits again. Whether it ran on past that await."""
        import asyncio

        ran_on = []

        async def caller() -> None:
            await call()
            await asyncio.sleep(0)
            ran_on.append(True)

        task = asyncio.create_task(caller())
        await probe.until_cleaning("s")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return bool(ran_on)

    async def test_the_bodys_exception_keeps_a_cancellation_that_came_during_the_abort(
        self,
    ) -> None:
        probe = Probe()

        async def call() -> None:
            with pytest.raises(BodyError):
                async with as_completed_or_abort([probe.sleeps("s", cleanup_checkpoints=9)]):
                    await until(lambda: probe.started == ["s"])
                    raise BodyError

        assert not await self._runs_on_after_being_cancelled_in_the_cleanup(probe, call)

    async def test_multi_await_cancel_reraises_the_callers_cancellation_after_a_failure(
        self,
    ) -> None:
        probe = Probe()
        source = functools.partial(
            probe.sleeps, "s", cleanup_error=ValueError(), cleanup_checkpoints=9
        )

        async def call() -> None:
            async with multi_await() as m:
                m.add(source)
                with anyio.move_on_after(0.01):
                    await m.get()
                with pytest.raises(ValueError):
                    await m.cancel()

        assert not await self._runs_on_after_being_cancelled_in_the_cleanup(probe, call)

    async def test_cancel_all_reraises_the_callers_cancellation_after_a_cleanup_failure(
        self,
    ) -> None:
        import asyncio

        probe = Probe()
        sleeper = probe.sleeps("s", cleanup_error=ValueError(), cleanup_checkpoints=9)
        tasks = [asyncio.create_task(sleeper)]
        await until(lambda: probe.started == ["s"])

        async def call() -> None:
            with pytest.raises(ValueError):
                await cancel_all(tasks)

        assert not await self._runs_on_after_being_cancelled_in_the_cleanup(probe, call)


async def test_an_anyio_scope_keeps_its_cancellation_after_a_winning_failure() -> None:
    probe = Probe()
    error = ValueError("cleanup")
    with anyio.move_on_after(0) as scope:
        with pytest.raises(ValueError) as caught:
            await gather_or_abort(probe.sleeps("a", cleanup_error=error))
        await anyio.lowlevel.checkpoint()
        pytest.fail("the scope's cancellation was lost")
    assert caught.value is error
    assert scope.cancelled_caught


# -- 2. the eager task factory: an input that raises inside create_task -------------


def _run_on_an_eager_loop(main: Callable[[], Awaitable[None]]) -> list[dict[str, Any]]:
    """Run *main* on a fresh loop with the eager task factory, then cancel what is left.

    Fails if anything leaves the loop, or is left in it. Returns what asyncio's
    exception handler got.
    """
    import asyncio

    reports: list[dict[str, Any]] = []
    loop = asyncio.new_event_loop()
    loop.set_debug(True)
    loop.set_task_factory(asyncio.eager_task_factory)  # type: ignore[attr-defined]
    loop.set_exception_handler(lambda _, context: reports.append(context))
    left: BaseException | None = None
    try:
        loop.run_until_complete(main())
    except BaseException as exc:  # KeyboardInterrupt too: it must not end pytest
        left = exc
    finally:
        rest = asyncio.all_tasks(loop)
        for task in rest:
            task.cancel()
        if rest:  # a bounded wait: a call that lost track of an input never ends
            loop.run_until_complete(asyncio.wait(rest, timeout=5))
        loop.close()
    assert left is None, f"{left!r} left the event loop"
    assert not rest, f"tasks left running: {rest}"
    return reports


def _only_the_eager_tasks_own_report(reports: list[dict[str, Any]], error: BaseException) -> None:
    """asyncio's eager start frees the task it made before ``create_task`` returns, the
    exception recorded on it: its destructor reports that, as under TaskGroup. Nothing
    else may be reported."""
    assert [report for report in reports if report.get("exception") is not error] == []
    assert len(reports) <= 1


@pytest.mark.skipif(sys.version_info < (3, 12), reason="the eager task factory is 3.12+")
class TestEagerStart:
    @pytest.mark.parametrize("error_type", [KeyboardInterrupt, SystemExit])
    def test_an_interrupt_raised_inside_create_task_aborts_the_rest_first(
        self, error_type: type[BaseException]
    ) -> None:
        probe = Probe()
        error = error_type()
        later = probe.returns("later")

        async def main() -> None:
            import asyncio

            with pytest.raises(error_type) as caught:
                await gather_or_abort(probe.sleeps("a"), probe.fails("at once", error), later)
            assert caught.value is error
            assert probe.cleaned == ["a"]
            assert asyncio.all_tasks() == {asyncio.current_task()}

        _only_the_eager_tasks_own_report(_run_on_an_eager_loop(main), error)
        assert "later" not in probe.started
        assert inspect.getcoroutinestate(later) == inspect.CORO_CLOSED

    def test_a_task_after_an_interrupt_raised_inside_create_task_is_cancelled_and_awaited(
        self,
    ) -> None:
        probe = Probe()
        error = KeyboardInterrupt()

        async def main() -> None:
            import asyncio

            task = asyncio.create_task(probe.sleeps("task"))
            with pytest.raises(KeyboardInterrupt) as caught:
                await gather_or_abort(probe.fails("at once", error), task)
            assert caught.value is error
            assert task.cancelled()
            assert probe.cleaned == ["task"]

        _only_the_eager_tasks_own_report(_run_on_an_eager_loop(main), error)

    def test_an_interrupt_raised_inside_create_task_of_a_later_turn_aborts_the_rest(
        self,
    ) -> None:
        probe = Probe()
        error = KeyboardInterrupt()

        async def main() -> None:
            with pytest.raises(KeyboardInterrupt) as caught:
                await gather_or_abort(
                    probe.sleeps("a"),
                    probe.returns("b", checkpoints=1),
                    probe.fails("in b's turn", error),
                    max_concurrency=2,
                )
            assert caught.value is error
            assert probe.cleaned == ["a"]

        _only_the_eager_tasks_own_report(_run_on_an_eager_loop(main), error)

    def test_a_custom_base_exception_raised_at_once_aborts_the_rest(self) -> None:
        class Custom(BaseException):
            pass

        probe = Probe()
        error = Custom()

        async def main() -> None:
            with pytest.raises(Custom) as caught:
                await gather_or_abort(probe.sleeps("a"), probe.fails("at once", error))
            assert caught.value is error
            assert probe.cleaned == ["a"]

        assert _run_on_an_eager_loop(main) == []


# -- 3. StopAsyncIteration raised by an input --------------------------------------


async def _nothing() -> AsyncIterator[None]:
    for _ in ():
        yield None


async def _reads_past_the_end() -> None:
    await anext(_nothing())


class TestStopAsyncIteration:
    @staticmethod
    def _assert_names_the_input(caught: pytest.ExceptionInfo[BaseException]) -> None:
        assert type(caught.value) is RuntimeError
        assert "input 1" in str(caught.value)
        assert "StopAsyncIteration" in str(caught.value)
        assert isinstance(caught.value.__cause__, StopAsyncIteration)

    async def test_async_for_over_as_completed_raises_a_runtime_error_from_it(self) -> None:
        probe = Probe()
        with pytest.raises(RuntimeError) as caught:
            async with as_completed_or_abort([probe.sleeps("a"), _reads_past_the_end()]) as got:
                async for _ in got:
                    pass
        self._assert_names_the_input(caught)
        assert probe.cleaned == ["a"]

    async def test_async_for_over_indexed_raises_a_runtime_error_from_it(self) -> None:
        probe = Probe()
        with pytest.raises(RuntimeError) as caught:
            async with as_completed_or_abort([probe.sleeps("a"), _reads_past_the_end()]) as got:
                async for _ in got.indexed():
                    pass
        self._assert_names_the_input(caught)
        assert probe.cleaned == ["a"]

    async def test_gather_raises_it_as_itself(self) -> None:
        probe = Probe()
        with pytest.raises(StopAsyncIteration):
            await gather_or_abort(probe.sleeps("a"), _reads_past_the_end())
        assert probe.cleaned == ["a"]

    async def test_wait_raises_it_as_itself(self) -> None:
        with pytest.raises(StopAsyncIteration):
            await wait_or_abort([Probe().sleeps("a"), _reads_past_the_end()])

    class TestBareForms:
        @pytest.fixture(params=ASYNCIO_BACKENDS)
        def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
            return request.param

        async def test_a_bare_async_for_raises_a_runtime_error_from_it(self) -> None:
            probe = Probe()
            with pytest.raises(RuntimeError) as caught:
                async for _ in as_completed_or_abort([probe.sleeps("a"), _reads_past_the_end()]):
                    pass
            TestStopAsyncIteration._assert_names_the_input(caught)
            assert probe.cleaned == ["a"]

        async def test_the_1x_for_form_raises_a_runtime_error_from_it(self) -> None:
            probe = Probe()
            with pytest.raises(RuntimeError) as caught:
                for step in as_completed_or_abort([probe.sleeps("a"), _reads_past_the_end()]):
                    await step
            TestStopAsyncIteration._assert_names_the_input(caught)
            assert probe.cleaned == ["a"]


# -- 4. an exception class that refuses new attributes -----------------------------


@dataclasses.dataclass(frozen=True)
class FrozenError(Exception):
    code: int


@dataclasses.dataclass(frozen=True, slots=True)
class FrozenSlottedError(Exception):
    code: int


FROZEN = [
    pytest.param(FrozenError, id="frozen"),
    pytest.param(FrozenSlottedError, id="frozen-slots"),
]


@pytest.mark.parametrize("frozen", FROZEN)
async def test_a_frozen_first_failure_propagates_as_itself_with_its_secondary(
    frozen: type[Exception],
) -> None:
    probe = Probe()
    error, cleanup_error = frozen(1), OSError("flush failed")  # type: ignore[call-arg]
    with pytest.raises(frozen) as caught:
        await gather_or_abort(
            probe.sleeps("a", cleanup_error=cleanup_error), probe.fails("f", error)
        )
    assert caught.value is error
    assert secondary_errors(error) == (cleanup_error,)


@pytest.mark.parametrize("frozen", FROZEN)
async def test_a_frozen_first_failure_prints_its_secondary(frozen: type[Exception]) -> None:
    cleanup_error = OSError("flush failed")
    with pytest.raises(frozen) as caught:
        await gather_or_abort(
            Probe().sleeps("a", cleanup_error=cleanup_error),
            Probe().fails("f", frozen(1)),  # type: ignore[call-arg]
        )
    assert "OSError: flush failed" in "".join(traceback.format_exception(caught.value))


@pytest.mark.parametrize("frozen", FROZEN)
async def test_a_frozen_secondary_failure_is_attached(frozen: type[Exception]) -> None:
    probe = Probe()
    error, cleanup_error = KeyError("first"), frozen(2)  # type: ignore[call-arg]
    with pytest.raises(KeyError) as caught:
        await gather_or_abort(
            probe.sleeps("a", cleanup_error=cleanup_error), probe.fails("f", error)
        )
    assert caught.value is error
    assert secondary_errors(error) == (cleanup_error,)


# -- 5. one task, future or coroutine where an iterable is expected ----------------


async def _one_input_of(call: str, aw: Any) -> Any:
    if call == "wait_or_abort":
        return await wait_or_abort(aw)
    if call == "race_or_abort":
        return await race_or_abort(aw)
    if call == "cancel_all":
        return await cancel_all(aw)
    async with as_completed_or_abort(aw) as completed:
        return [value async for value in completed]


CALLS = ["wait_or_abort", "race_or_abort", "as_completed_or_abort", "cancel_all"]


class TestOneTaskForAnIterable:
    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    @pytest.mark.parametrize("call", CALLS)
    async def test_a_running_task_is_a_type_error_and_stays_awaitable(self, call: str) -> None:
        import asyncio

        task = asyncio.create_task(Probe().returns("t", "result", checkpoints=2))
        with pytest.raises(TypeError, match="expected an iterable of inputs, got Task"):
            await _one_input_of(call, task)
        assert not task.cancelled()
        assert await task == "result"

    @pytest.mark.parametrize("call", CALLS)
    async def test_a_finished_task_is_a_type_error_not_an_empty_result(self, call: str) -> None:
        import asyncio

        task = asyncio.create_task(Probe().returns("t", "result"))
        await task
        with pytest.raises(TypeError, match="expected an iterable of inputs, got Task"):
            await _one_input_of(call, task)
        assert await task == "result"

    @pytest.mark.parametrize("call", CALLS)
    async def test_a_future_is_a_type_error_and_stays_awaitable(self, call: str) -> None:
        import asyncio

        future = asyncio.get_running_loop().create_future()
        with pytest.raises(TypeError, match="expected an iterable of inputs, got Future"):
            await _one_input_of(call, future)
        future.set_result("result")
        assert await future == "result"


@pytest.mark.parametrize("call", CALLS)
async def test_one_coroutine_for_an_iterable_is_a_type_error_and_is_closed(call: str) -> None:
    probe = Probe()
    coro = probe.returns("a")
    with pytest.raises(TypeError, match="expected an iterable of inputs, got coroutine"):
        await _one_input_of(call, coro)
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED


@pytest.mark.parametrize("call", CALLS)
async def test_one_task_handle_for_an_iterable_is_a_type_error_and_runs_on(call: str) -> None:
    async with anyio.create_task_group() as group:
        handle = group.create_task(Probe().returns("h", "result", checkpoints=2))
        with pytest.raises(TypeError, match="expected an iterable of inputs, got TaskHandle"):
            await _one_input_of(call, handle)
        assert await handle == "result"


# -- 6. the select loop --------------------------------------------------------------


async def test_the_bodys_exception_leaves_the_block_with_the_cleanup_failure_attached() -> None:
    cleanup_error = ValueError("cleanup")
    body_error = BodyError()

    async def breaks_on_cancel() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            raise cleanup_error

    async def quick() -> str:
        return "quick"

    with pytest.raises(BodyError) as caught:
        async with multi_await() as m:
            m.add(breaks_on_cancel)
            m.add(quick)
            await m.get()
            raise body_error
    assert caught.value is body_error
    assert secondary_errors(body_error) == (cleanup_error,)


async def test_after_a_source_returned_something_not_awaitable_the_next_get_works() -> None:
    calls = 0

    async def item(name: str) -> str:
        return name

    def flaky() -> Any:
        nonlocal calls
        calls += 1
        return 42 if calls == 1 else item("flaky")

    got: dict[int, Any] = {}
    async with multi_await() as m:
        m.add(flaky)
        m.add(functools.partial(item, "other"))
        with pytest.raises(TypeError, match=r"calling .* returned int"):
            await m.get()
        with anyio.fail_after(5):  # a hang is the failure
            while len(got) < 2:
                completed, _ = await m.get()
                got.update((i, value) for i, value in enumerate(completed) if value is not None)
    assert got == {0: "flaky", 1: "other"}


class TestUnscopedSelectLoop:
    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_a_dropped_multi_await_cancels_its_pending_call(self) -> None:
        import asyncio

        queue = asyncio.Queue[str]()
        before = asyncio.all_tasks()
        m = MultiAwait()
        m.add(queue.get)
        with anyio.move_on_after(0.01):
            await m.get()
        del m
        gc.collect()
        await anyio.wait_all_tasks_blocked()
        queue.put_nowait("for the next reader")
        await anyio.wait_all_tasks_blocked()
        assert queue.qsize() == 1
        assert asyncio.all_tasks() == before

    async def test_a_call_failing_as_its_dropped_multi_await_cancels_it_is_reported(
        self,
    ) -> None:
        import asyncio

        from .conftest import HANDLER_CALLS

        loop = asyncio.get_running_loop()
        test_runners_handler = loop.get_exception_handler()
        reports: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _, context: reports.append(context))
        probe = Probe()
        cleanup_error = ValueError("cleanup")
        try:
            m = MultiAwait()
            m.add(functools.partial(probe.sleeps, "call", cleanup_error=cleanup_error))
            with anyio.move_on_after(0.01):
                await m.get()
            del m
            gc.collect()
            await anyio.wait_all_tasks_blocked()
        finally:
            loop.set_exception_handler(test_runners_handler)
            HANDLER_CALLS.clear()
        assert [report["exception"] for report in reports] == [cleanup_error]
        assert "source 0" in reports[0]["message"]
        assert probe.cleaned == ["call"]


# -- 7. Trio's guest mode on an asyncio host ---------------------------------------


class TestTrioGuestOnAnAsyncioHost:
    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    @staticmethod
    async def _in_a_trio_guest(main: Callable[[], Awaitable[Any]]) -> Any:
        import asyncio

        import trio

        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()
        trio.lowlevel.start_guest_run(
            main,
            run_sync_soon_threadsafe=loop.call_soon_threadsafe,
            done_callback=done.set_result,
            host_uses_signal_set_wakeup_fd=True,  # asyncio's loops may set it, uvloop does
        )
        return (await done).unwrap()

    @staticmethod
    async def _trio_only(value: int) -> int:
        import trio

        await trio.lowlevel.checkpoint()
        return value

    async def test_a_call_from_a_trio_guest_task_runs_on_trio(self) -> None:
        async def main() -> list[int]:
            return await gather_or_abort(self._trio_only(1), self._trio_only(2))

        assert await self._in_a_trio_guest(main) == [1, 2]

    async def test_as_completed_from_a_trio_guest_task_runs_on_trio(self) -> None:
        async def main() -> list[int]:
            async with as_completed_or_abort([self._trio_only(1)]) as completed:
                return [value async for value in completed]

        assert await self._in_a_trio_guest(main) == [1]

    async def test_the_asyncio_host_still_runs_its_calls_on_asyncio(self) -> None:
        import asyncio

        async def host_only() -> str:
            await asyncio.sleep(0)
            return "host"

        async def main() -> list[int]:
            return await gather_or_abort(self._trio_only(1))

        guest = asyncio.ensure_future(self._in_a_trio_guest(main))
        assert await gather_or_abort(host_only()) == ["host"]
        assert await guest == [1]


# -- 8. no callable is called before every input is checked -------------------------


@pytest.mark.parametrize("primitive", PRIMITIVES)
async def test_a_callable_before_a_bad_input_is_never_called(
    primitive: Callable[[list[Any]], Awaitable[Any]],
) -> None:
    called = []

    def make() -> Awaitable[None]:
        called.append(True)
        return anyio.lowlevel.checkpoint()

    with pytest.raises(TypeError, match="input 1 is int"):
        await primitive([make, 42])
    assert called == []


class TestCallableMakingATask:
    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    @pytest.mark.parametrize("primitive", PRIMITIVES)
    async def test_a_callable_making_a_task_before_a_bad_input_leaves_nothing_running(
        self, primitive: Callable[[list[Any]], Awaitable[Any]]
    ) -> None:
        import asyncio

        probe = Probe()
        before = asyncio.all_tasks()
        with pytest.raises(TypeError, match="input 1 is int"):
            await primitive([lambda: asyncio.ensure_future(probe.sleeps("task")), 42])
        await anyio.wait_all_tasks_blocked()
        assert probe.started == []
        assert asyncio.all_tasks() == before


# -- 9. a spent coroutine, and the same task twice ---------------------------------


@pytest.mark.parametrize("primitive", PRIMITIVES)
async def test_an_already_awaited_coroutine_is_refused_before_anything_starts(
    primitive: Callable[[list[Any]], Awaitable[Any]],
) -> None:
    probe = Probe()
    spent = probe.returns("spent")
    await spent
    good = probe.returns("good")
    with pytest.raises(TypeError, match=r"input 1 .*coroutine.* already (been )?awaited or closed"):
        await primitive([good, spent])
    assert probe.started == ["spent"]
    assert inspect.getcoroutinestate(good) == inspect.CORO_CLOSED


@pytest.mark.parametrize("primitive", PRIMITIVES)
async def test_a_closed_coroutine_is_refused_before_anything_starts(
    primitive: Callable[[list[Any]], Awaitable[Any]],
) -> None:
    probe = Probe()
    closed = probe.returns("closed")
    closed.close()
    good = probe.returns("good")
    with pytest.raises(TypeError, match=r"input 0 .*coroutine.* already (been )?awaited or closed"):
        await primitive([closed, good])
    assert probe.started == []
    assert inspect.getcoroutinestate(good) == inspect.CORO_CLOSED


async def test_an_already_awaited_coroutine_made_by_a_callable_is_refused() -> None:
    probe = Probe()
    spent = probe.returns("spent")
    await spent
    with pytest.raises(TypeError, match=r"input 0: calling .* returned .*already (been )?awaited"):
        await gather_or_abort(lambda: spent, probe.returns("good"))
    assert probe.started == ["spent"]


class TestTheSameTaskTwice:
    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_the_same_task_twice_says_it_is_a_task_given_twice(self) -> None:
        import asyncio

        task = asyncio.create_task(Probe().returns("t", 1), name="the task")
        with pytest.raises(TypeError) as caught:
            await gather_or_abort(task, task)
        message = str(caught.value)
        assert "input 1 is the same Task 'the task'" in message
        assert "as input 0" in message
        assert "awaited only once" not in message
        assert await task == 1


# -- 10. a stray trio.Cancelled that is not ours ------------------------------------


class TestStrayTrioCancelled:
    @pytest.fixture(params=TRIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    @staticmethod
    async def _reraises_a_stray_cancelled() -> None:
        import trio

        stray: BaseException | None = None
        with trio.CancelScope() as scope:
            scope.cancel()
            try:
                await trio.lowlevel.checkpoint()
            except trio.Cancelled as exc:
                stray = exc
        assert stray is not None
        raise stray

    async def test_gather_raises_input_cancelled_error_naming_the_input(self) -> None:
        import trio

        probe = Probe()
        with pytest.raises(InputCancelledError) as caught:
            await gather_or_abort(
                probe.returns("a", checkpoints=5), self._reraises_a_stray_cancelled()
            )
        assert caught.value.index == 1
        assert isinstance(caught.value.__cause__, trio.Cancelled)
        assert probe.finished == ["a"]
        assert probe.completed == []

    async def test_a_select_loop_source_reports_input_cancelled_error(self) -> None:
        async with multi_await() as m:
            m.add(self._reraises_a_stray_cancelled)
            with anyio.fail_after(5):  # a hang is the failure
                _, failures = await m.get()
        assert isinstance(failures[0], InputCancelledError)
