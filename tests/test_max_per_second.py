"""max_per_second on every primitive: CONTRACT 2.10.

Input k starts no sooner than k / max_per_second seconds after the first. Exact
instants where the clock can be virtual; on uvloop's real clock, only that no input
starts early.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from multi_await import as_completed_or_abort, gather_or_abort, race_or_abort, wait_or_abort

from .conftest import VIRTUAL_CLOCK_BACKENDS, on_a_virtual_clock

pytestmark = pytest.mark.anyio


class Starts:
    """Async callables that note when they were called, then sleep and return."""

    def __init__(self) -> None:
        self.at: list[float] = []

    def input(self, value: int, seconds: float = 0) -> Callable[[], Awaitable[int]]:
        def call() -> Awaitable[int]:
            self.at.append(anyio.current_time())
            return self._sleep(value, seconds)

        return call

    async def _sleep(self, value: int, seconds: float) -> int:
        await anyio.sleep(seconds)
        return value

    def since(self, begin: float) -> list[float]:
        return [at - begin for at in self.at]


class TestExactInstants:
    @pytest.fixture(params=VIRTUAL_CLOCK_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return on_a_virtual_clock(request.param)

    async def test_starts_are_paced_evenly_from_the_first(self) -> None:
        starts = Starts()
        begin = anyio.current_time()
        results = await gather_or_abort(*(starts.input(i) for i in range(5)), max_per_second=4)
        assert results == [0, 1, 2, 3, 4]
        assert starts.since(begin) == [0, 0.25, 0.5, 0.75, 1.0]

    async def test_with_max_concurrency_both_limits_hold(self) -> None:
        starts = Starts()
        begin = anyio.current_time()
        await gather_or_abort(
            *(starts.input(i, seconds=1.5) for i in range(5)), max_per_second=2, max_concurrency=2
        )
        # The pace allows 0, 0.5, 1, 1.5, 2; a slot frees at 1.5, 2 and 3.
        assert starts.since(begin) == [0, 0.5, 1.5, 2, 3]

    async def test_callables_whose_turn_never_came_are_never_called(self) -> None:
        starts = Starts()
        begin = anyio.current_time()
        with pytest.raises(TimeoutError, match="the others never started"):
            await gather_or_abort(
                *(starts.input(i, seconds=3600) for i in range(10)), max_per_second=4, timeout=0.6
            )
        assert starts.since(begin) == [0, 0.25, 0.5]

    async def test_as_completed_gives_each_value_as_its_paced_input_returns(self) -> None:
        starts = Starts()
        begin = anyio.current_time()
        arrivals: list[tuple[int, float]] = []
        aws = [starts.input(i) for i in range(3)]
        async with as_completed_or_abort(aws, max_per_second=4) as completed:
            async for value in completed:
                arrivals.append((value, anyio.current_time() - begin))
        assert arrivals == [(0, 0), (1, 0.25), (2, 0.5)]

    async def test_wait_and_race_are_paced_too(self) -> None:
        starts = Starts()
        begin = anyio.current_time()
        done = await wait_or_abort([starts.input(i) for i in range(3)], max_per_second=2)
        assert [item.result() for item in done] == [0, 1, 2]
        assert starts.since(begin) == [0, 0.5, 1.0]

        starts = Starts()
        begin = anyio.current_time()
        winner = await race_or_abort(
            [starts.input(0, seconds=3600), starts.input(1, seconds=0.25), starts.input(2)],
            max_per_second=2,
        )
        assert winner == 1
        assert starts.since(begin) == [0, 0.5]  # the third's turn, at 1, never came


async def test_no_input_starts_before_its_turn_on_any_clock() -> None:
    starts = Starts()
    begin = anyio.current_time()
    await gather_or_abort(*(starts.input(i) for i in range(4)), max_per_second=50)
    # To within the rounding of the sums of floats that make the deadlines.
    assert all(at >= k / 50 - 1e-9 for k, at in enumerate(starts.since(begin)))


@pytest.mark.parametrize(
    ("value", "error"),
    [(0, ValueError), (-2, ValueError), (math.nan, ValueError), (True, TypeError)],
)
async def test_a_bad_rate_is_refused_before_anything_starts(
    value: object, error: type[Exception]
) -> None:
    called: list[int] = []
    coroutine = Starts()._sleep(1, 0)
    with pytest.raises(error, match="max_per_second"):
        await race_or_abort([coroutine, lambda: called.append(1)], max_per_second=value)  # type: ignore[arg-type,list-item]
    assert inspect.getcoroutinestate(coroutine) == inspect.CORO_CLOSED
    assert called == []
