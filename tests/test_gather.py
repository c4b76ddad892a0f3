"""gather_or_abort: CONTRACT 2.2-2.4."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from multi_await import gather_or_abort, secondary_errors

from .support import Probe

pytestmark = pytest.mark.anyio


async def test_results_come_back_in_input_order_whatever_the_completion_order() -> None:
    probe = Probe()
    count = 12
    results = await gather_or_abort(
        *(probe.returns(f"r{i}", i, checkpoints=count - i) for i in range(count))
    )
    assert results == list(range(count))
    assert probe.completed == [f"r{i}" for i in reversed(range(count))]


@pytest.mark.parametrize("seed", range(5))
async def test_results_come_back_in_input_order_under_shuffled_delays(seed: int) -> None:
    import random

    probe = Probe()
    delays = list(range(20))
    random.Random(seed).shuffle(delays)
    results = await gather_or_abort(
        *(probe.returns(f"r{i}", i, checkpoints=delay) for i, delay in enumerate(delays))
    )
    assert results == list(range(20))
    assert probe.completed == [f"r{delays.index(step)}" for step in range(20)]


async def test_result_is_a_list() -> None:
    assert await gather_or_abort(Probe().returns("a", 1)) == [1]


async def test_empty_input_returns_an_empty_list() -> None:
    assert await gather_or_abort() == []


async def test_async_callables_are_called_and_awaited() -> None:
    probe = Probe()

    async def seven() -> int:
        return 7

    results = await gather_or_abort(seven, lambda: probe.returns("lam", "x"))
    assert results == [7, "x"]


async def test_a_failure_is_raised_as_itself_after_every_sibling_cleaned_up() -> None:
    probe = Probe()
    error = RuntimeError("task failed")
    with pytest.raises(RuntimeError) as caught:
        await gather_or_abort(
            probe.sleeps("s0"), probe.fails("f", error, checkpoints=2), probe.sleeps("s1")
        )
    assert caught.value is error
    assert sorted(probe.cleaned) == ["s0", "s1"]
    assert probe.all_finished


async def test_many_sleepers_are_all_cleaned_up_before_the_caller_sees_the_failure() -> None:
    probe = Probe()
    sleepers = [probe.sleeps(f"s{i}") for i in range(200)]
    with pytest.raises(KeyError):
        await gather_or_abort(*sleepers, probe.fails("f", KeyError("k"), checkpoints=1))
    assert len(probe.cleaned) == 200
    assert probe.all_finished


async def test_a_cleanup_failure_is_attached_to_the_failure_that_propagates() -> None:
    probe = Probe()
    cleanup_error = ValueError("I/O operation on closed file.")
    with pytest.raises(RuntimeError) as caught:
        await gather_or_abort(
            probe.sleeps("s", cleanup_error=cleanup_error),
            probe.fails("f", RuntimeError("task failed"), checkpoints=1),
        )
    assert secondary_errors(caught.value) == (cleanup_error,)
    printed = "".join(caught.value.__notes__)
    assert "ValueError: I/O operation on closed file." in printed
    assert "input 0" in printed


async def test_cancellations_of_aborted_inputs_are_not_reported() -> None:
    probe = Probe()
    with pytest.raises(RuntimeError) as caught:
        await gather_or_abort(probe.sleeps("s"), probe.fails("f", RuntimeError(), 1))
    assert secondary_errors(caught.value) == ()
    assert not getattr(caught.value, "__notes__", None)


async def test_timeout_cancels_and_awaits_everything_then_raises_builtin_timeout() -> None:
    probe = Probe()
    with pytest.raises(TimeoutError):
        await gather_or_abort(probe.sleeps("a"), probe.sleeps("b"), timeout=0.05)
    assert sorted(probe.cleaned) == ["a", "b"]


async def test_timeout_attaches_failures_raised_during_the_abort() -> None:
    probe = Probe()
    cleanup_error = ValueError("cleanup")
    with pytest.raises(TimeoutError) as caught:
        await gather_or_abort(probe.sleeps("a", cleanup_error=cleanup_error), timeout=0.01)
    assert secondary_errors(caught.value) == (cleanup_error,)


async def test_negative_timeout_has_already_expired() -> None:
    probe = Probe()
    with pytest.raises(TimeoutError):
        await gather_or_abort(probe.sleeps("a"), timeout=-1)
    assert probe.all_finished


async def test_inputs_finishing_in_time_are_not_affected_by_the_timeout() -> None:
    probe = Probe()
    assert await gather_or_abort(probe.returns("a", 1), timeout=60) == [1]


async def test_a_custom_base_exception_aborts_the_rest_and_propagates_unchanged() -> None:
    class Stop(BaseException):
        pass

    probe = Probe()
    stop = Stop()
    with pytest.raises(Stop) as caught:
        await gather_or_abort(probe.sleeps("s"), probe.fails("f", stop, checkpoints=1))
    assert caught.value is stop
    assert probe.cleaned == ["s"]


async def test_nested_calls_abort_all_the_way_down() -> None:
    probe = Probe()
    with pytest.raises(RuntimeError):
        await gather_or_abort(
            gather_or_abort(probe.sleeps("inner0"), probe.sleeps("inner1")),
            probe.sleeps("outer"),
            probe.fails("f", RuntimeError(), checkpoints=3),
        )
    assert sorted(probe.cleaned) == ["inner0", "inner1", "outer"]
    assert probe.all_finished


async def test_an_inner_failure_propagates_through_the_outer_call() -> None:
    probe = Probe()
    error = OSError("inner")
    with pytest.raises(OSError) as caught:
        await gather_or_abort(
            gather_or_abort(probe.sleeps("inner"), probe.fails("f", error, checkpoints=2)),
            probe.sleeps("outer"),
        )
    assert caught.value is error
    assert sorted(probe.cleaned) == ["inner", "outer"]


async def test_the_first_failure_wins_and_later_ones_are_attached() -> None:
    probe = Probe()
    first, second = RuntimeError("first"), RuntimeError("second")
    with pytest.raises(RuntimeError) as caught:
        await gather_or_abort(
            probe.fails("a", first, checkpoints=1),
            probe.sleeps("s", cleanup_error=second),
        )
    assert caught.value is first
    assert secondary_errors(caught.value) == (second,)


async def test_results_are_plain_values_not_wrapped() -> None:
    marker = object()

    async def give() -> object:
        await anyio.lowlevel.checkpoint()
        return marker

    (result,) = await gather_or_abort(give())
    assert result is marker


async def test_a_printed_traceback_shows_the_cleanup_failure() -> None:
    import traceback

    probe = Probe()
    with pytest.raises(RuntimeError) as caught:
        await gather_or_abort(
            probe.sleeps("s", cleanup_error=ValueError("I/O operation on closed file.")),
            probe.fails("f", RuntimeError("task failed"), checkpoints=1),
        )
    printed = "".join(
        traceback.format_exception(type(caught.value), caught.value, caught.value.__traceback__)
    )
    assert "RuntimeError: task failed" in printed
    assert "ValueError: I/O operation on closed file." in printed


async def test_our_timeout_leaves_the_callers_cancelling_count_at_zero(
    anyio_backend_name: str,
) -> None:
    import sys

    if anyio_backend_name != "asyncio" or sys.version_info < (3, 11):
        pytest.skip("Task.cancelling() is asyncio's, from Python 3.11")
    import asyncio

    with pytest.raises(TimeoutError):
        await gather_or_abort(Probe().sleeps("a"), timeout=0.01)
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
