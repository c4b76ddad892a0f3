"""Inputs that finish before they ever wait: reported as if each had waited.

With asyncio's eager task factory such an input ends inside ``create_task``, and the
asyncio adapter reports those that returned together once every input has started;
on the other backends each has a done callback or a wrapper task like any other.
Either way the outcome, and the order the caller sees, are those of inputs reported
one by one in input order.
"""

from __future__ import annotations

import pytest

from multi_await import (
    FIRST_COMPLETED,
    as_completed_or_abort,
    gather_or_abort,
    secondary_errors,
    wait_or_abort,
)

from .support import Probe

pytestmark = pytest.mark.anyio


async def test_a_failure_among_them_aborts_the_input_still_running() -> None:
    probe = Probe()
    with pytest.raises(ValueError, match="second") as caught:
        await gather_or_abort(
            probe.returns("a", 1),
            probe.fails("b", ValueError("second")),
            probe.returns("c", 3),
            probe.sleeps("d"),
        )
    assert probe.cleaned == ["d"]
    assert probe.all_finished
    assert secondary_errors(caught.value) == ()


async def test_with_return_exceptions_each_outcome_keeps_its_position() -> None:
    probe = Probe()
    failure = ValueError("second")
    results = await gather_or_abort(
        probe.returns("a", 1),
        probe.fails("b", failure),
        probe.returns("c", 3),
        probe.returns("d", 4, checkpoints=1),
        return_exceptions=True,
    )
    assert results == [1, failure, 3, 4]


async def test_a_stream_yields_them_in_input_order_then_the_rest(anyio_backend_name: str) -> None:
    probe = Probe()
    inputs = [
        probe.returns("late", "late", checkpoints=3),
        probe.returns("a", "a"),
        probe.returns("b", "b"),
    ]
    async with as_completed_or_abort(inputs) as completed:
        order = [index async for index, _ in completed.indexed()]
    if anyio_backend_name == "trio":  # Trio runs the tasks of one batch in random order
        assert sorted(order[:2]) == [1, 2]
        assert order[2] == 0
    else:
        assert order == [1, 2, 0]


async def test_the_first_of_them_wins_and_those_done_with_it_are_done_too() -> None:
    probe = Probe()
    inputs = [probe.sleeps("slow"), probe.returns("a", "a"), probe.returns("b", "b")]
    done = await wait_or_abort(inputs, return_when=FIRST_COMPLETED)
    # b returned in the same step of the loop as a, before the abort could stop it.
    assert [item.result() for item in done] == ["a", "b"]
    assert probe.cleaned == ["slow"]
