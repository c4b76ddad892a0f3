"""map_or_abort: CONTRACT 2.10.

An async function over a lazily pulled source, sync or async, in bounded memory.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from multi_await import map_or_abort, secondary_errors

from .conftest import VIRTUAL_CLOCK_BACKENDS, on_a_virtual_clock
from .test_stuck_report import ReleaseOnReport

pytestmark = pytest.mark.anyio


class Items:
    """A source of the numbers 0, 1, ...: counts what was pulled, and if it was closed."""

    def __init__(self, count: float = math.inf, fail_at: int | None = None) -> None:
        self.count = count
        self.fail_at = fail_at
        self.pulled = 0
        self.closed = False

    def sync(self) -> Iterator[int]:
        try:
            while self.pulled < self.count:
                yield self._next()
        finally:
            self.closed = True

    async def asynchronous(self) -> AsyncIterator[int]:
        try:
            while self.pulled < self.count:
                await anyio.lowlevel.checkpoint()
                yield self._next()
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.lowlevel.checkpoint()  # a closing that awaits runs to its end
            self.closed = True

    def _next(self) -> int:
        if self.pulled == self.fail_at:
            raise LookupError(f"item {self.pulled} could not be read")
        self.pulled += 1
        return self.pulled - 1

    def of(self, kind: str) -> Any:
        return self.sync() if kind == "sync" else self.asynchronous()


class Work:
    """The function mapped: item *i* passes ``1 + i % 4`` checkpoints (finishing out of
    order), notes how many run at once, and how many were pulled when it started."""

    def __init__(self, items: Items) -> None:
        self.items = items
        self.running = 0
        self.peak = 0
        self.started: list[int] = []
        self.cleaned: list[int] = []

    @property
    def all_finished(self) -> bool:
        """Whether every input that hangs and began to run has finished its cleanup.

        (An asyncio task cancelled before its first step never runs at all.)
        """
        return sorted(self.started) == sorted(self.cleaned)

    async def __call__(self, item: int) -> int:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            for _ in range(1 + item % 4):
                await anyio.lowlevel.checkpoint()
            return item * 10
        finally:
            self.running -= 1

    async def hangs(self, item: int) -> int:
        self.started.append(item)
        try:
            await anyio.sleep_forever()
        finally:
            self.cleaned.append(item)
        raise AssertionError("unreachable")

    async def fails_at_3(self, item: int) -> int:
        if item == 3:
            raise ValueError("three")
        return await self.hangs(item)


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_await_gives_every_result_in_the_order_of_the_items(kind: str) -> None:
    items = Items(count=30)
    work = Work(items)
    assert await map_or_abort(work, items.of(kind), max_concurrency=4) == [
        10 * i for i in range(30)
    ]
    assert work.peak <= 4
    assert items.closed


async def test_the_stream_is_in_the_order_of_the_items(kind: str) -> None:
    items = Items(count=20)
    async with map_or_abort(Work(items), items.of(kind), max_concurrency=3) as results:
        assert [result async for result in results] == [10 * i for i in range(20)]


async def test_unordered_the_stream_is_in_the_order_they_finish(kind: str) -> None:
    items = Items(count=8)
    started: list[int] = []
    finished: list[int] = []

    async def work(item: int) -> int:
        started.append(item)
        while len(started) < 8:
            await anyio.lowlevel.checkpoint()
        for _ in range(8 - item):  # the later the item, the sooner it finishes
            await anyio.lowlevel.checkpoint()
        finished.append(item)
        return item

    async with map_or_abort(work, items.of(kind), max_concurrency=8, ordered=False) as results:
        streamed = [result async for result in results]
    assert streamed == finished
    assert sorted(streamed) == list(range(8))
    assert streamed != sorted(streamed)


@pytest.mark.parametrize("ordered", [True, False])
async def test_never_more_than_max_concurrency_items_ahead_of_the_results_taken(
    kind: str, ordered: bool
) -> None:
    items = Items(count=200)
    taken = 0
    async with map_or_abort(
        Work(items), items.of(kind), max_concurrency=5, ordered=ordered
    ) as results:
        async for _ in results:
            taken += 1
            assert items.pulled - taken <= 5
            for _ in range(3):  # a slow consumer: the inputs are done long before
                await anyio.lowlevel.checkpoint()
            assert items.pulled - taken <= 5
    assert taken == 200


async def test_none_means_a_hundred_at_once() -> None:
    items = Items(count=250)
    work = Work(items)
    await map_or_abort(work, items.sync())
    assert work.peak == 100


async def test_a_break_cancels_and_awaits_the_rest_and_closes_the_items(kind: str) -> None:
    items = Items()
    work = Work(items)

    async def mapped(item: int) -> int:
        return await (work(item) if item < 2 else work.hangs(item))

    async with map_or_abort(mapped, items.of(kind), max_concurrency=3) as results:
        async for result in results:
            assert result == 0
            break
    # Taking item 0's result freed its slot: a sync source fills it at once, an async
    # one only when the loop asks for the next result.
    assert items.pulled == (4 if kind == "sync" else 3)
    assert work.all_finished
    assert 2 in work.cleaned
    assert items.closed


async def test_a_failure_of_fn_aborts_everything_and_propagates_as_itself(kind: str) -> None:
    items = Items()
    work = Work(items)
    with pytest.raises(ValueError, match="three") as caught:
        await map_or_abort(work.fails_at_3, items.of(kind), max_concurrency=4)
    assert type(caught.value) is ValueError
    assert work.all_finished
    assert items.pulled == 4
    assert items.closed


async def test_a_failure_of_the_items_aborts_everything_and_propagates_as_itself(
    kind: str,
) -> None:
    items = Items(fail_at=2)
    work = Work(items)
    with pytest.raises(LookupError, match="item 2") as caught:
        async with map_or_abort(work.hangs, items.of(kind), max_concurrency=5) as results:
            async for _ in results:
                pass  # pragma: no cover
    assert type(caught.value) is LookupError
    assert work.all_finished
    assert items.pulled == 2
    assert items.closed


async def test_return_exceptions_gives_fn_s_failures_in_place(kind: str) -> None:
    items = Items(count=6)

    async def odd_fails(item: int) -> int:
        await anyio.lowlevel.checkpoint()
        if item % 2:
            raise ValueError(item)
        return item

    results = await map_or_abort(
        odd_fails, items.of(kind), max_concurrency=2, return_exceptions=True
    )
    assert [r if isinstance(r, int) else ("failed", r.args[0]) for r in results] == [
        0,
        ("failed", 1),
        2,
        ("failed", 3),
        4,
        ("failed", 5),
    ]


async def test_under_return_exceptions_a_failure_of_the_items_still_aborts(kind: str) -> None:
    items = Items(fail_at=1)
    work = Work(items)
    with pytest.raises(LookupError):
        await map_or_abort(work.hangs, items.of(kind), return_exceptions=True)
    assert work.all_finished
    assert items.pulled == 1


async def test_failures_while_aborting_are_attached(kind: str) -> None:
    items = Items()

    async def cleans_badly(item: int) -> None:
        if item == 2:
            raise ValueError("two")
        try:
            await anyio.sleep_forever()
        finally:
            raise OSError(f"cleanup of {item}")

    with pytest.raises(ValueError) as caught:
        await map_or_abort(cleans_badly, items.of(kind), max_concurrency=3)
    assert sorted(str(error) for error in secondary_errors(caught.value)) == [
        "cleanup of 0",
        "cleanup of 1",
    ]


async def test_the_caller_s_cancellation_cancels_awaits_and_closes(kind: str) -> None:
    items = Items()
    work = Work(items)
    with anyio.move_on_after(0.05) as scope:
        await map_or_abort(work.hangs, items.of(kind), max_concurrency=3)
    assert scope.cancelled_caught
    assert sorted(work.cleaned) == [0, 1, 2]
    assert work.all_finished
    assert items.closed


async def test_fn_that_returns_no_awaitable_fails_naming_the_item() -> None:
    with pytest.raises(TypeError, match="returned int for item 0, which is not awaitable"):
        await map_or_abort(lambda item: item, [1, 2])  # type: ignore[arg-type,return-value]


async def test_an_empty_source_gives_an_empty_list(kind: str) -> None:
    items = Items(count=0)
    assert await map_or_abort(Work(items), items.of(kind)) == []
    assert items.closed


async def test_an_iterator_that_is_not_a_generator_is_left_open() -> None:
    lines = iter(["a", "b"])

    async def upper(line: str) -> str:
        return line.upper()

    assert await map_or_abort(upper, lines) == ["A", "B"]
    assert next(lines, "open, and empty") == "open, and empty"


async def test_it_can_be_awaited_or_entered_only_once() -> None:
    call = map_or_abort(Work(Items()), range(3))
    assert await call == [0, 10, 20]
    with pytest.raises(RuntimeError, match="only once"):
        await call


class TestBadArguments:
    """Refused at the call, before anything starts: nothing is pulled, coroutines closed."""

    @pytest.mark.parametrize(
        ("arguments", "error", "match"),
        [
            ({"max_concurrency": 0}, ValueError, "max_concurrency must be at least 1"),
            ({"max_concurrency": 2.5}, TypeError, "max_concurrency must be an int"),
            ({"max_per_second": 0}, ValueError, "max_per_second must be more than 0"),
            ({"max_per_second": math.nan}, ValueError, "max_per_second"),
            ({"max_per_second": "1"}, TypeError, "max_per_second must be a number"),
            ({"timeout": math.nan}, ValueError, "timeout must not be NaN"),
            ({"input_timeout": -1}, ValueError, "input_timeout must not be negative"),
            ({"input_timeout": math.nan}, ValueError, "input_timeout must not be NaN"),
            ({"report_stuck_after": True}, TypeError, "report_stuck_after"),
        ],
    )
    async def test_a_bad_limit(
        self, kind: str, arguments: dict[str, Any], error: type[Exception], match: str
    ) -> None:
        items = Items()
        source = items.of(kind)
        with pytest.raises(error, match=match):
            map_or_abort(Work(items), source, **arguments)
        assert items.pulled == 0

    async def test_fn_not_callable(self) -> None:
        coroutine = Work(Items())(1)
        with pytest.raises(TypeError, match="fn must be an async function of one item"):
            map_or_abort(coroutine, range(3))  # type: ignore[call-overload]
        assert inspect.getcoroutinestate(coroutine) == inspect.CORO_CLOSED

    @pytest.mark.parametrize("items", [3, None, object()])
    async def test_items_not_iterable(self, items: object) -> None:
        with pytest.raises(TypeError, match="items must be an iterable or an async iterable"):
            map_or_abort(Work(Items()), items)  # type: ignore[call-overload]

    async def test_items_a_coroutine_is_closed(self) -> None:
        coroutine = Work(Items())(1)
        with pytest.raises(TypeError, match="items must be an iterable"):
            map_or_abort(Work(Items()), coroutine)  # type: ignore[call-overload]
        assert inspect.getcoroutinestate(coroutine) == inspect.CORO_CLOSED

    async def test_an_aiter_that_gives_no_async_iterator(self) -> None:
        class Broken:
            def __aiter__(self) -> int:
                return 1

        with pytest.raises(TypeError, match="items must be an iterable"):
            map_or_abort(Work(Items()), Broken())  # type: ignore[call-overload]


class TestExactInstants:
    @pytest.fixture(params=VIRTUAL_CLOCK_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return on_a_virtual_clock(request.param)

    async def test_the_timeout_cancels_awaits_and_raises(self, kind: str) -> None:
        items = Items()
        work = Work(items)
        begin = anyio.current_time()
        with pytest.raises(TimeoutError, match="within 5 s"):
            await map_or_abort(work.hangs, items.of(kind), max_concurrency=2, timeout=5)
        assert anyio.current_time() - begin == 5
        assert sorted(work.cleaned) == [0, 1]
        assert items.pulled == 2
        assert items.closed

    async def test_starts_are_paced(self, kind: str) -> None:
        items = Items(count=5)
        starts: list[float] = []

        async def noted(item: int) -> int:
            starts.append(anyio.current_time())
            return item

        begin = anyio.current_time()
        assert await map_or_abort(noted, items.of(kind), max_per_second=4) == list(range(5))
        assert [start - begin for start in starts] == [0, 0.25, 0.5, 0.75, 1.0]

    async def test_each_input_s_limit_counts_from_its_own_start(self, kind: str) -> None:
        items = Items(count=3)

        async def sleeps(item: int) -> int:
            await anyio.sleep([2, 5, 1][item])
            return item

        begin = anyio.current_time()
        results = await map_or_abort(
            sleeps, items.of(kind), max_concurrency=1, input_timeout=4, return_exceptions=True
        )
        assert results[0] == 0
        assert isinstance(results[1], TimeoutError)
        assert "input 1 " in str(results[1])
        assert results[2] == 2
        assert anyio.current_time() - begin == 2 + 4 + 1


async def test_stop_async_iteration_from_fn_is_a_runtime_error_in_the_stream() -> None:
    stop = StopAsyncIteration()

    async def reads_past_the_end(item: int) -> int:
        raise stop

    with pytest.raises(RuntimeError, match="raised StopAsyncIteration") as caught:
        async with map_or_abort(reads_past_the_end, range(3)) as results:
            async for _ in results:
                pass  # pragma: no cover
    assert caught.value.__cause__ is stop
    with pytest.raises(StopAsyncIteration):  # awaited, it is raised as itself
        await map_or_abort(reads_past_the_end, range(3))


class TestClosingTheItems:
    async def test_a_failure_to_close_them_is_raised(self) -> None:
        async def items() -> AsyncIterator[int]:
            try:
                yield 1
                await anyio.sleep_forever()
            finally:
                raise OSError("cursor could not close")

        async def quick(item: int) -> int:
            return item

        with pytest.raises(OSError, match="cursor could not close"):
            async with map_or_abort(quick, items()) as results:
                async for _ in results:
                    break

    async def test_a_failure_to_close_them_is_attached_to_the_failure_leaving(self) -> None:
        def items() -> Iterator[int]:
            try:
                yield 1
                yield 2
            finally:
                raise OSError("cursor could not close")

        async def fails(item: int) -> int:
            raise KeyError(item)

        with pytest.raises(KeyError) as caught:
            await map_or_abort(fails, items(), max_concurrency=1)
        assert [str(error) for error in secondary_errors(caught.value)] == [
            "cursor could not close"
        ]


async def test_the_stuck_report_names_the_item_s_position() -> None:
    reports = ReleaseOnReport()

    async def stubborn(item: int) -> int:
        if item == 0:
            raise ValueError("first")
        try:
            await anyio.sleep_forever()
        finally:
            with anyio.CancelScope(shield=True):
                await reports.unblock.wait()
        raise AssertionError("unreachable")  # pragma: no cover

    logger = logging.getLogger("multi_await")
    logger.addHandler(reports)
    try:
        with pytest.raises(ValueError, match="first"):
            await map_or_abort(stubborn, range(5), max_concurrency=3, report_stuck_after=0.05)
    finally:
        logger.removeHandler(reports)
    assert reports.records
    named = {record.getMessage().split(" (coroutine")[0] for record in reports.records}
    assert named <= {"multi_await: input 1", "multi_await: input 2"}


async def test_an_async_source_that_waits_for_the_results_does_not_hold_them_back() -> None:
    # A crawler's frontier: the links of each page are found in its result.
    send, receive = anyio.create_memory_object_stream[int](100)

    async def links() -> AsyncIterator[int]:
        async with receive:
            async for link in receive:
                yield link

    async def fetch(page: int) -> list[int]:
        await anyio.lowlevel.checkpoint()
        return [page * 2 + 1, page * 2 + 2] if page < 10 else []

    seen = []
    send.send_nowait(0)
    async with send, map_or_abort(fetch, links(), max_concurrency=4, ordered=False) as pages:
        pending = 1
        async for found in pages:
            seen.append(found)
            pending += len(found) - 1
            for link in found:
                send.send_nowait(link)
            if not pending:
                break
    assert len(seen) == 21


class TestAStalledSource:
    @pytest.fixture(params=VIRTUAL_CLOCK_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return on_a_virtual_clock(request.param)

    async def test_the_timeout_interrupts_it_and_results_already_in_come_first(self) -> None:
        closed = []

        async def items() -> AsyncIterator[int]:
            try:
                yield 1
                await anyio.sleep_forever()
            finally:
                closed.append(anyio.current_time())

        async def double(item: int) -> int:
            return 2 * item

        begin = anyio.current_time()
        results = []
        with pytest.raises(TimeoutError):
            async with map_or_abort(double, items(), timeout=3) as doubled:
                async for result in doubled:
                    results.append((result, anyio.current_time() - begin))
        assert results == [(2, 0)]
        assert [at - begin for at in closed] == [3]


async def test_fn_that_raises_when_called_fails_with_its_own_exception(kind: str) -> None:
    items = Items()
    bad = ValueError("not even a coroutine")

    def broken(item: int) -> Any:
        raise bad

    with pytest.raises(ValueError) as caught:
        await map_or_abort(broken, items.of(kind), max_concurrency=2)
    assert caught.value is bad
    assert items.pulled == 1
    assert items.closed


async def test_after_a_break_a_failure_while_the_rest_stop_is_raised(kind: str) -> None:
    items = Items()

    async def fails_when_cancelled(item: int) -> int:
        if item == 0:
            return 0
        try:
            await anyio.sleep_forever()
        finally:
            raise OSError(f"cleanup of {item}")

    with pytest.raises(OSError, match="cleanup of"):
        async with map_or_abort(fails_when_cancelled, items.of(kind), max_concurrency=3) as results:
            async for _ in results:
                break
    assert items.closed
