"""Adapter for asyncio: inputs run as native tasks; foreign tasks and futures are watched.

Coroutines and other awaitables become tasks made by the loop's own
``create_task`` (so task factories such as the eager one apply), each with a done
callback (or none, for an eager task that finished inside ``create_task``): no
wrapper coroutine and no per-task cancel scope, which is what keeps the cost per
input at the level of :class:`asyncio.TaskGroup`. On abort each task is cancelled as
a cancelled AnyIO task group would cancel it (see :mod:`._anyio_scopes`): once, as
:class:`asyncio.TaskGroup` does, where it is outside every AnyIO scope.

An :class:`asyncio.Task` or :class:`asyncio.Future` handed in is somebody else's:
it is watched with a done callback and, on abort, cancelled exactly once, so that a
``finally`` block that awaits inside it is not interrupted a second time.

On Python 3.14+, each input is linked in asyncio's call graph to the task that made
the call until it finishes, as :class:`asyncio.TaskGroup` links its children:
``asyncio.capture_call_graph()`` and ``python -m asyncio pstree`` show who waits
for whom.

With ``input_timeout``, each input also has a timer of the event loop's own, called
off when it is done; an input whose timer fires is cancelled (once, by the routine
the abort uses) and reported as cancelled by us.
"""

from __future__ import annotations

import asyncio
import math
import sys
from asyncio import AbstractEventLoop, CancelledError, Future, TimerHandle
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from anyio import TaskHandle

from .._core._inputs import COROUTINE, close_coroutines, describe
from .._core._results import CANCELLED, RETURNED, Tally
from . import _anyio_scopes
from ._protocols import Sink
from ._stacks import THROUGH_HANDLE, await_stack
from ._task_handles import HandleWatcher, is_task_handle

#: Whether asyncio keeps a call graph (Python 3.14+): before, nothing is linked, and
#: the hot paths pay a test of ``None`` rather than two calls that do nothing.
CALL_GRAPH = sys.version_info >= (3, 14)

if sys.version_info >= (3, 14):
    from asyncio import future_add_to_awaited_by as link_to_caller
    from asyncio import future_discard_from_awaited_by as unlink_from_caller
else:

    def link_to_caller(future: Future[Any], caller: Future[Any], /) -> None:
        """Before Python 3.14 asyncio keeps no call graph."""

    unlink_from_caller = link_to_caller


class AsyncioBackend:
    runs_unscoped = True
    cancelled = CancelledError

    __slots__ = ("_loop",)

    def __init__(self, loop: AbstractEventLoop) -> None:
        self._loop = loop

    def current_time(self) -> float:
        return self._loop.time()

    def call_at(self, when: float, callback: Callable[[], object]) -> Callable[[], object]:
        return self._loop.call_at(when, callback).cancel

    def check(self, index: int, aw: object) -> None:
        if asyncio.isfuture(aw) and aw.get_loop() is not self._loop:
            raise TypeError(f"input {index} ({describe(aw)}) belongs to another event loop")

    def runner(self, sink: Sink) -> AsyncioRunner:
        return AsyncioRunner(self._loop, sink)

    def done_item(self, aw: object) -> object | None:
        return aw if asyncio.isfuture(aw) else None

    def report_abandoned_failure(self, message: str, error: BaseException) -> None:
        # Where asyncio itself reports an exception nobody retrieved.
        self._loop.call_exception_handler({"message": message, "exception": error})

    def rearm_cancellation(self) -> None:
        if anyio.current_effective_deadline() == -math.inf:
            return  # an AnyIO cancel scope's: it is raised again at the next checkpoint
        task = asyncio.current_task(self._loop)
        assert task is not None  # only a task is ever cancelled
        if sys.version_info >= (3, 13):
            _cancel_again(task)  # a block that settles it, asyncio.timeout(), uncancels it
        else:
            # Before 3.13 uncancel() cannot take back a cancel(): wait until the caller
            # has gone on to its next await, by when such a block may have settled it.
            self._loop.call_soon(_cancel_again, task)


class AsyncioRunner:
    __slots__ = (
        "_aborted",
        "_caller",
        "_cut",
        "_handles",
        "_limit",
        "_loop",
        "_missed",
        "_running",
        "_sink",
        "_tally",
        "_timers",
        "_watchers",
    )

    def __init__(self, loop: AbstractEventLoop, sink: Sink) -> None:
        self._loop = loop
        self._sink = sink
        #: The task that made the call, awaiting every input in asyncio's call graph
        #: (3.14+; None before, or for a coroutine driven by hand: nothing is linked).
        self._caller: Future[Any] | None = asyncio.current_task(loop) if CALL_GRAPH else None
        #: The input position of each started task or future that has not reported yet.
        self._running: dict[Future[Any], int] = {}
        self._aborted = False
        #: Those already finished when abort() came, their callbacks not yet run:
        #: whatever ended them, it was not us.
        self._missed: set[Future[Any]] = set()
        self._handles: HandleWatcher | None = None
        self._watchers: set[Future[Any]] = set()
        #: Each input's own time limit, in seconds, if it has one (limit_each()).
        self._limit: float | None = None
        #: The timer of each input with a time limit that has not finished.
        self._timers: dict[Future[Any], TimerHandle] = {}
        #: Inputs cancelled alone when their time limit passed, not finished yet.
        self._cut: set[Future[Any]] = set()
        #: The sink when it is a tally, where returns are recorded with no call: kept
        #: apart so that the hot path tests ``None`` rather than the sink's type.
        self._tally: Tally | None = None

    async def open(self) -> None:
        return None  # asyncio tasks need no enclosing structure

    async def close(self) -> None:
        return None

    def start_all(self, inputs: list[Awaitable[Any]]) -> None:
        if self._limit is not None:  # each with a timer of its own
            for index, aw in enumerate(inputs):
                self.start(index, aw)
            return
        # The hot loop of every call: coroutines straight to the loop's create_task.
        create_task = self._loop.create_task
        running = self._running
        done = self._done
        link, caller = link_to_caller, self._caller
        finished: list[Future[Any]] = []  # and at finished_at: no tuple for the GC
        finished_at: list[int] = []
        # A task can only have finished inside create_task under a task factory (the
        # eager one); while no done callback is scheduled, a report at once keeps
        # the order.
        direct = self._loop.get_task_factory() is not None
        index = 0
        try:
            for index, aw in enumerate(inputs):
                if type(aw) is COROUTINE:
                    task = create_task(aw)
                    if direct and task.done():  # an eager task that ran to its end
                        finished.append(task)
                        finished_at.append(index)
                    else:
                        running[task] = index
                        if caller is not None:
                            link(task, caller)
                        task.add_done_callback(done)
                else:
                    direct = False
                    self.start(index, aw)
        except BaseException as exc:  # an interrupt the eager factory's first step raised
            self._start_none_after(index, exc, inputs)
            del exc, inputs  # let go
        if finished:
            self._report_finished(finished, finished_at)

    def _report_finished(self, finished: list[Future[Any]], positions: list[int]) -> None:
        # Reported once all have started, as their callbacks would have been: an
        # abort they cause must not find inputs still to start. Whatever ended them,
        # it was not us. Those that returned go together, in order between the others.
        sink = self._sink
        indexes: list[int] = []
        values: list[Any] = []
        for task, index in zip(finished, positions, strict=True):
            cancelled = task.cancelled()
            error = None if cancelled else task.exception()
            if not cancelled and error is None:
                indexes.append(index)
                values.append(task.result())
                continue
            if indexes:
                sink.inputs_returned(indexes, values)
                indexes, values = [], []
            if error is None:
                sink.input_cancelled(index, _cancelled_error(task), by_us=False)
            else:
                sink.input_raised(index, error)
        if indexes:
            sink.inputs_returned(indexes, values)

    def start(self, index: int, aw: Awaitable[Any]) -> None:
        if asyncio.isfuture(aw):  # somebody else's: watched, not wrapped
            future: Future[Any] = aw
        elif is_task_handle(aw):
            self._watch_handle(index, aw)
            return
        else:
            coroutine = aw if asyncio.iscoroutine(aw) else _await(aw)
            try:
                future = self._loop.create_task(coroutine)
            except BaseException as exc:  # an interrupt the eager factory's first step raised
                self._sink.input_raised(index, exc)
                del exc, aw, coroutine  # let go
                return
        self._running[future] = index
        if self._caller is not None:
            link_to_caller(future, self._caller)
        if self._limit is None:
            future.add_done_callback(self._done)
        else:
            at = self._loop.time() + self._limit
            self._timers[future] = self._loop.call_at(at, self._cut_off, future)
            future.add_done_callback(self._done_in_time)

    def _watch_handle(self, index: int, handle: TaskHandle[Any, Any]) -> None:
        if self._handles is None:
            self._handles = HandleWatcher(self._sink, self._limit)
        self._handles.register(handle)
        watcher = self._loop.create_task(self._handles.watch(index, handle))
        self._watchers.add(watcher)  # the loop keeps only weak references
        watcher.add_done_callback(self._watchers.discard)

    def limit_each(self, seconds: float) -> None:
        self._limit = seconds

    def tally_returns(self, tally: Tally) -> None:
        self._sink = self._tally = tally

    def _start_none_after(self, failed: int, error: BaseException, inputs: list[Any]) -> None:
        """Input *failed* raised *error* inside ``create_task``: abort, as TaskGroup does.

        The eager task factory runs an input's first step there, and asyncio lets a
        ``KeyboardInterrupt`` or ``SystemExit`` out of it. The inputs after it never
        start; those running elsewhere are watched, so that the abort cancels them.
        """
        never_started: list[int] = []
        for index in range(failed + 1, len(inputs)):
            if asyncio.isfuture(inputs[index]) or is_task_handle(inputs[index]):
                self.start(index, inputs[index])
            else:
                never_started.append(index)
        close_coroutines(inputs[failed + 1 :])
        sink = self._sink
        sink.input_raised(failed, error)
        for index in never_started:
            sink.input_cancelled(index, None, by_us=True)

    def all_started(self) -> None:
        return None  # asyncio tasks need no enclosing structure to be kept open

    async def renew(self) -> None:
        self._aborted = False
        self._missed.clear()

    def abort(self) -> None:
        self._aborted = True
        cut = self._cut  # cancelled already, for their own time limit
        running = self._running if not cut else [f for f in self._running if f not in cut]
        self._missed.update(_anyio_scopes.cancel_all(self._loop, running))
        if self._handles is not None:
            self._handles.abort()

    def _cancel(self, future: Future[Any]) -> bool:
        """Cancel one input as the abort would; false if it had already finished."""
        return not _anyio_scopes.cancel_all(self._loop, [future])

    def _cut_off(self, future: Future[Any]) -> None:
        # Its time limit passed: it alone is cancelled, unless the abort already did.
        del self._timers[future]
        if not self._aborted and self._cancel(future):
            self._cut.add(future)

    def _done_in_time(self, future: Future[Any]) -> None:
        # The done callback of an input with a time limit: the timer goes first.
        timer = self._timers.pop(future, None)
        if timer is not None:
            timer.cancel()
        cut = self._cut
        if future in cut:
            cut.discard(future)
            if future.cancelled():  # by us: its time limit passed
                index = self._running.pop(future)
                if self._caller is not None:
                    unlink_from_caller(future, self._caller)
                self._sink.input_cancelled(index, None, by_us=True)
                return
        self._done(future)

    def where(self, index: int) -> str:
        for future, at in self._running.items():
            if at == index:
                get_coro = getattr(future, "get_coro", None)
                return await_stack(get_coro() if get_coro else None)
        return THROUGH_HANDLE

    def _done(self, future: Future[Any]) -> None:
        # One callback for every input, reading the outcome once: the hot path. With
        # a tally, a return and a cancellation of ours are recorded here, with no
        # call into the engine (see Tally).
        index = self._running.pop(future)
        if (caller := self._caller) is not None:
            unlink_from_caller(future, caller)
        missed = self._missed
        if missed and future in missed:  # it finished before the abort came
            missed.discard(future)
            ours = False
        else:
            ours = self._aborted
        tally = self._tally
        if future.cancelled():
            if not ours:
                self._sink.input_cancelled(index, _cancelled_error(future), by_us=False)
                return
            if tally is None:
                self._sink.input_cancelled(index, None, by_us=True)
                return
            tally.status[index] = CANCELLED
        elif (error := future.exception()) is not None:
            self._sink.input_raised(index, error)
            return
        elif tally is None:
            self._sink.input_returned(index, future.result())
            return
        else:
            tally.values[index] = future.result()
            tally.status[index] = RETURNED
        turns = tally.turns
        turns.running -= 1
        if not turns.running:
            tally.wake()


def _cancel_again(task: asyncio.Task[Any]) -> None:
    """Cancel *task* again if it is still asked to stop: ``Task.cancel()`` is edge-triggered."""
    if task.done():
        return
    if sys.version_info >= (3, 11):
        if not task.cancelling():
            return  # settled: an asyncio.timeout() block was left
        task.uncancel()  # cancel() counts it again: the count stays right
    task.cancel()


async def _await(aw: Awaitable[Any]) -> Any:
    try:
        return await aw
    finally:
        del aw  # let go


def _cancelled_error(future: Future[Any]) -> CancelledError | None:
    try:
        future.result()
    except CancelledError as exc:
        return exc
    return None  # pragma: no cover - only called on cancelled futures
