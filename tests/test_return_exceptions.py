"""gather_or_abort(return_exceptions=True): CONTRACT 2.9."""

from __future__ import annotations

import anyio
import pytest

from multi_await import InputCancelledError, gather_or_abort, secondary_errors

from .support import Probe

pytestmark = pytest.mark.anyio


async def test_failures_are_returned_in_place_and_the_others_complete() -> None:
    probe = Probe()
    first, second = OSError("a"), KeyError("b")
    results = await gather_or_abort(
        probe.fails("f0", first, checkpoints=1),
        probe.returns("r", "ok", checkpoints=5),
        probe.fails("f1", second, checkpoints=2),
        return_exceptions=True,
    )
    assert results == [first, "ok", second]
    assert results[0] is first
    assert probe.all_finished


async def test_a_timeout_still_aborts_everything() -> None:
    probe = Probe()
    error = OSError("tolerated")
    with pytest.raises(TimeoutError) as caught:
        await gather_or_abort(
            probe.fails("f", error), probe.sleeps("s"), return_exceptions=True, timeout=0.05
        )
    assert probe.cleaned == ["s"]
    assert secondary_errors(caught.value) == (error,)


async def test_the_callers_cancellation_still_aborts_everything() -> None:
    probe = Probe()
    with anyio.move_on_after(0.02) as scope:
        await gather_or_abort(
            probe.fails("f", OSError()), probe.sleeps("s"), return_exceptions=True
        )
    assert scope.cancelled_caught
    assert probe.cleaned == ["s"]


async def test_a_base_exception_still_aborts_and_propagates() -> None:
    class Stop(BaseException):
        pass

    probe = Probe()
    with pytest.raises(Stop):
        await gather_or_abort(
            probe.fails("f", Stop(), checkpoints=1), probe.sleeps("s"), return_exceptions=True
        )
    assert probe.cleaned == ["s"]


async def test_an_input_cancelled_by_someone_else_is_returned_as_such(
    anyio_backend_name: str,
) -> None:
    if anyio_backend_name != "asyncio":
        pytest.skip("only asyncio tasks can be cancelled from outside the call")
    import asyncio

    async def cancels_itself() -> None:
        asyncio.current_task().cancel()  # type: ignore[union-attr]
        await asyncio.sleep(0)

    (result,) = await gather_or_abort(cancels_itself(), return_exceptions=True)
    assert isinstance(result, InputCancelledError)
