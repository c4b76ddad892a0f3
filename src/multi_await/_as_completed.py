"""``as_completed_or_abort``: results in completion order; leaving early aborts the rest."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from types import TracebackType
from typing import Generic

from ._compat._steps import Steps
from ._core._engine import AbortEngine
from ._core._options import REPORT_STUCK_AFTER, list_inputs, make_options
from ._types import Input, T


class as_completed_or_abort(Generic[T]):  # noqa: N801 - a function to its users
    """Run *aws* together and give their results in the order they finish.

    The structured form works on every backend and keeps the abort guarantee
    whatever happens in the body::

        async with as_completed_or_abort(aws) as completed:
            async for value in completed:
                ...  # break or raise here: the rest are cancelled and awaited

    A failure is raised from the iteration step that would have produced it,
    after every other input was cancelled and has finished. An input's
    :exc:`StopAsyncIteration`, which would end the loop silently, is raised as a
    :exc:`RuntimeError` naming the input, from it. To learn which input
    gave each value, iterate :meth:`~as_completed_or_abort.indexed`, which yields
    ``(index, value)`` pairs, *index* being the input's position in *aws*.

    Two bare forms need no ``async with``, and are available on asyncio only:
    ``async for value in as_completed_or_abort(aws)``, and the form of
    multi-await 1.x, ``for aw in as_completed_or_abort(tasks): value = await aw``,
    where each ``aw`` gives the next value to finish. Both run to the end or to the
    first failure, which aborts the rest and is raised once they have finished.

    .. warning::
       A bare loop cannot wait for anything once it is left early (a ``break``, or
       an exception in its body): the inputs still running are cancelled as soon
       as the loop lets go of the iterator, but not awaited, and a failure they
       raise while stopping can only go to asyncio's exception handler. Use the
       structured form whenever the loop may end early. On Trio the bare forms
       raise :exc:`RuntimeError` before starting anything, since a nursery cannot
       stay open across the steps of a bare loop.

    :param aws: an iterable of coroutines, awaitables or async callables, checked
        at once (bad input raises :exc:`TypeError` here, before anything starts)
    :param timeout: seconds, counted from the start, before every input is
        cancelled, awaited, and :exc:`TimeoutError` is raised from the next step;
        results that arrived in time are given first
    :param max_concurrency: at most this many inputs run at once; see
        :func:`gather_or_abort`
    :param max_per_second: starts paced evenly; see :func:`gather_or_abort`. Turns
        that come by time are taken while the loop waits for its next value.
    :param input_timeout: each input's own time limit, from its start; see
        :func:`gather_or_abort`
    :param report_stuck_after: see :func:`gather_or_abort`

    .. versionadded:: 2.0
    """

    __slots__ = ("__weakref__", "_engine", "_entered", "_plain")

    def __init__(
        self,
        aws: Iterable[Input[T]],
        timeout: float | None = None,
        *,
        max_concurrency: int | None = None,
        max_per_second: float | None = None,
        input_timeout: float | None = None,
        report_stuck_after: float | None = REPORT_STUCK_AFTER,
    ) -> None:
        given = list_inputs(aws)
        options = make_options(
            given,
            timeout=timeout,
            max_concurrency=max_concurrency,
            max_per_second=max_per_second,
            input_timeout=input_timeout,
            report_stuck_after=report_stuck_after,
            iterated=True,
        )
        self._engine = AbortEngine(given, options)
        self._entered = False
        self._plain = False

    def __repr__(self) -> str:
        engine = self._engine
        state = "closed" if engine.closed else "open" if self._entered else "not started"
        results = engine.results
        return (
            f"<as_completed_or_abort {state}, inputs={len(results)}, "
            f"finished={results.finished_count()}>"
        )

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
        try:
            await self._engine.close(exc)
        finally:
            del exc, tb  # let go

    def __aiter__(self) -> as_completed_or_abort[T]:
        return self

    def __iter__(self) -> Iterator[Awaitable[T]]:
        """The multi-await 1.x form: one awaitable per input, each giving the next value."""
        if self._entered or self._plain:
            raise RuntimeError("as_completed_or_abort() is already being iterated")
        self._refuse_unscoped("for aw in as_completed_or_abort(aws)")
        engine = self._engine
        return Steps(self._step, len(engine.results), lambda: engine.closed)

    def __del__(self) -> None:
        # With work left to do only if a bare loop was left early, or never started.
        try:
            engine = self._engine
        except AttributeError:  # the constructor refused the input
            return
        engine.abandon()

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
        value: T = engine.results.take(index)  # the caller holds it now; keep no reference
        return index, value

    async def _enter_plain(self) -> None:
        self._refuse_unscoped("async for value in as_completed_or_abort(aws)")
        self._plain = True
        await self.__aenter__()

    def _refuse_unscoped(self, form: str) -> None:
        if not self._engine.runs_unscoped():
            self._engine.discard()
            raise RuntimeError(
                f"`{form}` needs asyncio; on Trio, use "
                "`async with as_completed_or_abort(aws) as completed:` and iterate "
                "`completed`, since a bare loop cannot hold a nursery open"
            )

    async def _step(self) -> T:
        try:
            return await self.__anext__()
        except StopAsyncIteration:
            raise RuntimeError("every input has already given its value") from None

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
