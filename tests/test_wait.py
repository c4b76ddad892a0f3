"""wait_or_abort: CONTRACT 2.5."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import weakref

import anyio.lowlevel
import pytest

from multi_await import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    Done,
    secondary_errors,
    wait_or_abort,
)

from .support import Probe

pytestmark = pytest.mark.anyio


async def test_all_completed_returns_every_done_item_in_input_order() -> None:
    probe = Probe()
    done = await wait_or_abort([probe.returns(f"r{i}", i, checkpoints=4 - i) for i in range(4)])
    assert [item.result() for item in done] == [0, 1, 2, 3]
    assert [item.index for item in done] == [0, 1, 2, 3]


async def test_done_items_answer_like_finished_futures() -> None:
    (item,) = await wait_or_abort([Probe().returns("a", "value")])
    assert isinstance(item, Done)
    assert item.done()
    assert not item.cancelled()
    assert item.exception() is None
    assert item.result() == "value"
    assert await item == "value"


async def test_all_tasks_succeeding_inside_the_timeout_are_all_returned() -> None:
    probe = Probe()
    done = await wait_or_abort(
        [probe.returns("fast", 1, checkpoints=1), probe.returns("slow", 2, checkpoints=5)],
        timeout=60,
    )
    assert [item.result() for item in done] == [1, 2]


async def test_a_failure_aborts_the_rest_and_is_raised() -> None:
    probe = Probe()
    error = RuntimeError("task failed")
    with pytest.raises(RuntimeError) as caught:
        await wait_or_abort([probe.sleeps("s"), probe.fails("f", error, checkpoints=1)])
    assert caught.value is error
    assert probe.cleaned == ["s"]


async def test_first_exception_behaves_as_all_completed() -> None:
    probe = Probe()
    done = await wait_or_abort(
        [probe.returns("a", 1, 2), probe.returns("b", 2)], return_when=FIRST_EXCEPTION
    )
    assert [item.result() for item in done] == [1, 2]
    with pytest.raises(RuntimeError):
        await wait_or_abort(
            [probe.sleeps("s"), probe.fails("f", RuntimeError(), 1)],
            return_when=FIRST_EXCEPTION,
        )
    assert probe.cleaned == ["s"]


async def test_first_completed_returns_the_first_and_the_rest_have_finished() -> None:
    probe = Probe()
    done = await wait_or_abort(
        [probe.sleeps("s0"), probe.returns("first", "win", checkpoints=2), probe.sleeps("s1")],
        return_when=FIRST_COMPLETED,
    )
    assert [(item.index, item.result()) for item in done] == [(1, "win")]
    assert sorted(probe.cleaned) == ["s0", "s1"]
    assert probe.all_finished


async def test_first_completed_raises_the_first_if_it_failed() -> None:
    probe = Probe()
    error = RuntimeError("first")
    with pytest.raises(RuntimeError) as caught:
        await wait_or_abort(
            [probe.sleeps("s"), probe.fails("f", error, checkpoints=1)],
            return_when=FIRST_COMPLETED,
        )
    assert caught.value is error
    assert probe.cleaned == ["s"]


async def test_first_completed_raises_a_failure_of_the_cancelled_rest() -> None:
    probe = Probe()
    cleanup_error = ValueError("cleanup")
    with pytest.raises(ValueError) as caught:
        await wait_or_abort(
            [probe.sleeps("s", cleanup_error=cleanup_error), probe.returns("a", 1, 1)],
            return_when=FIRST_COMPLETED,
        )
    assert caught.value is cleanup_error
    assert secondary_errors(caught.value) == ()


async def test_asyncio_constants_are_accepted(anyio_backend_name: str) -> None:
    probe = Probe()
    done = await wait_or_abort(
        [probe.returns("a", 1), probe.sleeps("s")], return_when=asyncio.FIRST_COMPLETED
    )
    assert [item.result() for item in done] == [1]
    assert ALL_COMPLETED == asyncio.ALL_COMPLETED


async def test_timeout_aborts_and_raises_timeout_error() -> None:
    probe = Probe()
    with pytest.raises(TimeoutError):
        await wait_or_abort([probe.sleeps("s"), probe.returns("a", 1)], timeout=0.02)
    assert probe.cleaned == ["s"]


async def test_empty_input_returns_an_empty_list() -> None:
    assert await wait_or_abort([]) == []
    assert await wait_or_abort([], return_when=FIRST_COMPLETED) == []


async def test_any_iterable_is_accepted() -> None:
    probe = Probe()
    done = await wait_or_abort(probe.returns(f"g{i}", i) for i in range(3))
    assert [item.result() for item in done] == [0, 1, 2]


async def test_an_input_that_fails_in_the_step_the_first_returns_is_freed_with_the_call() -> None:
    # On asyncio both finish in the same step: the abort the first one starts finds
    # the other already finished, its outcome not yet reported. (Trio may cancel the
    # second at its checkpoint instead: then it is freed all the same.)
    class LoserError(Exception):
        pass

    async def returns() -> str:
        await anyio.lowlevel.checkpoint()
        return "first"

    async def fails() -> None:
        await anyio.lowlevel.checkpoint()
        raise LoserError

    loser = fails()
    freed = weakref.ref(loser)
    gc.disable()
    try:
        with contextlib.suppress(LoserError):
            await wait_or_abort([returns(), loser], return_when=FIRST_COMPLETED)
        del loser
        assert freed() is None, "the failed input outlived the call"
    finally:
        gc.enable()
