"""The caller being cancelled: CONTRACT 2.3, on each way of cancelling it."""

from __future__ import annotations

import sys
from typing import Any

import anyio
import pytest

from multi_await import FIRST_COMPLETED, gather_or_abort, secondary_errors, wait_or_abort

from .conftest import ASYNCIO_BACKENDS, TRIO_BACKENDS
from .support import Probe

pytestmark = pytest.mark.anyio


def cancelling_count() -> int:
    """asyncio's Task.cancelling() of the current task (0 where it does not exist)."""
    import asyncio

    return asyncio.current_task().cancelling()  # type: ignore[union-attr]


async def test_anyio_scope_cancellation_cancels_every_input_then_propagates() -> None:
    probe = Probe()
    with anyio.move_on_after(0.02) as scope:
        await gather_or_abort(probe.sleeps("a"), probe.sleeps("b"))
        pytest.fail("the scope's cancellation did not propagate")
    assert scope.cancelled_caught
    assert sorted(probe.cleaned) == ["a", "b"]


async def test_anyio_scope_cancellation_leaves_cancelling_count_at_zero(
    anyio_backend_name: str,
) -> None:
    if anyio_backend_name != "asyncio" or sys.version_info < (3, 11):
        pytest.skip("Task.cancelling() is asyncio's, from Python 3.11")
    with anyio.move_on_after(0.02):
        await gather_or_abort(Probe().sleeps("a"))
    assert cancelling_count() == 0


async def test_cancelling_the_scope_directly_works_as_the_deadline_does() -> None:
    probe = Probe()
    async with anyio.create_task_group() as tg:
        with anyio.CancelScope() as scope:

            async def cancel_soon() -> None:
                await anyio.wait_all_tasks_blocked()
                scope.cancel()

            tg.start_soon(cancel_soon)
            await wait_or_abort([probe.sleeps("a"), probe.sleeps("b")])
    assert scope.cancelled_caught
    assert sorted(probe.cleaned) == ["a", "b"]


async def test_a_failure_during_the_abort_outranks_the_callers_cancellation() -> None:
    probe = Probe()
    cleanup_error = ValueError("cleanup")
    with pytest.raises(ValueError) as caught, anyio.move_on_after(0.02):
        await gather_or_abort(probe.sleeps("a", cleanup_error=cleanup_error), probe.sleeps("b"))
    assert caught.value is cleanup_error
    assert sorted(probe.cleaned) == ["a", "b"]


async def test_two_failures_during_the_abort_keep_both() -> None:
    probe = Probe()
    first, second = ValueError("1"), KeyError("2")
    with pytest.raises((ValueError, KeyError)) as caught, anyio.move_on_after(0.02):
        await gather_or_abort(
            probe.sleeps("a", cleanup_error=first), probe.sleeps("b", cleanup_error=second)
        )
    assert {caught.value, *secondary_errors(caught.value)} == {first, second}


class TestAsyncio:
    """Native asyncio cancellation: Task.cancel() and asyncio.timeout()."""

    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_task_cancel_cancels_every_input_and_waits_for_them(self) -> None:
        import asyncio

        probe = Probe()
        task = asyncio.create_task(gather_or_abort(probe.sleeps("a"), probe.sleeps("b")))
        await anyio.wait_all_tasks_blocked()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert sorted(probe.cleaned) == ["a", "b"]

    async def test_a_second_task_cancel_during_the_abort_still_waits(self) -> None:
        import asyncio

        probe = Probe()
        task = asyncio.create_task(
            gather_or_abort(probe.sleeps("a", cleanup_checkpoints=20), probe.sleeps("b"))
        )
        await anyio.wait_all_tasks_blocked()
        task.cancel()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert sorted(probe.cleaned) == ["a", "b"]

    async def test_a_cancel_during_the_abort_after_first_completed_is_not_swallowed(
        self,
    ) -> None:
        import asyncio

        probe = Probe()
        task = asyncio.create_task(
            wait_or_abort(
                [probe.returns("a", 1, checkpoints=1), probe.sleeps("s", cleanup_checkpoints=50)],
                return_when=FIRST_COMPLETED,
            )
        )
        await probe.until_cleaning("s")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert probe.cleaned == ["s"]

    async def test_a_cancel_during_the_abort_after_our_timeout_wins_over_it(self) -> None:
        import asyncio

        probe = Probe()
        task = asyncio.create_task(
            gather_or_abort(probe.sleeps("s", cleanup_checkpoints=50), timeout=0.01)
        )
        await probe.until_cleaning("s")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert probe.cleaned == ["s"]

    @pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is 3.11+")
    async def test_asyncio_timeout_turns_into_its_timeout_error_with_inputs_finished(
        self,
    ) -> None:
        import asyncio

        probe = Probe()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.02):
                await gather_or_abort(probe.sleeps("a"), probe.sleeps("b"))
        assert sorted(probe.cleaned) == ["a", "b"]
        assert cancelling_count() == 0

    @pytest.mark.skipif(sys.version_info < (3, 15), reason="TaskGroup.cancel() is 3.15+")
    async def test_task_group_cancel_aborts_the_inputs_and_the_group_ends_quietly(self) -> None:
        import asyncio

        probe = Probe()
        async with asyncio.TaskGroup() as group:

            async def cancel_the_group() -> None:
                await anyio.wait_all_tasks_blocked()
                group.cancel()

            group.create_task(cancel_the_group())
            await gather_or_abort(probe.sleeps("a"), probe.sleeps("b"))
            pytest.fail("the group's cancellation did not reach the call")
        assert sorted(probe.cleaned) == ["a", "b"]
        assert cancelling_count() == 0


class TestTrio:
    @pytest.fixture(params=TRIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_trio_scope_catches_its_own_cancellation(self) -> None:
        import trio

        probe = Probe()
        with trio.move_on_after(0.02) as scope:
            await gather_or_abort(probe.sleeps("a"), probe.sleeps("b"))
        assert scope.cancelled_caught
        assert sorted(probe.cleaned) == ["a", "b"]

    async def test_trio_cancelled_propagates_as_itself(self) -> None:
        import trio
        import trio.testing

        probe = Probe()
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:

                async def cancel_soon() -> None:
                    await trio.testing.wait_all_tasks_blocked()
                    scope.cancel()

                nursery.start_soon(cancel_soon)
                try:
                    await gather_or_abort(probe.sleeps("a"))
                except BaseException as exc:
                    assert type(exc) is trio.Cancelled
                    raise
        assert probe.cleaned == ["a"]


class TestClosedCoroutine:
    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_closing_the_calls_coroutine_cancels_the_inputs(self) -> None:
        probe = Probe()
        call = gather_or_abort(probe.sleeps("a"))
        call.send(None)  # runs until the call waits for its input
        await anyio.wait_all_tasks_blocked()
        assert probe.started == ["a"]
        call.close()  # what happens to a coroutine destroyed while suspended
        await anyio.wait_all_tasks_blocked()
        assert probe.cleaned == ["a"]
