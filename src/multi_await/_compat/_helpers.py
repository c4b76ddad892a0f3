"""``with_value`` and ``cancel_all``, the helpers of multi-await 1.x."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

from .._core._engine import AbortEngine
from .._core._inputs import already_finished, close_coroutines
from .._core._options import list_inputs, make_options

K = TypeVar("K")
T = TypeVar("T")


async def with_value(value: K, aw: Awaitable[T]) -> tuple[K, T]:
    """Await *aw* and return ``(value, result)``: a label travels with a result.

    Handy with :func:`as_completed_or_abort`, whose values come in completion
    order.

    :param value: any object, returned as it is
    :param aw: an awaitable (a coroutine, a task...)
    :return: ``(value, result of aw)``
    :raises BaseException: whatever awaiting *aw* raises

    .. code-block:: python

        import anyio

        from multi_await import as_completed_or_abort, with_value


        async def fetch(url):
            await anyio.sleep(len(url) / 100)
            return f"<html>{url}</html>"


        async def main():
            urls = ["/about", "/"]
            aws = [with_value(url, fetch(url)) for url in urls]
            async with as_completed_or_abort(aws) as completed:
                pages = [(url, page) async for url, page in completed]
            assert pages == [("/", "<html>/</html>"), ("/about", "<html>/about</html>")]


        anyio.run(main)

    .. versionadded:: 2.0
    """
    return value, await aw


async def cancel_all(tasks: Iterable[Awaitable[Any]]) -> None:
    """Cancel *tasks* that are still running, and wait until every one has finished.

    *tasks* are awaitables already running elsewhere: :class:`asyncio.Task` and
    :class:`asyncio.Future` objects, or :class:`anyio.TaskHandle` objects. Each one
    still running is cancelled exactly once; finished ones are left as they are (so
    calling this again is harmless), their outcome untouched.

    If the caller is cancelled while waiting, this still waits until every task
    has finished, then lets the caller's cancellation propagate. A task that fails
    while being cancelled (a ``finally`` block that raises) has its failure raised
    here once all have finished, with any others attached (see
    :func:`secondary_errors`).

    :param tasks: tasks, futures or AnyIO task handles, running or finished
    :raises TypeError: for a coroutine or anything else not already running
    :raises BaseException: the first failure a task raised while being cancelled

    .. code-block:: python

        import asyncio

        from multi_await import cancel_all


        async def main():
            tasks = [asyncio.create_task(asyncio.sleep(3600)) for _ in range(3)]
            await asyncio.sleep(0)
            await cancel_all(tasks)
            assert all(task.cancelled() for task in tasks)


        asyncio.run(main())

    .. versionadded:: 2.0
    """
    running = [task for task in _check_running(list_inputs(tasks)) if not already_finished(task)]
    engine = AbortEngine(running, make_options(running))
    await engine.open()
    engine.cancel_now()
    await engine.close()


def _check_running(tasks: list[object]) -> list[object]:
    for index, task in enumerate(tasks):
        if already_finished(task) is None:
            close_coroutines(tasks)
            raise TypeError(
                f"input {index} is {type(task).__name__}; cancel_all() takes tasks that "
                "are already running, such as asyncio tasks"
            )
    return tasks
