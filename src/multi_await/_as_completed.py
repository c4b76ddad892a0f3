"""``as_completed_or_abort``: results in completion order; leaving early aborts the rest."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import Generic

from ._core._abort import AbortEngine
from ._types import Input, T


class as_completed_or_abort(Generic[T]):  # noqa: N801 - a function to its users
    """Run *aws* together and give their results in the order they finish.

    The structured form works on every backend and keeps the abort guarantee
    whatever happens in the body::

        async with as_completed_or_abort(aws) as completed:
            async for value in completed:
                ...  # break or raise here: the rest are cancelled and awaited

    A failure is raised from the iteration step that would have produced it,
    after every other input was cancelled and has finished. To learn which input
    gave each value, iterate :meth:`indexed`, which yields ``(index, value)``
    pairs, *index* being the input's position in *aws*.

    The plain form, ``async for value in as_completed_or_abort(aws)``, needs no
    ``async with`` and runs to the end or to the first failure. It is available on
    asyncio only.

    .. warning::
       With the plain form, a ``break`` out of the loop cannot be noticed: the
       inputs still running are left running. Use the structured form whenever the
       loop may end early. On Trio the plain form raises :exc:`RuntimeError`, since
       a nursery cannot stay open across the steps of a bare loop.

    :param aws: an iterable of coroutines, awaitables or async callables, checked
        at once (bad input raises :exc:`TypeError` here, before anything starts)
    :param timeout: seconds, counted from the start, before every input is
        cancelled, awaited, and :exc:`TimeoutError` is raised from the next step;
        results that arrived in time are given first

    .. versionadded:: 2.0
    """

    __slots__ = ("_engine", "_entered", "_plain")

    def __init__(self, aws: Iterable[Input[T]], timeout: float | None = None) -> None:
        self._engine = AbortEngine(aws, timeout, wake_on_each=True)
        self._entered = False
        self._plain = False

    async def __aenter__(self) -> as_completed_or_abort[T]:
        if self._entered:
            raise RuntimeError("as_completed_or_abort() can be entered only once")
        self._entered = True
        await self._engine.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._engine.close(exc)

    def __aiter__(self) -> as_completed_or_abort[T]:
        return self

    async def __anext__(self) -> T:
        return (await self._next())[1]

    def indexed(self) -> AsyncIterator[tuple[int, T]]:
        """Iterate ``(index, value)`` pairs: which input (by position) gave each value."""
        return _Indexed(self._next)

    async def _next(self) -> tuple[int, T]:
        engine = self._engine
        if not self._entered:
            await self._enter_plain()
        try:
            index = await engine.next_returned()
        except BaseException:
            await self._leave_plain()
            raise
        if index is None:
            await self._leave_plain()
            raise StopAsyncIteration
        value: T = engine.values[index]
        engine.values[index] = None  # the caller holds it now; keep no reference
        return index, value

    async def _enter_plain(self) -> None:
        if not self._engine.runs_unscoped():
            self._engine.discard()
            raise RuntimeError(
                "on Trio, use `async with as_completed_or_abort(aws) as completed:` "
                "and iterate `completed`; a bare `async for` cannot hold a nursery open"
            )
        self._plain = True
        await self.__aenter__()

    async def _leave_plain(self) -> None:
        if self._plain:
            await self._engine.close()


class _Indexed(Generic[T]):
    __slots__ = ("_next",)

    def __init__(self, next_pair: Callable[[], Awaitable[tuple[int, T]]]) -> None:
        self._next = next_pair

    def __aiter__(self) -> _Indexed[T]:
        return self

    async def __anext__(self) -> tuple[int, T]:
        return await self._next()
