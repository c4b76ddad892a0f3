"""with_value and cancel_all: CONTRACT 2.8."""

from __future__ import annotations

import inspect
from typing import Any

import anyio
import pytest

from multi_await import as_completed_or_abort, cancel_all, secondary_errors, with_value

from .conftest import ASYNCIO_BACKENDS
from .support import Probe

pytestmark = pytest.mark.anyio


async def test_with_value_pairs_a_label_with_the_result() -> None:
    assert await with_value("label", Probe().returns("a", 42)) == ("label", 42)


async def test_with_value_labels_completion_order() -> None:
    probe = Probe()
    aws = [with_value(f"in{i}", probe.returns(f"r{i}", i, checkpoints=3 - i)) for i in range(3)]
    async with as_completed_or_abort(aws) as completed:
        assert [pair async for pair in completed] == [("in2", 2), ("in1", 1), ("in0", 0)]


class TestCancelAll:
    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_cancels_running_tasks_and_waits_for_their_cleanup(self) -> None:
        import asyncio

        probe = Probe()
        tasks = [asyncio.create_task(probe.sleeps(f"s{i}")) for i in range(3)]
        await anyio.wait_all_tasks_blocked()
        await cancel_all(tasks)
        assert sorted(probe.cleaned) == ["s0", "s1", "s2"]
        assert all(task.cancelled() for task in tasks)

    async def test_is_harmless_on_finished_tasks_and_when_called_again(self) -> None:
        import asyncio

        done = asyncio.create_task(asyncio.sleep(0, result="kept"))
        await done
        running = asyncio.create_task(asyncio.sleep(3600))
        await cancel_all([done, running])
        await cancel_all([done, running])
        assert done.result() == "kept"
        assert running.cancelled()

    async def test_still_waits_when_the_caller_is_cancelled_then_reraises(self) -> None:
        import asyncio

        probe = Probe()
        tasks = [asyncio.create_task(probe.sleeps("s", cleanup_checkpoints=50))]
        await anyio.wait_all_tasks_blocked()
        caller = asyncio.create_task(cancel_all(tasks))
        await probe.until_cleaning("s")
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        assert probe.cleaned == ["s"]

    async def test_a_failure_during_cancellation_is_raised_after_all_finished(self) -> None:
        import asyncio

        probe = Probe()
        first, second = ValueError("1"), KeyError("2")
        tasks = [
            asyncio.create_task(probe.sleeps("a", cleanup_error=first)),
            asyncio.create_task(probe.sleeps("b", cleanup_error=second, cleanup_checkpoints=6)),
        ]
        await anyio.wait_all_tasks_blocked()
        with pytest.raises(ValueError) as caught:
            await cancel_all(tasks)
        assert caught.value is first
        assert secondary_errors(caught.value) == (second,)
        assert all(task.done() for task in tasks)

    async def test_refuses_coroutines_and_closes_them(self) -> None:
        coro = Probe().returns("a")
        with pytest.raises(TypeError, match="cancel_all\\(\\) takes tasks"):
            await cancel_all([coro])
        assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED
