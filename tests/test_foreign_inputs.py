"""Inputs already running elsewhere: asyncio tasks and futures, AnyIO task handles."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from multi_await import InputCancelledError, gather_or_abort, secondary_errors, wait_or_abort

from .conftest import ASYNCIO_BACKENDS
from .support import Probe

pytestmark = pytest.mark.anyio


class TestAsyncioTasks:
    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_results_of_running_tasks_are_gathered(self) -> None:
        probe = Probe()
        tasks = [
            asyncio.create_task(probe.returns(f"t{i}", i, checkpoints=3 - i)) for i in range(3)
        ]
        assert await gather_or_abort(*tasks) == [0, 1, 2]

    async def test_a_foreign_task_is_cancelled_once_so_its_awaiting_cleanup_completes(
        self,
    ) -> None:
        log: list[str] = []

        async def slow_cleanup() -> None:
            try:
                await asyncio.sleep(3600)
            finally:
                # Unshielded on purpose: a second cancel() would cut this short.
                for _ in range(5):
                    await asyncio.sleep(0)
                log.append("cleanup complete")

        foreign = asyncio.create_task(slow_cleanup())

        async def fail() -> None:
            for _ in range(3):
                await asyncio.sleep(0)
            raise RuntimeError("task failed")

        with pytest.raises(RuntimeError):
            await gather_or_abort(foreign, fail())
        assert foreign.cancelled()
        assert log == ["cleanup complete"]

    async def test_a_foreign_task_is_cancelled_once_when_the_caller_is_cancelled(
        self,
    ) -> None:
        log: list[str] = []

        async def slow_cleanup() -> None:
            try:
                await asyncio.sleep(3600)
            finally:
                for _ in range(5):
                    await asyncio.sleep(0)
                log.append("cleanup complete")

        foreign = asyncio.create_task(slow_cleanup())
        with anyio.move_on_after(0.02):
            await gather_or_abort(foreign)
        assert foreign.done()
        assert log == ["cleanup complete"]

    async def test_a_task_cancelled_by_someone_else_is_a_failure_naming_it(self) -> None:
        probe = Probe()
        victim = asyncio.create_task(asyncio.sleep(3600), name="victim")

        async def cancel_victim() -> None:
            await asyncio.sleep(0)
            victim.cancel()

        with pytest.raises(InputCancelledError) as caught:
            await gather_or_abort(probe.sleeps("s"), victim, cancel_victim())
        assert caught.value.index == 1
        assert "victim" in str(caught.value)
        assert not isinstance(caught.value, asyncio.CancelledError)
        assert probe.cleaned == ["s"]

    async def test_a_future_cancelled_elsewhere_just_before_the_abort_is_not_ours(
        self,
    ) -> None:
        # Cancelled by its owner after the failure, before the failure's report: the
        # abort then finds it finished, so its cancellation is somebody else's.
        victim: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def fail() -> None:
            await asyncio.sleep(0)
            asyncio.get_running_loop().call_soon(victim.cancel)  # before our report
            raise ValueError("failed")

        with pytest.raises(ValueError, match="failed") as caught:
            await gather_or_abort(victim, fail())
        (cancelled,) = secondary_errors(caught.value)
        assert isinstance(cancelled, InputCancelledError)
        assert cancelled.index == 0

    async def test_an_input_that_cancels_itself_is_a_failure_not_a_cancellation(
        self,
    ) -> None:
        probe = Probe()

        async def cancels_itself() -> None:
            asyncio.current_task().cancel()  # type: ignore[union-attr]
            await asyncio.sleep(0)

        with pytest.raises(InputCancelledError) as caught:
            await gather_or_abort(probe.sleeps("s"), cancels_itself())
        assert caught.value.index == 1
        assert isinstance(caught.value.__cause__, asyncio.CancelledError)
        assert probe.cleaned == ["s"]

    async def test_a_plain_future_is_awaited_and_cancelled_on_abort(self) -> None:
        loop = asyncio.get_running_loop()
        done, pending = loop.create_future(), loop.create_future()
        done.set_result("ready")
        assert await gather_or_abort(done) == ["ready"]

        async def fail() -> None:
            await asyncio.sleep(0)
            raise RuntimeError

        with pytest.raises(RuntimeError):
            await gather_or_abort(pending, fail())
        assert pending.cancelled()

    async def test_failure_of_a_foreign_task_is_raised_as_itself(self) -> None:
        error = LookupError("x")

        async def fail() -> None:
            raise error

        task = asyncio.create_task(fail())
        with pytest.raises(LookupError) as caught:
            await gather_or_abort(task)
        assert caught.value is error

    async def test_a_task_that_failed_on_creation_is_named_without_crashing(self) -> None:
        import traceback

        first, second = KeyError("first"), ValueError("second")

        async def fail(error: Exception) -> None:
            raise error

        # Under the eager task factory both finish inside create_task().
        tasks = [asyncio.create_task(fail(first)), asyncio.create_task(fail(second), name="t2")]
        with pytest.raises(KeyError) as caught:
            await gather_or_abort(*tasks)
        assert secondary_errors(caught.value) == (second,)
        printed = "".join(traceback.format_exception(caught.value))
        assert "input 1 (Task 't2'" in printed

    async def test_wait_returns_the_very_task_objects_given(self) -> None:
        tasks = [asyncio.create_task(asyncio.sleep(0, result=i)) for i in range(3)]
        done = await wait_or_abort(tasks)
        assert done == tasks
        assert [await t for t in done] == [0, 1, 2]


class TestTaskHandles:
    async def test_the_result_of_a_task_handle_is_gathered(self) -> None:
        async def seven() -> int:
            await anyio.lowlevel.checkpoint()
            return 7

        async with anyio.create_task_group() as tg:
            handle = tg.create_task(seven())
            assert await gather_or_abort(handle) == [7]

    async def test_a_task_handle_is_cancelled_on_abort_and_its_cleanup_completes(self) -> None:
        probe = Probe()

        async def fail() -> None:
            await anyio.lowlevel.checkpoint()
            raise RuntimeError

        async with anyio.create_task_group() as tg:
            handle = tg.create_task(probe.sleeps("handle"))
            with pytest.raises(RuntimeError):
                await gather_or_abort(handle, fail())
            assert probe.cleaned == ["handle"]

    async def test_a_failing_task_handle_raises_its_own_exception(self) -> None:
        error = KeyError("k")

        async def fail() -> None:
            await anyio.lowlevel.checkpoint()
            raise error

        with pytest.raises(BaseException) as group:
            async with anyio.create_task_group() as tg:
                handle = tg.create_task(fail())
                with pytest.raises(KeyError) as caught:
                    await gather_or_abort(handle)
                assert caught.value is error
                raise caught.value
        assert group.value is error or error in group.value.exceptions  # type: ignore[attr-defined]
