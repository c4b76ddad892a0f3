"""``map_or_abort``: an async function over a lazily pulled source, in bounded memory."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Generator, Iterable
from types import TracebackType
from typing import Any, Generic, Literal, TypeVar, overload

import anyio
from anyio.abc import TaskGroup

from ._core._engine import AbortEngine
from ._core._options import REPORT_STUCK_AFTER, Options, make_options
from ._core._source import Source
from ._types import T

R = TypeVar("R")

#: How many inputs a map runs at once, and holds ahead of the results taken, when
#: ``max_concurrency`` is ``None``: the size of httpx's and aiohttp's default pools.
DEFAULT_MAX_CONCURRENCY = 100


@overload
def map_or_abort(
    fn: Callable[[T], Awaitable[R]],
    items: Iterable[T] | AsyncIterable[T],
    *,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    timeout: float | None = None,
    input_timeout: float | None = None,
    ordered: bool = True,
    return_exceptions: Literal[False] = False,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> MapOrAbort[R]: ...
@overload
def map_or_abort(
    fn: Callable[[T], Awaitable[R]],
    items: Iterable[T] | AsyncIterable[T],
    *,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    timeout: float | None = None,
    input_timeout: float | None = None,
    ordered: bool = True,
    return_exceptions: bool,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> MapOrAbort[R | Exception]: ...


def map_or_abort(
    fn: Callable[[T], Awaitable[R]],
    items: Iterable[T] | AsyncIterable[T],
    *,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    timeout: float | None = None,
    input_timeout: float | None = None,
    ordered: bool = True,
    return_exceptions: bool = False,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> MapOrAbort[Any]:
    """Run ``fn(item)`` for each of *items*, pulled only as slots free; abort on failure.

    ``await map_or_abort(fn, items)`` returns the list of results in the order of
    *items*. To take results as they come, stream them::

        async with map_or_abort(fn, items) as results:
            async for result in results:
                ...  # break or raise here: the rest are cancelled and awaited

    in the order of *items*, or in the order they finish with ``ordered=False``.

    *items* may be any iterable or async iterable (a generator, a database cursor,
    the lines of a file, an async generator). An item is pulled only when fewer
    than *max_concurrency* pulled items have not had their result taken yet, so
    memory stays bounded by *max_concurrency* whatever the number of items; items
    that were never pulled never are. A failure of ``fn`` or of *items* itself
    cancels every input still running, waits for them, and propagates as itself,
    with the failures of the others attached (see :func:`secondary_errors`).
    Leaving the ``async with`` block early cancels and awaits the rest, as
    :func:`as_completed_or_abort` does. Items that are a generator, sync or async,
    are closed (``aclose()`` for an async one) however the call ends; other
    iterators are left as they are.

    A sync *items* is pulled as slots free, in the event loop's thread; an async one
    by a task of the call's own, so that a source which waits for the results (a
    queue of links the pages fill) never holds them back. A failure of *items* once
    the call is stopping (its cleanup, say) is raised, or attached to the exception
    that leaves the call.

    .. warning::
       With ``ordered=True`` (the default) a stream holds the results that finished
       early until those before them have been taken: one slow input holds back the
       pulling of new items once *max_concurrency* are waiting behind it. Use
       ``ordered=False`` where order does not matter. The awaited list has no such
       wait: results are placed in it as they finish.

    :param fn: an async function taking one item
    :param items: an iterable or async iterable of the items, checked here but not
        pulled until the call starts
    :param max_concurrency: at most this many inputs run at once, and at most this
        many items are pulled ahead of the results taken. ``None`` means 100, the
        size of httpx's and aiohttp's default connection pools: a map never runs
        unbounded, since its memory is what this bounds.
    :param max_per_second: starts paced evenly; see :func:`gather_or_abort`
    :param timeout: seconds, from the start, before everything is cancelled,
        awaited, and :exc:`TimeoutError` is raised; ``None`` for no limit
    :param input_timeout: each input's own time limit, from its start; see
        :func:`gather_or_abort`
    :param ordered: stream results in the order of *items* (``True``) or in the order
        they finish (``False``); the awaited list is always in the order of *items*
    :param return_exceptions: an :exc:`Exception` raised by ``fn`` is the result of
        its item instead of a reason to abort; a failure of *items* itself, the
        timeout and the caller's cancellation still abort everything
    :param report_stuck_after: see :func:`gather_or_abort`
    :return: an object to await for the list of results, or to enter with
        ``async with`` for a stream of them; either, once
    :raises TypeError: at once, if *fn* is not callable, *items* is not iterable, or
        an argument has the wrong type; nothing is pulled
    :raises ValueError: at once, if a limit is less than 1, not more than 0, or NaN

    .. code-block:: python

        import anyio

        from multi_await import map_or_abort


        async def square(x):
            await anyio.sleep(0.001 * (x % 3))
            return x * x


        async def main():
            assert await map_or_abort(square, range(5), max_concurrency=2) == [0, 1, 4, 9, 16]
            async with map_or_abort(square, range(1_000_000), max_concurrency=50) as results:
                async for result in results:
                    if result > 100:
                        break  # the million items were never all pulled, nor held


        anyio.run(main)

    .. versionadded:: 2.0
    """
    options = make_options(
        [fn, items],
        timeout=timeout,
        max_concurrency=max_concurrency,
        max_per_second=max_per_second,
        input_timeout=input_timeout,
        report_stuck_after=report_stuck_after,
        tolerate_failures=return_exceptions,
        wake_on_each=True,
    )
    window = options.max_concurrency or DEFAULT_MAX_CONCURRENCY
    source = Source(fn, items, window)  # the slots are the limit: no gate for it
    return MapOrAbort(source, dataclasses.replace(options, max_concurrency=None), ordered)


class MapOrAbort(Generic[T]):
    """What :func:`map_or_abort` returns: await it, or enter it with ``async with``."""

    __slots__ = (
        "_engine",
        "_feeding",
        "_next_position",
        "_options",
        "_ordered",
        "_ready",
        "_source",
        "_streamed",
    )

    def __init__(self, source: Source, options: Options, ordered: bool) -> None:
        self._source = source
        self._options = options
        self._ordered = ordered
        self._engine: AbortEngine | None = None
        #: Where the task that pulls async items runs, if they are async.
        self._feeding: TaskGroup | None = None
        #: Positions that finished before the one to hand over next, and their slots.
        self._ready: dict[int, int] = {}
        self._next_position = 0
        #: Entered by the caller's ``async with``, its results read by an ``async for``.
        self._streamed = True

    def __await__(self) -> Generator[Any, Any, list[T]]:
        return self._all().__await__()

    async def __aenter__(self) -> AsyncIterator[T]:
        if self._engine is not None:
            raise RuntimeError("map_or_abort() can be awaited or entered only once")
        options = dataclasses.replace(self._options, iterated=self._streamed)
        self._engine = engine = AbortEngine((), options, self._source.plan)
        feed = self._source.feeder()
        if feed is not None:
            self._feeding = anyio.create_task_group()
            await self._feeding.__aenter__()
        try:
            await engine.open()
        except BaseException as exc:
            await self._finish(exc)
            raise
        if self._feeding is not None and feed is not None:
            self._feeding.start_soon(feed)
        return _Stream(self._next_in_order if self._ordered else self._next)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._engine is not None
        try:
            await self._engine.close(exc)
        except BaseException as error:
            await self._finish(error)
            raise
        else:
            await self._finish(exc)
        finally:
            del exc, tb  # let go

    async def _finish(self, error: BaseException | None) -> None:
        """After the engine: wait for the task that pulls (stopped with the turns), close
        the items; *error* is the exception leaving the call, if any."""
        try:
            if self._feeding is not None:
                await self._feeding.__aexit__(None, None, None)
        finally:
            await self._source.close(error)
            del error  # let go

    async def _all(self) -> list[T]:
        results: list[Any] = []
        self._streamed = False  # a list, as gather_or_abort gives: no loop to end early
        async with self:
            while (taken := await self._next_taken()) is not None:
                position, value = taken
                if position >= len(results):
                    results.extend([None] * (position + 1 - len(results)))
                results[position] = value
        return results

    async def _next(self) -> T | _End:
        taken = await self._next_taken()
        return END if taken is None else taken[1]

    async def _next_taken(self) -> tuple[int, T] | None:
        """The next result to finish, with its item's position; ``None`` at the end."""
        assert self._engine is not None
        slot = await self._engine.next_returned()
        if slot is None:
            return None
        return self._source.position(slot), self._take(slot)

    async def _next_in_order(self) -> T | _End:
        ready, source = self._ready, self._source
        assert self._engine is not None
        while (slot := ready.pop(self._next_position, None)) is None:
            finished = await self._engine.next_returned()
            if finished is None:
                return END
            ready[source.position(finished)] = finished
        self._next_position += 1
        return self._take(slot)

    def _take(self, slot: int) -> T:
        assert self._engine is not None
        value: T = self._engine.results.take(slot)
        self._source.release(slot)
        return value


class _End:
    """What the steps of a stream give once every result has been given."""


END = _End()


class _Stream(AsyncIterator[T]):
    __slots__ = ("_next",)

    def __init__(self, next_result: Callable[[], Awaitable[T | _End]]) -> None:
        self._next = next_result

    def __aiter__(self) -> _Stream[T]:
        return self

    async def __anext__(self) -> T:
        result = await self._next()  # an input's StopAsyncIteration comes as RuntimeError
        if isinstance(result, _End):
            raise StopAsyncIteration
        return result
