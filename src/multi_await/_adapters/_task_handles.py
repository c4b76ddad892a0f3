"""Adapter for AnyIO ``TaskHandle`` inputs: tasks already running in a task group.

Such a task belongs to somebody else's task group. multi_await never awaits it in a
way that could cancel it twice: it watches it from a shielded scope, and on abort
asks it to stop exactly once with ``TaskHandle.cancel()``.
"""

from __future__ import annotations

from typing import Any, TypeGuard

import anyio
from anyio import TaskHandle

from ._protocols import Sink


def is_task_handle(obj: object) -> TypeGuard[TaskHandle[Any, Any]]:
    return isinstance(obj, TaskHandle)


class HandleWatcher:
    """Watches the task handles of one call and cancels each of them at most once."""

    __slots__ = ("_cancelled", "_handles", "_limit", "_sink")

    def __init__(self, sink: Sink, limit: float | None = None) -> None:
        self._sink = sink
        #: Seconds each handle is watched before it is cancelled (input_timeout).
        self._limit = limit
        self._handles: list[TaskHandle[Any, Any]] = []
        self._cancelled: set[int] = set()

    def register(self, handle: TaskHandle[Any, Any]) -> None:
        """Make :meth:`abort` cancel *handle*; call before starting :meth:`watch`."""
        self._handles.append(handle)

    async def watch(self, index: int, handle: TaskHandle[Any, Any]) -> None:
        with anyio.CancelScope(shield=True) as watching:
            if self._limit is not None:
                watching.deadline = anyio.current_time() + self._limit
            await handle.wait()
        if watching.cancelled_caught:  # its time limit passed: cancel it, wait for it
            self._cancel(handle)
            with anyio.CancelScope(shield=True):
                await handle.wait()
        status = handle.status
        if status is TaskHandle.Status.FINISHED:
            self._sink.input_returned(index, handle.return_value)
        elif status is TaskHandle.Status.FAILED:
            self._sink.input_raised(index, handle.exception)  # type: ignore[arg-type]
        else:
            self._sink.input_cancelled(index, None, by_us=id(handle) in self._cancelled)

    def abort(self) -> None:
        for handle in self._handles:
            self._cancel(handle)

    def _cancel(self, handle: TaskHandle[Any, Any]) -> None:
        if handle.status is TaskHandle.Status.PENDING and id(handle) not in self._cancelled:
            self._cancelled.add(id(handle))
            handle.cancel()
