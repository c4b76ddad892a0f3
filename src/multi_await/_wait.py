"""``wait_or_abort``: :func:`asyncio.wait` with abort semantics, on any backend."""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import Any, Generic, Literal, Protocol, TypeVar, cast

from ._core._engine import AbortEngine
from ._core._inputs import close_coroutines
from ._core._options import REPORT_STUCK_AFTER, list_inputs, make_options
from ._types import Input, T

#: Return when every input has finished (the default).
ALL_COMPLETED: Literal["ALL_COMPLETED"] = "ALL_COMPLETED"
#: Return as soon as one input finishes; the others are cancelled and awaited.
FIRST_COMPLETED: Literal["FIRST_COMPLETED"] = "FIRST_COMPLETED"
#: Accepted for parity with :func:`asyncio.wait`: the first exception aborts the
#: rest anyway, so this behaves as :data:`ALL_COMPLETED`.
FIRST_EXCEPTION: Literal["FIRST_EXCEPTION"] = "FIRST_EXCEPTION"

_RETURN_WHEN = (ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION)

T_co = TypeVar("T_co", covariant=True)


class DoneItem(Protocol[T_co]):
    """The type of an item :func:`wait_or_abort` returns.

    A :class:`Done`, or the very :class:`asyncio.Task` or :class:`asyncio.Future`
    the caller passed in; both answer like a finished future whose result is a
    ``T_co``.

    .. versionadded:: 2.0
    """

    def result(self) -> T_co:
        """Return the input's result."""
        ...

    def exception(self) -> BaseException | None:
        """Return ``None``: an item :func:`wait_or_abort` returns never holds a failure."""
        ...

    def done(self) -> bool:
        """Return ``True``: the input has finished."""
        ...

    def cancelled(self) -> bool:
        """Return ``False``: the input finished with a result."""
        ...

    def __await__(self) -> Generator[Any, Any, T_co]:
        """``await item`` gives the input's result at once."""
        ...


class Done(Generic[T]):
    """The done item of an input that finished with a result.

    It answers like a finished :class:`asyncio.Future`: :meth:`result`,
    :meth:`exception`, :meth:`done`, :meth:`cancelled`, and ``await done`` gives
    the result. :attr:`index` is the position of its input.

    .. versionadded:: 2.0
    """

    __slots__ = ("_index", "_value")

    def __init__(self, index: int, value: T) -> None:
        self._index = index
        self._value = value

    @property
    def index(self) -> int:
        """Position of the input among the inputs of the call."""
        return self._index

    def result(self) -> T:
        """Return the input's result."""
        return self._value

    def exception(self) -> BaseException | None:
        """Return ``None``: the input finished with a result."""
        return None

    def done(self) -> bool:
        """Return ``True``: the input has finished."""
        return True

    def cancelled(self) -> bool:
        """Return ``False``: the input was not cancelled."""
        return False

    def __await__(self) -> Generator[Any, Any, T]:
        return self._value
        yield  # makes this a generator: awaiting a Done never suspends

    def __repr__(self) -> str:
        return f"<Done index={self.index} result={self._value!r}>"


async def wait_or_abort(
    aws: Iterable[Input[T]],
    timeout: float | None = None,
    *,
    return_when: str = ALL_COMPLETED,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> list[DoneItem[T]]:
    """Wait for *aws* like :func:`asyncio.wait`, but never leave anything running.

    Returns the done items of the inputs that finished with a result, in input
    order. Each done item supports ``.result()``, ``.exception()``, ``.done()``,
    ``.cancelled()`` and ``await``; where an input was an :class:`asyncio.Task` or
    :class:`asyncio.Future`, its done item is that same object, so 1.x code such as
    ``for t in done: await t`` keeps working. Other inputs give a :class:`Done`.

    - :data:`ALL_COMPLETED` (and :data:`FIRST_EXCEPTION`): every input returned, so
      every input is in the list. A failure cancels the rest, waits for them and is
      raised, as in :func:`gather_or_abort`.
    - :data:`FIRST_COMPLETED`: returns once one input has finished; every other
      input has been cancelled and has finished before the call returns. The list
      holds the first input, and any other that managed to return meanwhile. If
      the first one failed, its failure is raised.

    Whatever *return_when* says, no returned item holds an exception: a failure of
    any input, even one that happens while it is being cancelled, is raised.

    :param aws: an iterable of coroutines, awaitables or async callables
    :param timeout: seconds before every input is cancelled, awaited, and
        :exc:`TimeoutError` is raised; ``None`` for no limit
    :param return_when: :data:`ALL_COMPLETED`, :data:`FIRST_COMPLETED` or
        :data:`FIRST_EXCEPTION` (the equal :mod:`asyncio` constants work too)
    :param max_concurrency: at most this many inputs run at once; see
        :func:`gather_or_abort`
    :param max_per_second: starts paced evenly; see :func:`gather_or_abort`
    :param input_timeout: each input's own time limit, from its start; see
        :func:`gather_or_abort`
    :param report_stuck_after: see :func:`gather_or_abort`
    :return: the done items of the inputs that returned, in the order of *aws*
    :raises TypeError: before anything starts, if an input is not awaitable, or
        *aws* is one task, future or coroutine rather than an iterable of them
    :raises ValueError: if *return_when* is unknown or *timeout* is NaN
    :raises TimeoutError: if *timeout* expired first

    .. code-block:: python

        import anyio

        from multi_await import FIRST_COMPLETED, wait_or_abort


        async def answer(name, seconds):
            await anyio.sleep(seconds)
            return name


        async def main():
            aws = [answer("slow", 3600), answer("fast", 0.01)]
            (done,) = await wait_or_abort(aws, 5, return_when=FIRST_COMPLETED)
            assert done.result() == "fast"  # and "slow" has finished too


        anyio.run(main)

    .. versionadded:: 2.0
    """
    given = list_inputs(aws)
    if return_when not in _RETURN_WHEN:
        close_coroutines(given)
        raise ValueError(
            f"return_when must be ALL_COMPLETED, FIRST_COMPLETED or FIRST_EXCEPTION, "
            f"not {return_when!r}"
        )
    options = make_options(
        given,
        timeout=timeout,
        max_concurrency=max_concurrency,
        max_per_second=max_per_second,
        input_timeout=input_timeout,
        report_stuck_after=report_stuck_after,
        stop_after_first=return_when == FIRST_COMPLETED,
    )
    engine = AbortEngine(given, options)
    del aws, given  # let go
    await engine.run()
    results = engine.results
    return [_done_item(engine, index, results.value(index)) for index in results.returned()]


def _done_item(engine: AbortEngine, index: int, value: T) -> DoneItem[T]:
    native = cast("DoneItem[T] | None", engine.done_item(index))
    return Done(index, value) if native is None else native
