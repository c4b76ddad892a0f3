"""as_completed_or_abort: CONTRACT 2.6."""

from __future__ import annotations

from typing import Any

import pytest

from multi_await import as_completed_or_abort, secondary_errors

from .conftest import ASYNCIO_BACKENDS, TRIO_BACKENDS
from .support import Probe

pytestmark = pytest.mark.anyio


async def test_values_arrive_in_completion_order() -> None:
    probe = Probe()
    count = 6
    aws = [probe.returns(f"r{i}", i, checkpoints=count - i) for i in range(count)]
    async with as_completed_or_abort(aws) as completed:
        values = [value async for value in completed]
    assert values == list(reversed(range(count)))


async def test_indexed_tells_which_input_gave_each_value() -> None:
    probe = Probe()
    aws = [probe.returns(f"r{i}", f"v{i}", checkpoints=3 - i) for i in range(3)]
    async with as_completed_or_abort(aws) as completed:
        pairs = [pair async for pair in completed.indexed()]
    assert pairs == [(2, "v2"), (1, "v1"), (0, "v0")]


async def test_break_aborts_the_rest_and_waits_for_them() -> None:
    probe = Probe()
    aws = [probe.returns("fast", 1, checkpoints=1), probe.sleeps("s0"), probe.sleeps("s1")]
    async with as_completed_or_abort(aws) as completed:
        async for value in completed:
            assert value == 1
            break
    assert sorted(probe.cleaned) == ["s0", "s1"]
    assert probe.all_finished


async def test_an_exception_in_the_body_aborts_the_rest_and_propagates() -> None:
    probe = Probe()
    error = KeyError("body")
    with pytest.raises(KeyError) as caught:
        async with as_completed_or_abort([probe.returns("a", 1), probe.sleeps("s")]) as completed:
            async for _ in completed:
                raise error
    assert caught.value is error
    assert probe.cleaned == ["s"]


async def test_cleanup_failures_are_attached_to_the_bodys_exception() -> None:
    probe = Probe()
    error, cleanup_error = KeyError("body"), ValueError("cleanup")
    with pytest.raises(KeyError) as caught:
        async with as_completed_or_abort(
            [probe.returns("a", 1), probe.sleeps("s", cleanup_error=cleanup_error)]
        ) as completed:
            async for _ in completed:
                raise error
    assert secondary_errors(caught.value) == (cleanup_error,)


async def test_a_cleanup_failure_after_break_is_raised() -> None:
    probe = Probe()
    cleanup_error = ValueError("cleanup")
    with pytest.raises(ValueError) as caught:
        async with as_completed_or_abort(
            [probe.returns("a", 1), probe.sleeps("s", cleanup_error=cleanup_error)]
        ) as completed:
            async for _ in completed:
                break
    assert caught.value is cleanup_error


async def test_a_failure_comes_from_the_step_that_would_have_produced_it() -> None:
    probe = Probe()
    error = RuntimeError("third")
    aws = [
        probe.returns("a", "a", checkpoints=1),
        probe.returns("b", "b", checkpoints=2),
        probe.fails("f", error, checkpoints=3),
        probe.sleeps("s"),
    ]
    seen = []
    with pytest.raises(RuntimeError) as caught:
        async with as_completed_or_abort(aws) as completed:
            async for value in completed:
                seen.append(value)
    assert caught.value is error
    assert seen == ["a", "b"]
    assert probe.cleaned == ["s"]
    assert probe.all_finished


async def test_the_rest_are_aborted_before_the_failure_is_raised() -> None:
    probe = Probe()
    cleaned_when_raised: list[str] = []
    with pytest.raises(RuntimeError):
        async with as_completed_or_abort(
            [probe.sleeps("s"), probe.fails("f", RuntimeError(), 1)]
        ) as completed:
            try:
                async for _ in completed:
                    pass
            finally:
                cleaned_when_raised.extend(probe.cleaned)
    assert cleaned_when_raised == ["s"]


async def test_timeout_gives_values_that_arrived_in_time_then_raises() -> None:
    probe = Probe()
    seen = []
    with pytest.raises(TimeoutError):
        async with as_completed_or_abort(
            [probe.returns("a", 1), probe.sleeps("s")], timeout=0.02
        ) as completed:
            async for value in completed:
                seen.append(value)
    assert seen == [1]
    assert probe.cleaned == ["s"]


async def test_empty_input_yields_nothing() -> None:
    async with as_completed_or_abort([]) as completed:
        assert [value async for value in completed] == []


async def test_entering_twice_is_an_error() -> None:
    probe = Probe()
    completed = as_completed_or_abort([probe.returns("a", 1)])
    async with completed:
        with pytest.raises(RuntimeError, match="only once"):
            await completed.__aenter__()
    assert probe.all_finished


class TestPlainAsyncFor:
    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_runs_to_the_end(self) -> None:
        probe = Probe()
        aws = [probe.returns(f"r{i}", i, checkpoints=3 - i) for i in range(3)]
        assert [value async for value in as_completed_or_abort(aws)] == [2, 1, 0]
        assert probe.all_finished

    async def test_a_failure_aborts_the_rest(self) -> None:
        probe = Probe()
        error = RuntimeError()
        with pytest.raises(RuntimeError) as caught:
            async for _ in as_completed_or_abort([probe.sleeps("s"), probe.fails("f", error, 1)]):
                pass
        assert caught.value is error
        assert probe.cleaned == ["s"]


class TestPlainAsyncForOnTrio:
    @pytest.fixture(params=TRIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_is_a_clear_error_and_starts_nothing(self) -> None:
        probe = Probe()
        with pytest.raises(RuntimeError, match="async with as_completed_or_abort"):
            async for _ in as_completed_or_abort([probe.returns("a", 1)]):
                pass
        assert probe.started == []


async def test_the_callers_cancellation_while_iterating_aborts_and_propagates() -> None:
    import anyio

    probe = Probe()
    with anyio.move_on_after(0.02) as scope:
        async with as_completed_or_abort([probe.sleeps("a"), probe.sleeps("b")]) as completed:
            async for _ in completed:
                pytest.fail("nothing returns")
    assert scope.cancelled_caught
    assert sorted(probe.cleaned) == ["a", "b"]


async def test_the_callers_cancellation_in_the_body_aborts_and_propagates() -> None:
    import anyio

    probe = Probe()
    with anyio.CancelScope() as scope:
        async with as_completed_or_abort([probe.returns("a", 1), probe.sleeps("b")]) as completed:
            async for _ in completed:
                scope.cancel()
                await anyio.lowlevel.checkpoint()
    assert scope.cancelled_caught
    assert probe.cleaned == ["b"]


async def test_a_failure_does_not_interrupt_the_body_it_surfaces_at_the_next_step() -> None:
    import anyio.lowlevel

    probe = Probe()
    error = RuntimeError("late")
    bodies_completed = 0
    with pytest.raises(RuntimeError) as caught:
        async with as_completed_or_abort(
            [probe.returns("a", 1), probe.fails("f", error, checkpoints=3), probe.sleeps("s")]
        ) as completed:
            async for _ in completed:
                for _ in range(10):
                    await anyio.lowlevel.checkpoint()
                bodies_completed += 1
    assert caught.value is error
    assert bodies_completed == 1
    assert probe.cleaned == ["s"]


async def test_the_bodys_own_exception_wins_and_carries_an_inputs_failure() -> None:
    import anyio.lowlevel

    probe = Probe()
    body_error, input_error = KeyError("body"), RuntimeError("input")
    with pytest.raises(KeyError) as caught:
        async with as_completed_or_abort(
            [probe.returns("a", 1), probe.fails("f", input_error, checkpoints=3), probe.sleeps("s")]
        ) as completed:
            async for _ in completed:
                for _ in range(10):
                    await anyio.lowlevel.checkpoint()
                raise body_error
    assert caught.value is body_error
    assert secondary_errors(caught.value) == (input_error,)
    assert probe.cleaned == ["s"]


class TestOneXForm:
    """``for aw in as_completed_or_abort(tasks): value = await aw``, asyncio's only."""

    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_each_step_gives_the_next_value_to_finish(self) -> None:
        import asyncio

        probe = Probe()
        tasks = [
            asyncio.create_task(probe.returns(f"t{i}", i, checkpoints=3 - i)) for i in range(3)
        ]
        values = [await aw for aw in as_completed_or_abort(tasks)]
        assert values == [2, 1, 0]

    async def test_awaiting_a_failure_aborts_the_rest_then_raises_with_cleanup_errors(
        self,
    ) -> None:
        import asyncio

        probe = Probe()
        cleanup_error = ValueError("I/O operation on closed file.")
        tasks = [
            asyncio.create_task(probe.sleeps("sleeper", cleanup_error=cleanup_error)),
            asyncio.create_task(probe.fails("f", RuntimeError("task failed"), checkpoints=2)),
            asyncio.create_task(probe.returns("r", "first", checkpoints=1)),
        ]
        seen = []
        with pytest.raises(RuntimeError) as caught:
            for aw in as_completed_or_abort(tasks):
                seen.append(await aw)
        assert seen == ["first"]
        assert probe.cleaned == ["sleeper"]
        assert all(task.done() for task in tasks)
        assert secondary_errors(caught.value) == (cleanup_error,)

    async def test_steps_stop_after_a_failure_was_raised(self) -> None:
        probe = Probe()
        steps = 0
        for aw in as_completed_or_abort([probe.fails("f", KeyError(), 1), probe.sleeps("s")]):
            steps += 1
            with pytest.raises(KeyError):
                await aw
        assert steps == 1
        assert probe.cleaned == ["s"]

    async def test_leaving_early_cancels_the_rest_without_waiting(self) -> None:
        import anyio

        probe = Probe()
        for aw in as_completed_or_abort([probe.returns("a", 1), probe.sleeps("s")]):
            assert await aw == 1
            break
        await anyio.wait_all_tasks_blocked()
        assert probe.cleaned == ["s"]

    async def test_a_failure_after_leaving_early_goes_to_the_exception_handler(self) -> None:
        import asyncio

        import anyio

        from .conftest import HANDLER_CALLS

        loop = asyncio.get_running_loop()
        test_runners_handler = loop.get_exception_handler()
        calls: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda loop, context: calls.append(context))
        try:
            probe = Probe()
            cleanup_error = ValueError("cleanup")
            for aw in as_completed_or_abort(
                [probe.returns("a", 1), probe.sleeps("s", cleanup_error=cleanup_error)]
            ):
                await aw
                break
            await anyio.wait_all_tasks_blocked()
        finally:
            loop.set_exception_handler(test_runners_handler)
            HANDLER_CALLS.clear()
        assert [call["exception"] for call in calls] == [cleanup_error]
        assert "input 1" in calls[0]["message"]

    async def test_steps_never_awaited_leave_no_warning(self) -> None:
        probe = Probe()
        steps = list(as_completed_or_abort([probe.returns("a"), probe.returns("b")]))
        assert len(steps) == 2
        del steps
        assert probe.started == []

    async def test_bare_async_for_left_early_cancels_the_rest(self) -> None:
        import anyio

        probe = Probe()
        async for _ in as_completed_or_abort([probe.returns("a", 1), probe.sleeps("s")]):
            break
        await anyio.wait_all_tasks_blocked()
        assert probe.cleaned == ["s"]


def test_an_unused_as_completed_closes_its_coroutines() -> None:
    import inspect

    import anyio

    async def main() -> None:
        coro = Probe().returns("a")
        as_completed_or_abort([coro])
        assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED

    anyio.run(main)


class TestOneXFormOnTrio:
    @pytest.fixture(params=TRIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_is_a_clear_error_and_starts_nothing(self) -> None:
        probe = Probe()
        with pytest.raises(RuntimeError, match="needs asyncio; on Trio, use"):
            for _ in as_completed_or_abort([probe.returns("a")]):
                pass
        assert probe.started == []
