"""Adapter for asyncio: inputs run as native tasks; foreign tasks and futures are watched.

Coroutines and other awaitables become tasks made by the loop's own
``create_task`` (so task factories such as the eager one apply), each with a done
callback: no wrapper coroutine and no per-task cancel scope, which is what keeps the
cost per input at the level of :class:`asyncio.TaskGroup`. On abort each task is
cancelled once, as :class:`asyncio.TaskGroup` does.

An :class:`asyncio.Task` or :class:`asyncio.Future` handed in is somebody else's:
it is watched with a done callback and, on abort, cancelled exactly once, so that a
``finally`` block that awaits inside it is not interrupted a second time.
"""

from __future__ import annotations

import asyncio
from asyncio import AbstractEventLoop, CancelledError, Future
from collections.abc import Awaitable
from types import TracebackType
from typing import Any

from ._inputs import describe
from ._protocols import Sink
from ._stacks import await_stack
from ._task_handles import HandleWatcher, is_task_handle


class AsyncioBackend:
    runs_unscoped = True
    cancelled = CancelledError

    __slots__ = ("_loop",)

    def __init__(self, loop: AbstractEventLoop) -> None:
        self._loop = loop

    def current_time(self) -> float:
        return self._loop.time()

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


class AsyncioRunner:
    __slots__ = ("_cancelled", "_foreign", "_handles", "_loop", "_owned", "_sink", "_watchers")

    def __init__(self, loop: AbstractEventLoop, sink: Sink) -> None:
        self._loop = loop
        self._sink = sink
        self._owned: dict[Future[Any], int] = {}
        self._foreign: dict[Future[Any], int] = {}
        self._cancelled: set[Future[Any]] = set()
        self._handles: HandleWatcher | None = None
        self._watchers: set[Future[Any]] = set()

    async def __aenter__(self) -> AsyncioRunner:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def start(self, index: int, aw: Awaitable[Any]) -> None:
        if asyncio.iscoroutine(aw):
            task = self._loop.create_task(aw)
            self._owned[task] = index
            task.add_done_callback(self._owned_done)
        elif asyncio.isfuture(aw):
            self._foreign[aw] = index
            aw.add_done_callback(self._foreign_done)
        elif is_task_handle(aw):
            if self._handles is None:
                self._handles = HandleWatcher(self._sink)
            self._handles.register(aw)
            watcher = self._loop.create_task(self._handles.watch(index, aw))
            self._watchers.add(watcher)  # the loop keeps only weak references
            watcher.add_done_callback(self._watchers.discard)
        else:
            task = self._loop.create_task(_await(aw))
            self._owned[task] = index
            task.add_done_callback(self._owned_done)

    async def renew(self) -> None:
        return None  # asyncio tasks need no enclosing structure to start in

    def abort(self) -> None:
        for future in (*self._owned, *self._foreign):
            if future.cancel():
                self._cancelled.add(future)
        if self._handles is not None:
            self._handles.abort()

    def where(self, index: int) -> str:
        for running in (self._owned, self._foreign):
            for future, at in running.items():
                if at == index:
                    get_coro = getattr(future, "get_coro", None)
                    return await_stack(get_coro() if get_coro else None)
        return "  (it is watched through its task handle)\n"

    def _owned_done(self, task: Future[Any]) -> None:
        self._report(self._owned.pop(task), task)

    def _foreign_done(self, future: Future[Any]) -> None:
        self._report(self._foreign.pop(future), future)

    def _report(self, index: int, future: Future[Any]) -> None:
        sink = self._sink
        by_us = future in self._cancelled
        self._cancelled.discard(future)
        if future.cancelled():
            sink.input_cancelled(index, _cancelled_error(future), by_us=by_us)
            return
        error = future.exception()
        if error is None:
            sink.input_returned(index, future.result())
        else:
            sink.input_raised(index, error)


async def _await(aw: Awaitable[Any]) -> Any:
    try:
        return await aw
    finally:
        del aw  # a failure's traceback holds this frame: let it hold no input


def _cancelled_error(future: Future[Any]) -> CancelledError | None:
    try:
        future.result()
    except CancelledError as exc:
        return exc
    return None  # pragma: no cover - only called on cancelled futures
