"""Adapter for Trio: inputs run in a Trio nursery held by a host task.

Every input runs in a small wrapper task that reports its outcome to the engine and
never raises, so that no exception ever leaves a nursery (in Trio's strict mode it
would come out wrapped in an exception group). Abort cancels the inputs' nursery:
Trio's own level-triggered cancellation, which honours shielded scopes inside inputs.
With ``input_timeout``, each wrapper runs its input in a cancel scope of its own
whose deadline is the input's time limit.

The inputs' nursery is opened by a host task in an outer nursery rather than around
the caller's own code, so that aborting the inputs does not cancel the caller's
``async with as_completed_or_abort(...)`` body: as on asyncio, the body learns of a
failure from the iteration step that would have produced it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import trio

from .._core._inputs import COROUTINE, describe
from .._core._results import RETURNED, Tally
from .._core._verdict import is_cancellation
from ._protocols import Sink
from ._stacks import THROUGH_HANDLE, await_stack
from ._task_handles import HandleWatcher, is_task_handle


class TrioBackend:
    runs_unscoped = False
    cancelled = trio.Cancelled

    __slots__ = ()

    def current_time(self) -> float:
        return trio.current_time()

    def call_at(self, when: float, callback: Callable[[], object]) -> None:
        return None  # Trio runs code only in tasks: the engine's own sleep keeps the time

    def check(self, index: int, aw: object) -> None:
        asyncio = sys.modules.get("asyncio")  # not imported: no asyncio future exists
        if asyncio is not None and asyncio.isfuture(aw):
            raise TypeError(
                f"input {index} is an asyncio {describe(aw)}, which cannot be awaited "
                "under Trio; pass a coroutine or an async function instead"
            )

    def runner(self, sink: Sink) -> TrioRunner:
        return TrioRunner(sink)

    def done_item(self, aw: object) -> object | None:
        return None

    def rearm_cancellation(self) -> None:
        return None  # a cancelled scope raises Cancelled again at every checkpoint

    def report_abandoned_failure(self, message: str, error: BaseException) -> None:
        # Unreachable in practice: on Trio, inputs only run inside an `async with`.
        import logging

        logging.getLogger("multi_await").error(message, exc_info=error)


class TrioRunner:
    __slots__ = (
        "_abort_on_open",
        "_closing",
        "_handles",
        "_limit",
        "_manager",
        "_nursery",
        "_queued",
        "_sink",
        "_turn_over",
    )

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self._manager = trio.open_nursery()
        self._closing = False
        self._turn_over = trio.Event()  # set: close the inputs' nursery (all finished)
        self._nursery: trio.Nursery | None = None  # the inputs' nursery, once open
        #: Inputs started before it opened: runs of them, each with its first position.
        self._queued: list[tuple[int, list[Awaitable[Any]]]] = []
        self._abort_on_open = False  # aborted before it opened: cancel them as it does
        self._handles: HandleWatcher | None = None
        self._limit: float | None = None  # each input's own time limit (limit_each())

    async def open(self) -> None:
        # No checkpoint here: a caller already cancelled must still get this far, so
        # that it can wait for what it starts. Inputs queue until the host opens.
        host_nursery = await self._manager.__aenter__()
        host_nursery.start_soon(self._host)

    async def close(self) -> None:
        self.all_started()  # the host leaves once the inputs' nursery has closed
        await self._manager.__aexit__(None, None, None)

    async def renew(self) -> None:
        self._nursery = None
        self._turn_over.set()

    def all_started(self) -> None:
        # The inputs' nursery need not wait to be turned over: it closes by itself
        # once its inputs have finished, as a nursery does (which saves the host a
        # wake-up, the caller a wait for it).
        self._closing = True
        self._turn_over.set()

    async def _host(self) -> None:
        # The engine turns a nursery over only once every input in it has finished;
        # the shield keeps the caller's cancellation from closing one early.
        with trio.CancelScope(shield=True):
            while True:  # at least once: what was queued before it ran must start
                turn_over = self._turn_over
                async with trio.open_nursery() as nursery:
                    self._nursery = nursery
                    queued, self._queued = self._queued, []
                    for first, run in queued:
                        self._spawn_all(nursery, enumerate(run, first))
                    if self._abort_on_open:
                        self._abort_on_open = False
                        self._cancel_spawned()
                    if not turn_over.is_set():
                        # An abort cancels this nursery: the wait must outlive that.
                        with trio.CancelScope(shield=True):
                            await turn_over.wait()
                if self._closing:
                    return
                self._turn_over = trio.Event()

    def start(self, index: int, aw: Awaitable[Any]) -> None:
        if self._nursery is None:
            self._queued.append((index, [aw]))
        else:
            self._spawn(index, aw)

    def start_all(self, inputs: list[Awaitable[Any]]) -> None:
        if self._nursery is None:
            self._queued.append((0, inputs))
        else:
            self._spawn_all(self._nursery, enumerate(inputs))

    def _spawn_all(
        self, nursery: trio.Nursery, inputs: Iterable[tuple[int, Awaitable[Any]]]
    ) -> None:
        if self._limit is not None:  # each in a cancel scope of its own
            for index, aw in inputs:
                self._spawn(index, aw)
            return
        # The hot loop of every call: coroutines straight to the nursery.
        start_soon = nursery.start_soon
        sink = self._sink
        for index, aw in inputs:
            if type(aw) is COROUTINE:
                # A name of our own costs Trio no more than the one it would make.
                start_soon(_run, sink, index, aw, name=f"{TASK_NAME}{index}")
            else:
                self._spawn(index, aw)

    def _spawn(self, index: int, aw: Awaitable[Any]) -> None:
        assert self._nursery is not None
        if is_task_handle(aw):
            if self._handles is None:
                self._handles = HandleWatcher(self._sink, self._limit)
            self._handles.register(aw)
            self._nursery.start_soon(self._handles.watch, index, aw)
        elif self._limit is None:
            self._nursery.start_soon(_run, self._sink, index, aw, name=f"{TASK_NAME}{index}")
        else:
            self._nursery.start_soon(
                _run_limited, self._sink, index, aw, self._limit, name=f"{TASK_NAME}{index}"
            )

    def limit_each(self, seconds: float) -> None:
        self._limit = seconds

    def tally_returns(self, tally: Tally) -> None:
        self._sink = tally

    def where(self, index: int) -> str:
        tasks = {} if self._nursery is None else _tasks_by_index(self._nursery)
        task = tasks.get(index)
        return THROUGH_HANDLE if task is None else await_stack(task.coro)

    def abort(self) -> None:
        if self._nursery is None:  # the inputs start cancelled, at their first await
            self._abort_on_open = True
        else:
            self._cancel_spawned()

    def _cancel_spawned(self) -> None:
        assert self._nursery is not None
        self._nursery.cancel_scope.cancel()
        if self._handles is not None:
            self._handles.abort()


#: The start of the name of each input's task; the input's position follows.
TASK_NAME = "multi_await input "


def _tasks_by_index(nursery: trio.Nursery) -> dict[int, trio.lowlevel.Task]:
    """The tasks of *nursery* that run inputs, by input position (their names say it)."""
    start = len(TASK_NAME)
    return {
        int(task.name[start:]): task
        for task in nursery.child_tasks
        if task.name.startswith(TASK_NAME)
    }


async def _run_limited(sink: Sink, index: int, aw: Awaitable[Any], seconds: float) -> None:
    # Its own scope's Cancelled reaches _run, which reports it as cancelled by us.
    run = _run(sink, index, aw)
    del aw  # let go
    with trio.move_on_after(seconds):
        await run


async def _run(sink: Sink, index: int, aw: Awaitable[Any]) -> None:
    # This frame outlives the input: a failure's traceback holds it, and so does
    # the traceback of every Cancelled an abort started from here raises (Trio
    # cancels a blocked task at once, with a traceback whose frames link back to
    # this one). So it lets go of the input, and of the failure, before it ends.
    try:
        value = await aw
    except BaseException as exc:
        failure = exc
    else:
        del aw
        if type(sink) is Tally:  # Tally.input_returned(), with no call
            sink.values[index] = value
            sink.status[index] = RETURNED
            sink.turns.running -= 1
            if not sink.turns.running:
                sink.wake()
            return
        try:
            sink.input_returned(index, value)
        finally:
            del value
        return
    del aw
    # Reported outside the except block: an abort started from there would give
    # the Cancelled exceptions it causes this failure as their context, a cycle.
    try:
        if is_cancellation(failure, trio.Cancelled):
            sink.input_cancelled(index, failure, by_us=_cancelled_by_us())
        else:
            sink.input_raised(index, failure)
    finally:
        del failure


def _cancelled_by_us() -> bool:
    """Whether a scope around the current task was cancelled: so, by us.

    Only the inputs' nursery (an abort) and an input's own time limit are around it
    (the host shields it from the caller's cancellation), so a ``Cancelled`` an input
    raises while neither is cancelled is a stray one, not ours: one it caught inside
    a cancel scope of its own and raised again outside of it, say.
    """
    return trio.current_effective_deadline() == -math.inf
