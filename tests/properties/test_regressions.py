"""Bugs the property-based tests found, each pinned by a minimal example.

Every test here is marked ``xfail(strict=True)`` while its bug is open: it fails,
as the bug makes it. Once the bug is fixed the test passes, strict xfail turns that
into a failure, and the mark must go (with the workaround the mark names, if any).
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import textwrap
import weakref
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from multi_await import InputCancelledError, gather_or_abort, secondary_errors

from .backends import BACKENDS

VIRTUAL_ASYNCIO = next(backend for backend in BACKENDS if backend.name == "asyncio")

#: Seconds a subprocess may take to show that a call returned rather than hung.
SUBPROCESS_SECONDS = 10


def _run_alone(code: str) -> subprocess.CompletedProcess[str]:
    """Run *code* in a fresh interpreter, so that a hang can be told from a failure."""
    try:
        return subprocess.run(
            [sys.executable, "-X", "dev", "-W", "error", "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the call hung: no result within {SUBPROCESS_SECONDS} s")


@pytest.mark.xfail(
    strict=True,
    reason="Trio: a call opened while its caller is cancelled hangs forever. "
    "TrioRunner.__aenter__ starts its host task with nursery.start(); in a cancelled "
    "scope Trio ignores task_status.started(), so start() waits for the host task to "
    "exit, while the host waits, shielded, for the runner to close. Workaround in "
    "harness.Run.open_offset and model.outers (first_tick): drop them with this mark.",
)
def test_a_call_made_in_a_cancelled_scope_raises_the_cancellation_on_trio() -> None:
    # The three primitives open their inputs' nursery the same way; one shows it.
    done = _run_alone(
        """
        import anyio, trio
        from multi_await import gather_or_abort

        async def ok():
            return 1

        async def main():
            with anyio.CancelScope() as scope:
                scope.cancel()
                await gather_or_abort(ok())
            assert scope.cancelled_caught

        anyio.run(main, backend="trio")
        print("returned")
        """
    )
    assert done.stdout.strip() == "returned", done.stderr


@pytest.mark.xfail(
    strict=True,
    reason="An awaitable reached twice, directly and through a callable returning it, "
    "is started twice: _refuse_repeats in _adapters/_inputs.py compares only inputs "
    "given directly. A future or task is then watched twice in AsyncioRunner._foreign "
    "(one dict entry, two done callbacks): the second callback raises KeyError into "
    "asyncio's exception handler and the first input is never reported, so the call "
    "hangs. A coroutine is run by two tasks.",
)
@pytest.mark.parametrize("kind", ["future", "task", "coroutine"])
def test_an_awaitable_given_again_through_a_callable_is_refused_before_anything_starts(
    kind: str,
) -> None:
    async def one() -> int:
        await asyncio.sleep(0)
        return 1

    async def main() -> None:
        loop = asyncio.get_running_loop()
        if kind == "future":
            aw: Any = loop.create_future()
            aw.set_result(1)
        elif kind == "task":
            aw = loop.create_task(one())
        else:
            aw = one()
        with pytest.raises(TypeError, match="input 1"):
            await gather_or_abort(aw, lambda: aw)
        if kind == "task":
            await aw

    VIRTUAL_ASYNCIO.run(main)


@pytest.mark.xfail(
    strict=True,
    reason="An input cancelled by somebody else is dropped when it finishes just "
    "before an abort that another input started: the abort's cancel() finds it done, "
    "so it is not 'by us', yet AbortEngine.input_cancelled() only turns such an input "
    "into InputCancelledError while no abort has begun (self._reason is None). "
    "Workaround in checks._failures (inputs cancelling themselves at the instant of "
    "another abort are optional): drop it with this mark.",
)
def test_an_input_that_cancels_itself_as_another_fails_is_reported_too() -> None:
    async def fails() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("fails")

    async def cancels_itself() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(0)

    async def main() -> None:
        # Both finish in the same loop iteration, the failing one first.
        with pytest.raises(RuntimeError) as caught:
            await gather_or_abort(fails(), cancels_itself())
        attached = secondary_errors(caught.value)
        assert [type(error) for error in attached] == [InputCancelledError]
        assert attached[0].index == 1  # type: ignore[attr-defined]

    VIRTUAL_ASYNCIO.run(main)


@pytest.mark.xfail(
    strict=True,
    reason="The exception a call raises keeps every input of the call alive, with its "
    "frame and locals, as long as the caller holds the exception: its traceback "
    "holds the frames of gather_or_abort (whose locals aws, given and engine hold the "
    "inputs) and of AbortEngine.run/close (self holds _inputs and values). "
    "asyncio.TaskGroup keeps none of its tasks alive this way.",
)
@pytest.mark.parametrize("backend", BACKENDS, ids=[backend.name for backend in BACKENDS])
def test_a_raised_exception_does_not_keep_the_inputs_alive(backend: Any) -> None:
    inputs: list[weakref.ref[Any]] = []
    kept: list[BaseException] = []

    async def pending() -> None:
        await anyio.sleep_forever()

    async def fails() -> None:
        await anyio.lowlevel.checkpoint()
        raise RuntimeError("fails")

    async def main() -> None:
        aws = [pending(), pending(), fails()]
        inputs.extend(weakref.ref(aw) for aw in aws)
        try:
            await gather_or_abort(*aws)
        except RuntimeError as exc:
            kept.append(exc)

    backend.run(main)
    gc.collect()
    assert kept
    assert [ref for ref in inputs if ref() is not None] == []
