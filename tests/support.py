"""Inputs that record what happened to them, written once for every backend."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from importlib.metadata import version
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel


def anyio_version() -> tuple[int, int]:
    """The installed AnyIO's major and minor version."""
    major, minor = version("anyio").split(".")[:2]
    return int(major), int(minor)


#: AnyIO before 4.16: ``connect_tcp()`` leaves a socket it has just connected unclosed
#: (a ``ResourceWarning`` once collected) when a cancellation arrives as it finishes,
#: under an AnyIO task group as under multi_await. AnyIO 4.16 closes it.
CONNECT_TCP_LEAKS = anyio_version() < (4, 16)


class Probe:
    """Hands out inputs and remembers which started, finished and cleaned up."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self.cleaning: list[str] = []
        self.cleaned: list[str] = []
        self.completed: list[str] = []

    @property
    def all_finished(self) -> bool:
        return sorted(self.started) == sorted(self.finished)

    async def until_cleaning(self, name: str) -> None:
        """Return once input *name* has begun its cleanup (within a bounded wait)."""
        for _ in range(1000):
            if name in self.cleaning:
                return
            await anyio.lowlevel.checkpoint()
        raise AssertionError(f"{name} never began its cleanup")

    async def returns(self, name: str, value: object = None, checkpoints: int = 0) -> object:
        self.started.append(name)
        try:
            for _ in range(checkpoints):
                await anyio.lowlevel.checkpoint()
            self.completed.append(name)
            return value
        finally:
            self.finished.append(name)

    async def fails(self, name: str, error: BaseException, checkpoints: int = 0) -> None:
        self.started.append(name)
        try:
            for _ in range(checkpoints):
                await anyio.lowlevel.checkpoint()
            raise error
        finally:
            self.finished.append(name)

    async def sleeps(
        self,
        name: str,
        *,
        cleanup_checkpoints: int = 3,
        cleanup_error: BaseException | None = None,
    ) -> None:
        """Sleep forever; when cancelled, await in a shielded cleanup, then maybe fail."""
        self.started.append(name)
        try:
            await anyio.sleep_forever()
        finally:
            self.cleaning.append(name)
            with anyio.CancelScope(shield=True):
                for _ in range(cleanup_checkpoints):
                    await anyio.lowlevel.checkpoint()
            self.cleaned.append(name)
            self.finished.append(name)
            if cleanup_error is not None:
                raise cleanup_error


class Elsewhere:
    """Runs coroutines as tasks of their own, as a caller does before handing them in.

    *kind* is ``"asyncio task"`` (asyncio only) or ``"task handle"`` (an AnyIO
    ``TaskHandle``, any backend). On exit, what still runs is cancelled and awaited.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._tasks: list[Any] = []
        self._group: anyio.abc.TaskGroup | None = None

    async def __aenter__(self) -> Elsewhere:
        if self.kind == "task handle":
            self._group = anyio.create_task_group()
            await self._group.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._group is not None:
            self._group.cancel_scope.cancel()
            await self._group.__aexit__(None, None, None)
        else:
            for task in self._tasks:
                task.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.gather(*self._tasks, return_exceptions=True)

    def start(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """*coroutine*, running in a task of its own: the task, or its handle."""
        if self._group is not None:
            task: Any = self._group.create_task(coroutine)
        else:
            task = asyncio.create_task(coroutine)
        self._tasks.append(task)
        return task

    def was_cancelled(self, task: Any) -> bool:
        if self._group is not None:
            return bool(task.status is anyio.TaskHandle.Status.CANCELLED)
        return bool(task.cancelled())

    def result(self, task: Any) -> Any:
        return task.return_value if self._group is not None else task.result()


async def until(condition: Callable[[], bool]) -> None:
    """Return once *condition* holds (within a bounded number of checkpoints)."""
    for _ in range(1000):
        if condition():
            return
        await anyio.lowlevel.checkpoint()
    raise AssertionError("the condition never held")
