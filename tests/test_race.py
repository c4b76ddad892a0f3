"""race_or_abort: CONTRACT 2.9."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from multi_await import race_or_abort, secondary_errors

from .conftest import ASYNCIO_BACKENDS, BACKENDS, on_a_virtual_clock
from .support import Elsewhere, Probe, until

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup

pytestmark = pytest.mark.anyio


async def test_the_first_success_wins_and_the_rest_have_finished() -> None:
    probe = Probe()
    result = await race_or_abort(
        [probe.sleeps("s0"), probe.returns("winner", "won", checkpoints=2), probe.sleeps("s1")]
    )
    assert result == "won"
    assert sorted(probe.cleaned) == ["s0", "s1"]
    assert probe.all_finished


async def test_failures_before_the_first_success_are_tolerated() -> None:
    probe = Probe()
    result = await race_or_abort(
        [
            probe.fails("f0", OSError("refused"), checkpoints=1),
            probe.returns("slow", "slow", checkpoints=5),
            probe.fails("f1", OSError("reset"), checkpoints=2),
        ]
    )
    assert result == "slow"


async def test_when_all_fail_an_exception_group_holds_every_failure_in_input_order() -> None:
    probe = Probe()
    errors = [OSError("a"), ValueError("b"), KeyError("c")]
    with pytest.raises(ExceptionGroup) as caught:
        await race_or_abort(
            [probe.fails(f"f{i}", error, checkpoints=3 - i) for i, error in enumerate(errors)]
        )
    assert list(caught.value.exceptions) == errors


async def test_a_base_exception_is_not_tolerated() -> None:
    class Stop(BaseException):
        pass

    probe = Probe()
    stop = Stop()
    with pytest.raises(Stop) as caught:
        await race_or_abort([probe.sleeps("s"), probe.fails("f", stop, checkpoints=1)])
    assert caught.value is stop
    assert probe.cleaned == ["s"]


async def test_timeout_aborts_and_carries_the_failures_tolerated_so_far() -> None:
    probe = Probe()
    refused = OSError("refused")
    with pytest.raises(TimeoutError) as caught:
        await race_or_abort([probe.fails("f", refused), probe.sleeps("s")], timeout=0.05)
    assert secondary_errors(caught.value) == (refused,)
    assert probe.cleaned == ["s"]


async def test_a_failure_starts_the_next_input_at_once_without_waiting_the_stagger() -> None:
    probe = Probe()
    called: list[str] = []

    def attempt(name: str, outcome: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        def call() -> Awaitable[Any]:
            called.append(name)
            return outcome()

        return call

    result = await race_or_abort(
        [
            attempt("first", lambda: probe.fails("first", OSError("refused"))),
            attempt("second", lambda: probe.returns("second", "connected")),
            attempt("third", lambda: probe.returns("third", "never")),
        ],
        stagger=3600,
        timeout=30,
    )
    assert result == "connected"
    assert called == ["first", "second"]


async def test_an_empty_race_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="at least one input"):
        await race_or_abort([])


@pytest.mark.parametrize(("value", "error"), [(-1, ValueError), (float("nan"), ValueError)])
async def test_a_bad_stagger_is_refused(value: float, error: type[Exception]) -> None:
    import inspect

    coro = Probe().returns("a")
    with pytest.raises(error, match="stagger"):
        await race_or_abort([coro], stagger=value)
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED


class TestStaggerOnAVirtualClock:
    """Where the clock can be virtual (Trio, asyncio's own loop), the stagger is exact.

    uvloop's clock lives in libuv and keeps real time: there only what no delay of
    the machine can break is checked, that no input starts early.
    """

    virtual = False

    @pytest.fixture(params=BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        name, options = request.param
        backend_id = request.node.callspec.id.split("-")[0]  # pyright: ignore[reportAttributeAccessIssue]
        self.virtual = backend_id != "asyncio+uvloop"
        return on_a_virtual_clock(backend_id) if self.virtual else (name, options)

    async def test_inputs_start_one_stagger_apart_while_none_fails(self) -> None:
        virtual = self.virtual
        starts: list[float] = []

        async def slow(result: str, seconds: float) -> str:
            starts.append(anyio.current_time())
            await anyio.sleep(seconds)
            return result

        stagger = 10.0 if virtual else 0.05
        begin = anyio.current_time()
        result = await race_or_abort(
            [lambda: slow("a", 3600), lambda: slow("b", 3600), lambda: slow("c", 0)],
            stagger=stagger,
        )
        assert result == "c"
        assert len(starts) == 3
        if virtual:
            assert [start - begin for start in starts] == [0, stagger, 2 * stagger]
            assert anyio.current_time() - begin == 2 * stagger
        else:  # input k starts no sooner than k staggers after the call began (to
            # within the rounding of the sums of floats that make the deadlines)
            assert all(start - begin >= k * stagger - 1e-9 for k, start in enumerate(starts))


class _RunningElsewhereWhileItWaitsForItsTurn:
    """With ``stagger=``, a task handed in whose turn never came still runs: the winner
    is returned only once it was cancelled and has finished."""

    kind = ""

    async def test_a_winner_cancels_it_and_it_has_finished_when_the_race_returns(
        self,
    ) -> None:
        probe = Probe()
        async with Elsewhere(self.kind) as elsewhere:
            task = elsewhere.start(probe.sleeps("task"))
            await until(lambda: "task" in probe.started)
            result = await race_or_abort([probe.returns("first", "won"), task], stagger=3600)
            assert result == "won"
            assert probe.cleaned == ["task"]
            assert elsewhere.was_cancelled(task)


class TestAsyncioTaskWaitingForItsTurn(_RunningElsewhereWhileItWaitsForItsTurn):
    kind = "asyncio task"

    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_one_that_failed_before_its_turn_loses_like_any_failed_input(self) -> None:
        # It failed on its own while it waited: the race tolerates failures, so the
        # winner is returned, as when a started input had failed.
        probe = Probe()
        async with Elsewhere(self.kind) as elsewhere:
            task = elsewhere.start(probe.fails("task", RuntimeError("failed while waiting")))
            await until(task.done)
            result = await race_or_abort(
                [probe.returns("first", "won", checkpoints=1), task], stagger=3600
            )
            assert result == "won"


class TestTaskHandleWaitingForItsTurn(_RunningElsewhereWhileItWaitsForItsTurn):
    kind = "task handle"
