"""max_concurrency on the three primitives: CONTRACT 2.9."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from multi_await import as_completed_or_abort, gather_or_abort, secondary_errors, wait_or_abort

from .conftest import ASYNCIO_BACKENDS
from .support import Elsewhere, Probe, until
from .test_stuck_report import ReleaseOnReport
from .test_stuck_report import stubborn as ignores_its_cancellation

pytestmark = pytest.mark.anyio


class Gauge:
    """Counts how many of its inputs run at once, and in which order they start."""

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.started: list[int] = []

    async def work(self, index: int, checkpoints: int = 3) -> int:
        self.started.append(index)
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            for _ in range(checkpoints):
                await anyio.lowlevel.checkpoint()
            return index
        finally:
            self.running -= 1


async def test_gather_runs_at_most_that_many_at_once_in_input_order() -> None:
    gauge = Gauge()
    results = await gather_or_abort(
        *(gauge.work(i, checkpoints=1 + i % 4) for i in range(20)), max_concurrency=3
    )
    assert results == list(range(20))
    assert gauge.peak == 3


async def test_wait_and_as_completed_respect_the_limit() -> None:
    gauge = Gauge()
    done = await wait_or_abort([gauge.work(i) for i in range(10)], max_concurrency=2)
    assert [item.result() for item in done] == list(range(10))
    assert gauge.peak == 2

    gauge = Gauge()
    aws = [gauge.work(i, checkpoints=10 - i) for i in range(10)]
    async with as_completed_or_abort(aws, max_concurrency=4) as completed:
        values = [value async for value in completed]
    assert sorted(values) == list(range(10))
    assert gauge.peak == 4


async def test_callables_are_called_only_when_their_turn_comes() -> None:
    gauge = Gauge()
    called: list[int] = []

    def later(index: int) -> Callable[[], Awaitable[int]]:
        def call() -> Awaitable[int]:
            called.append(index)
            assert gauge.running < 2
            return gauge.work(index)

        return call

    assert await gather_or_abort(*(later(i) for i in range(6)), max_concurrency=2) == list(range(6))
    assert called == list(range(6))


async def test_on_abort_inputs_never_started_are_never_started() -> None:
    probe = Probe()
    called = []
    waiting = [probe.returns("never")]

    def never_called() -> Awaitable[None]:
        called.append(True)
        return probe.returns("never called")

    with pytest.raises(RuntimeError):
        await gather_or_abort(
            probe.sleeps("s"),
            probe.fails("f", RuntimeError(), checkpoints=1),
            *waiting,
            never_called,
            max_concurrency=2,
        )
    assert sorted(probe.started) == ["f", "s"]
    assert probe.cleaned == ["s"]
    assert inspect.getcoroutinestate(waiting[0]) == inspect.CORO_CLOSED
    assert called == []


async def test_a_timeout_says_which_inputs_were_cancelled_and_which_never_started() -> None:
    probe = Probe()
    with pytest.raises(TimeoutError) as caught:
        await gather_or_abort(
            probe.sleeps("s"), probe.returns("never"), max_concurrency=1, timeout=0.01
        )
    assert str(caught.value) == (
        "2 of 2 inputs had not finished within 0.01 s; those running were cancelled "
        "and awaited, the others never started"
    )
    assert probe.started == ["s"]


class _Wrapper:
    """An awaitable that is not a coroutine: it wraps one, as some libraries' objects do."""

    def __init__(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        self.coroutine = coroutine

    def __await__(self) -> Generator[Any, Any, Any]:
        return self.coroutine.__await__()


async def test_on_abort_an_awaitable_whose_turn_never_came_is_left_as_given() -> None:
    # Only coroutine objects can be closed without starting them. What another
    # awaitable wraps can only be reached through its __await__(), which begins an
    # await: the call leaves it alone, and closing what it wraps is the caller's
    # job (docs/guarantee.rst, max_concurrency).
    probe = Probe()
    plain = probe.returns("never")
    wrapped = probe.returns("never, wrapped")
    with pytest.raises(RuntimeError):
        await gather_or_abort(
            probe.fails("f", RuntimeError(), checkpoints=1),
            plain,
            _Wrapper(wrapped),
            max_concurrency=1,
        )
    assert probe.started == ["f"]
    assert inspect.getcoroutinestate(plain) == inspect.CORO_CLOSED
    assert inspect.getcoroutinestate(wrapped) == inspect.CORO_CREATED
    wrapped.close()


async def test_first_completed_starts_nothing_more_after_the_first() -> None:
    gauge = Gauge()
    done = await wait_or_abort(
        [gauge.work(i, checkpoints=i) for i in range(5)],
        return_when="FIRST_COMPLETED",
        max_concurrency=2,
    )
    assert [item.index for item in done] == [0]
    assert sorted(gauge.started) == [0, 1]


async def test_a_callable_returning_something_not_awaitable_fails_its_input_in_turn() -> None:
    probe = Probe()
    with pytest.raises(TypeError, match=r"input 1: calling .* returned int"):
        await gather_or_abort(probe.sleeps("s"), lambda: 42, max_concurrency=2)
    assert probe.all_finished


async def test_the_limit_holds_while_failures_are_returned() -> None:
    gauge = Gauge()

    async def fail(index: int) -> int:
        await gauge.work(index)
        raise ValueError(index)

    results = await gather_or_abort(
        *(fail(i) if i % 2 else gauge.work(i) for i in range(8)),
        max_concurrency=3,
        return_exceptions=True,
    )
    assert [r if isinstance(r, int) else -1 for r in results] == [0, -1, 2, -1, 4, -1, 6, -1]
    assert gauge.peak == 3


@pytest.mark.parametrize(
    ("value", "error"),
    [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError), ("2", TypeError)],
)
@pytest.mark.parametrize("primitive", ["gather", "wait", "as_completed"])
async def test_a_bad_max_concurrency_is_refused_before_anything_starts(
    primitive: str, value: Any, error: type[Exception]
) -> None:
    probe = Probe()
    coro = probe.returns("a")
    with pytest.raises(error, match="max_concurrency"):
        if primitive == "gather":
            await gather_or_abort(coro, max_concurrency=value)
        elif primitive == "wait":
            await wait_or_abort([coro], max_concurrency=value)
        else:
            as_completed_or_abort([coro], max_concurrency=value)
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED
    assert probe.started == []


class _RunningElsewhereWhileItWaitsForItsTurn:
    """A task handed in already runs: an abort before its turn cancels and awaits it.

    Each subclass picks the kind of task and the backends that can have it.
    """

    kind = ""

    async def test_a_failure_cancels_it_and_it_has_finished_when_the_call_raises(self) -> None:
        probe = Probe()
        async with Elsewhere(self.kind) as elsewhere:
            task = elsewhere.start(probe.sleeps("task"))
            await until(lambda: "task" in probe.started)
            error = RuntimeError("failed")
            with pytest.raises(RuntimeError) as caught:
                await gather_or_abort(
                    probe.fails("f", error, checkpoints=1), task, max_concurrency=1
                )
            assert caught.value is error
            assert secondary_errors(error) == ()
            assert probe.cleaned == ["task"]
            assert elsewhere.was_cancelled(task)

    async def test_a_timeout_cancels_it_and_it_has_finished_when_the_call_raises(self) -> None:
        probe = Probe()
        async with Elsewhere(self.kind) as elsewhere:
            task = elsewhere.start(probe.sleeps("task"))
            await until(lambda: "task" in probe.started)
            with pytest.raises(TimeoutError, match="2 of 2 inputs had not finished"):
                await gather_or_abort(probe.sleeps("s"), task, max_concurrency=1, timeout=0.01)
            assert sorted(probe.cleaned) == ["s", "task"]
            assert elsewhere.was_cancelled(task)

    async def test_the_caller_cancelled_cancels_it_and_it_has_finished_first(self) -> None:
        probe = Probe()

        async def cancels_the_caller() -> None:
            scope.cancel()
            await anyio.sleep_forever()

        async with Elsewhere(self.kind) as elsewhere:
            task = elsewhere.start(probe.sleeps("task"))
            await until(lambda: "task" in probe.started)
            with anyio.CancelScope() as scope:
                await gather_or_abort(cancels_the_caller(), task, max_concurrency=1)
            assert scope.cancelled_caught
            assert probe.cleaned == ["task"]
            assert elsewhere.was_cancelled(task)

    async def test_one_that_already_finished_is_not_an_error_nor_counted_unfinished(
        self,
    ) -> None:
        probe = Probe()
        async with Elsewhere(self.kind) as elsewhere:
            task = elsewhere.start(probe.returns("task", "done"))
            await until(lambda: "task" in probe.finished)
            await anyio.lowlevel.checkpoint()  # its own task group has seen it finish
            error = RuntimeError("failed")
            with pytest.raises(RuntimeError) as caught:
                await gather_or_abort(probe.fails("f", error), task, max_concurrency=1)
            assert caught.value is error
            assert secondary_errors(error) == ()
            with pytest.raises(TimeoutError, match="1 of 2 inputs had not finished"):
                await gather_or_abort(probe.sleeps("s"), task, max_concurrency=1, timeout=0.01)
            assert not elsewhere.was_cancelled(task)
            assert elsewhere.result(task) == "done"

    async def test_one_that_ignores_its_cancellation_is_reported_stuck_but_no_coroutine(
        self,
    ) -> None:
        probe = Probe()
        reports = ReleaseOnReport()
        started = anyio.Event()

        async def stubborn() -> None:
            started.set()
            await ignores_its_cancellation(reports.unblock)

        never = probe.returns("never")
        logger = logging.getLogger("multi_await")
        logger.addHandler(reports)
        try:
            async with Elsewhere(self.kind) as elsewhere:
                task = elsewhere.start(stubborn())
                await started.wait()
                try:
                    with pytest.raises(RuntimeError):
                        await gather_or_abort(
                            probe.fails("f", RuntimeError(), checkpoints=1),
                            task,
                            never,
                            max_concurrency=1,
                            report_stuck_after=0.01,
                        )
                    assert elsewhere.was_cancelled(task)
                finally:
                    reports.unblock.set()  # never reported: let it go all the same
        finally:
            logger.removeHandler(reports)
        assert len(reports.records) == 1
        assert reports.records[0].getMessage().startswith("multi_await: input 1 (")
        assert inspect.getcoroutinestate(never) == inspect.CORO_CLOSED
        assert probe.started == ["f"]


class TestAsyncioTaskWaitingForItsTurn(_RunningElsewhereWhileItWaitsForItsTurn):
    kind = "asyncio task"

    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param


class TestTaskHandleWaitingForItsTurn(_RunningElsewhereWhileItWaitsForItsTurn):
    kind = "task handle"
