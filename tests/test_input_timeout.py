"""input_timeout on every primitive: CONTRACT 2.10.

Each input's own time limit, counted from its own start. Exact instants where the
clock can be virtual; on uvloop's real clock, outcomes with wide margins.
"""

from __future__ import annotations

import inspect
import math
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from multi_await import as_completed_or_abort, gather_or_abort, race_or_abort, wait_or_abort

from .conftest import ASYNCIO_BACKENDS, VIRTUAL_CLOCK_BACKENDS, on_a_virtual_clock
from .support import Elsewhere, Probe

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup

pytestmark = pytest.mark.anyio


class Timeline:
    """Inputs that sleep, noting when each started, finished or was cancelled."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.cancelled: dict[str, float] = {}
        self.cleaned: list[str] = []

    def sleeps(self, name: str, seconds: float) -> Callable[[], Awaitable[str]]:
        async def sleep() -> str:
            self.started[name] = anyio.current_time()
            try:
                await anyio.sleep(seconds)
            except anyio.get_cancelled_exc_class():
                self.cancelled[name] = anyio.current_time()
                with anyio.CancelScope(shield=True):
                    await anyio.lowlevel.checkpoint()  # a cleanup that awaits runs on
                self.cleaned.append(name)
                raise
            return name

        return sleep


async def test_an_input_past_its_limit_fails_with_a_timeout_error_naming_it() -> None:
    probe = Probe()
    with pytest.raises(TimeoutError) as caught:
        await gather_or_abort(probe.returns("quick", 1), probe.sleeps("slow"), input_timeout=0.05)
    assert type(caught.value) is TimeoutError
    message = str(caught.value)
    assert message.startswith("input 1 (coroutine Probe.sleeps)")
    assert "its input_timeout of 0.05 s" in message
    assert probe.cleaned == ["slow"]
    assert probe.all_finished


async def test_under_return_exceptions_it_is_returned_in_place() -> None:
    probe = Probe()
    results = await gather_or_abort(
        probe.sleeps("slow"), probe.returns("quick", 7), input_timeout=0.05, return_exceptions=True
    )
    assert isinstance(results[0], TimeoutError)
    assert results[1] == 7
    assert probe.cleaned == ["slow"]


async def test_wait_and_as_completed_raise_it_after_aborting_the_rest() -> None:
    probe = Probe()
    with pytest.raises(TimeoutError, match="input 0"):
        await wait_or_abort([probe.sleeps("slow")], input_timeout=0.05)
    values: list[object] = []
    with pytest.raises(TimeoutError, match="input 1"):
        async with as_completed_or_abort(
            [probe.returns("quick", 1), probe.sleeps("slower")], input_timeout=0.05
        ) as completed:
            async for value in completed:
                values.append(value)
    assert values == [1]
    assert probe.cleaned == ["slow", "slower"]


async def test_a_race_tolerates_it_and_starts_the_next_attempt_at_once() -> None:
    probe = Probe()
    attempts = [probe.sleeps("stuck"), probe.returns("next", "won", checkpoints=1)]
    # Without its limit the first attempt would hold the second back for an hour.
    assert await race_or_abort(attempts, input_timeout=0.05, stagger=3600) == "won"
    assert probe.cleaned == ["stuck"]


async def test_a_race_whose_every_attempt_timed_out_raises_all_their_timeout_errors() -> None:
    probe = Probe()
    with pytest.raises(ExceptionGroup) as caught:
        await race_or_abort([probe.sleeps("a"), probe.sleeps("b")], input_timeout=0.05)
    assert [type(error) for error in caught.value.exceptions] == [TimeoutError, TimeoutError]


class _HandedInAlreadyRunning:
    """A task that runs elsewhere has the limit too: it is cancelled once, and awaited."""

    kind = ""

    async def test_it_is_cancelled_when_its_limit_passes(self) -> None:
        probe = Probe()
        async with Elsewhere(self.kind) as elsewhere:
            task = elsewhere.start(probe.sleeps("task"))
            with pytest.raises(TimeoutError, match="input 0"):
                await gather_or_abort(task, input_timeout=0.05)
            assert probe.cleaned == ["task"]
            assert elsewhere.was_cancelled(task)


class TestAnAsyncioTaskHandedIn(_HandedInAlreadyRunning):
    kind = "asyncio task"

    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param


class TestATaskHandleHandedIn(_HandedInAlreadyRunning):
    kind = "task handle"


class TestExactInstants:
    """On a virtual clock, every limit is counted from its own input's start."""

    @pytest.fixture(params=VIRTUAL_CLOCK_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return on_a_virtual_clock(request.param)

    async def test_each_limit_counts_from_its_input_s_start_under_max_concurrency(self) -> None:
        line = Timeline()
        begin = anyio.current_time()
        results = await gather_or_abort(
            line.sleeps("a", 2),
            line.sleeps("b", 5),  # starts at 2 when a is done: cut at 2 + 4
            line.sleeps("c", 1),
            max_concurrency=1,
            input_timeout=4,
            return_exceptions=True,
        )
        assert results[0] == "a"
        assert isinstance(results[1], TimeoutError)
        assert results[2] == "c"
        assert {name: at - begin for name, at in line.started.items()} == {"a": 0, "b": 2, "c": 6}
        assert {name: at - begin for name, at in line.cancelled.items()} == {"b": 6}
        assert anyio.current_time() - begin == 7

    async def test_a_timed_out_input_aborts_the_others_at_that_instant(self) -> None:
        line = Timeline()
        begin = anyio.current_time()
        with pytest.raises(TimeoutError, match="input 0"):
            await gather_or_abort(
                line.sleeps("first", 3600),
                line.sleeps("paced", 3600),  # starts at 1, cut by the abort at 2, not 3
                max_per_second=1,
                input_timeout=2,
            )
        assert {name: at - begin for name, at in line.cancelled.items()} == {
            "first": 2,
            "paced": 2,
        }
        assert sorted(line.cleaned) == ["first", "paced"]

    async def test_an_input_that_finishes_within_its_limit_is_left_alone(self) -> None:
        line = Timeline()
        begin = anyio.current_time()
        assert await gather_or_abort(line.sleeps("a", 2.5), input_timeout=3) == ["a"]
        assert line.cancelled == {}
        assert anyio.current_time() - begin == 2.5

    async def test_in_a_staggered_race_a_timed_out_attempt_starts_the_next_at_once(
        self,
    ) -> None:
        line = Timeline()
        begin = anyio.current_time()
        result = await race_or_abort(
            [line.sleeps("hangs", 3600), line.sleeps("answers", 1), line.sleeps("spare", 1)],
            stagger=10,
            input_timeout=3,
        )
        assert result == "answers"
        assert {name: at - begin for name, at in line.started.items()} == {
            "hangs": 0,
            "answers": 3,
        }
        assert anyio.current_time() - begin == 4

    async def test_the_call_s_timeout_still_bounds_the_whole_call(self) -> None:
        line = Timeline()
        begin = anyio.current_time()
        with pytest.raises(TimeoutError, match="within 5 s"):
            await gather_or_abort(
                line.sleeps("a", 3600), line.sleeps("b", 3600), timeout=5, input_timeout=10
            )
        assert anyio.current_time() - begin == 5
        assert sorted(line.cleaned) == ["a", "b"]

    async def test_an_input_aborted_before_its_limit_is_not_cancelled_again_at_it(
        self,
    ) -> None:
        cleanup: list[float] = []

        async def slow_cleanup() -> None:
            try:
                await anyio.sleep_forever()
            finally:
                with anyio.CancelScope(shield=True):
                    await anyio.sleep(5)  # past its limit, at 2
                cleanup.append(anyio.current_time())

        async def fails() -> None:
            await anyio.sleep(1)
            raise KeyError("first")

        begin = anyio.current_time()
        with pytest.raises(KeyError):
            await gather_or_abort(slow_cleanup(), fails(), input_timeout=2)
        assert [at - begin for at in cleanup] == [6]  # its cleanup ran to its end


@pytest.mark.parametrize(
    ("value", "error"), [(-1, ValueError), (math.nan, ValueError), ("5", TypeError)]
)
async def test_a_bad_input_timeout_is_refused_before_anything_starts(
    value: object, error: type[Exception]
) -> None:
    coroutine = Probe().returns("never")
    with pytest.raises(error, match="input_timeout"):
        await gather_or_abort(coroutine, input_timeout=value)  # type: ignore[call-overload]
    assert inspect.getcoroutinestate(coroutine) == inspect.CORO_CLOSED
