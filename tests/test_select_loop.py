"""multi_await() / MultiAwait: CONTRACT 2.7, the select loop of 1.x."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from multi_await import InputCancelledError, MultiAwait, multi_await, secondary_errors

from .conftest import ASYNCIO_BACKENDS, TRIO_BACKENDS

pytestmark = pytest.mark.anyio


class Channels:
    """Two queues: asyncio.Queue on asyncio, memory streams (Trio channels) on Trio."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        if backend == "asyncio":
            import asyncio

            self._queues = [asyncio.Queue[Any](), asyncio.Queue[Any]()]
            self.receivers: list[Callable[[], Awaitable[Any]]] = [q.get for q in self._queues]
            self._senders = [q.put_nowait for q in self._queues]
        else:
            import trio

            pairs = [trio.open_memory_channel[Any](100) for _ in range(2)]
            self.receivers = [receive.receive for _, receive in pairs]
            self._senders = [send.send_nowait for send, _ in pairs]

    def put(self, which: int, item: object) -> None:
        self._senders[which](item)

    async def left_in(self, which: int) -> list[object]:
        """Drain what is still queued in channel *which*, without waiting."""
        items = []
        while True:
            with anyio.move_on_after(0.01):
                items.append(await self.receivers[which]())
                continue
            return items


@pytest.fixture
def channels(anyio_backend_name: str) -> Channels:
    return Channels(anyio_backend_name)


async def test_get_returns_positional_lists_with_none_where_not_done(channels: Channels) -> None:
    channels.put(1, "b1")
    async with multi_await() as m:
        m.add(channels.receivers[0])
        m.add(channels.receivers[1])
        completed, failures = await m.get()
    assert completed == [None, "b1"]
    assert failures == [None, None]


async def test_every_item_arrives_once_in_order_per_channel(channels: Channels) -> None:
    received: list[list[object]] = [[], []]
    async with multi_await() as m:
        m.add(channels.receivers[0])
        m.add(channels.receivers[1])
        for i in range(20):
            channels.put(i % 2, i)
            if i % 3 == 0:
                channels.put(1 - i % 2, -i)
            completed, _ = await m.get()
            for which, item in enumerate(completed):
                if item is not None:
                    received[which].append(item)
        while sum(map(len, received)) < 27:
            completed, _ = await m.get()
            for which, item in enumerate(completed):
                if item is not None:
                    received[which].append(item)
    sent0 = [i for i in range(20) if i % 2 == 0] + [-i for i in range(20) if i % 3 == 0 and i % 2]
    assert sorted(received[0]) == sorted(sent0)
    assert [x for x in received[0] if x >= 0] == [i for i in range(20) if i % 2 == 0]


async def test_a_pending_call_stays_pending_across_gets(channels: Channels) -> None:
    calls = [0, 0]

    def counting(which: int) -> Callable[[], Awaitable[Any]]:
        async def receive() -> Any:
            calls[which] += 1
            return await channels.receivers[which]()

        return receive

    async with multi_await() as m:
        m.add(counting(0))
        m.add(counting(1))
        for i in range(5):
            channels.put(0, i)
            completed, _ = await m.get()
            assert completed == [i, None]
    assert calls == [5, 1]


async def test_no_item_is_lost_after_leaving_the_block(channels: Channels) -> None:
    async with multi_await() as m:
        m.add(channels.receivers[0])
        m.add(channels.receivers[1])
        channels.put(0, "first")
        assert (await m.get())[0] == ["first", None]
    channels.put(0, "after")
    channels.put(1, "after")
    assert await channels.left_in(0) == ["after"]
    assert await channels.left_in(1) == ["after"]


async def test_no_item_is_lost_after_cancel(channels: Channels) -> None:
    async with multi_await() as m:
        m.add(channels.receivers[0])
        channels.put(0, "one")
        assert (await m.get())[0] == ["one"]
        with anyio.move_on_after(0.01):
            await m.get()
        await m.cancel()
        channels.put(0, "two")
        assert (await m.get())[0] == ["two"]


async def test_an_item_taken_but_not_yet_delivered_is_kept(channels: Channels) -> None:
    async with multi_await() as m:
        m.add(channels.receivers[0])
        m.add(channels.receivers[1])
        channels.put(0, "a")
        assert (await m.get())[0] == ["a", None]
        channels.put(1, "b")
        await anyio.wait_all_tasks_blocked()  # the pending call takes "b" now
    assert m.undelivered() == ([None, "b"], [None, None])


async def test_a_source_that_raises_is_reported_and_called_again(channels: Channels) -> None:
    attempts = 0
    error = OSError("flaky")

    async def flaky() -> str:
        nonlocal attempts
        attempts += 1
        await anyio.lowlevel.checkpoint()
        if attempts == 1:
            raise error
        return "ok"

    async with multi_await() as m:
        m.add(flaky)
        m.add(channels.receivers[0])
        completed, failures = await m.get()
        assert failures == [error, None]
        assert completed == [None, None]
        completed, failures = await m.get()
        assert completed == ["ok", None]
    assert attempts == 2


async def test_get_or_raise_raises_the_failure() -> None:
    error = LookupError()

    async def fails() -> None:
        raise error

    async with multi_await() as m:
        m.add(fails)
        with pytest.raises(LookupError) as caught:
            await m.get_or_raise()
    assert caught.value is error


async def test_get_with_no_sources_is_a_clear_error() -> None:
    async with multi_await() as m:
        with pytest.raises(RuntimeError, match="add a source"):
            await m.get()


async def test_adding_something_not_callable_is_a_type_error() -> None:
    async with multi_await() as m:
        with pytest.raises(TypeError, match="source 0 is int"):
            m.add(42)  # type: ignore[arg-type]


async def test_a_source_returning_something_not_awaitable_is_a_type_error() -> None:
    async with multi_await() as m:
        m.add(lambda: 42)
        with pytest.raises(TypeError, match=r"input 0: calling .* returned int"):
            await m.get()


async def test_leaving_the_block_cancels_and_awaits_pending_calls() -> None:
    cleaned = []

    async def slow() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.sleep(0.01)
            cleaned.append("slow")

    async def quick() -> str:
        return "quick"

    async with multi_await() as m:
        m.add(slow)
        m.add(quick)
        assert (await m.get())[0] == [None, "quick"]
    assert cleaned == ["slow"]


async def test_a_failure_while_cancelling_is_raised_by_cancel() -> None:
    error = ValueError("cleanup")

    async def breaks_on_cancel() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            raise error

    async def quick() -> str:
        return "quick"

    m = multi_await()
    with pytest.raises(ValueError) as caught:
        async with m:
            m.add(breaks_on_cancel)
            m.add(quick)
            await m.get()
    assert caught.value is error
    assert secondary_errors(caught.value) == ()


async def test_cancel_waits_even_when_the_caller_is_cancelled_meanwhile() -> None:
    cleaned = []

    async def slow_cleanup() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.sleep(0.05)
            cleaned.append("done")

    async with multi_await() as m:
        m.add(slow_cleanup)
        with anyio.move_on_after(0.01):
            await m.get()
        with anyio.move_on_after(0.01) as scope:
            await m.cancel()
        assert cleaned == ["done"]
        assert scope.cancelled_caught


class TestAsyncio:
    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_used_without_async_with_as_in_1x(self) -> None:
        import asyncio

        queue = asyncio.Queue[int]()
        queue.put_nowait(1)
        m = MultiAwait()
        m.add(queue.get)
        assert await m.get_or_raise() == [1]
        await m.cancel()

    async def test_a_source_returning_a_task_is_cancelled_once_on_exit(self) -> None:
        import asyncio

        log = []

        async def slow_cleanup() -> None:
            try:
                await asyncio.sleep(3600)
            finally:
                for _ in range(5):
                    await asyncio.sleep(0)
                log.append("cleanup complete")

        tasks: list[asyncio.Task[None]] = []

        def start() -> asyncio.Task[None]:
            tasks.append(asyncio.create_task(slow_cleanup()))
            return tasks[-1]

        async def quick() -> str:
            return "q"

        async with multi_await() as m:
            m.add(start)
            m.add(quick)
            await m.get()
        assert log == ["cleanup complete"]
        assert tasks[0].cancelled()

    async def test_a_call_cancelled_by_someone_else_is_a_failure(self) -> None:
        import asyncio

        async def cancels_itself() -> None:
            asyncio.current_task().cancel()  # type: ignore[union-attr]
            await asyncio.sleep(0)

        async with multi_await() as m:
            m.add(cancels_itself)
            _, failures = await m.get()
        assert isinstance(failures[0], InputCancelledError)


class TestTrio:
    @pytest.fixture(params=TRIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_without_async_with_is_a_clear_error(self) -> None:
        async def source() -> int:
            return 1

        m = MultiAwait()
        m.add(source)
        with pytest.raises(RuntimeError, match="async with multi_await"):
            await m.get()
