"""``gather_or_abort``: every result in input order, or nothing left running."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Literal, overload

from ._core._engine import AbortEngine
from ._core._options import REPORT_STUCK_AFTER, make_options
from ._types import T1, T2, T3, T4, T5, T6, Input, T

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from typing import Never
    else:
        from typing_extensions import Never


# A call with return_exceptions=False also matches the last overload, whose `bool`
# includes False: the first overload that matches wins, as for typeshed's
# asyncio.gather, hence the overload-overlap ignores.
@overload
async def gather_or_abort(
    *,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    return_exceptions: bool = False,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> list[Never]: ...
@overload
async def gather_or_abort(  # type: ignore[overload-overlap]
    aw1: Input[T1],
    /,
    *,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    return_exceptions: Literal[False] = False,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> tuple[T1]: ...
@overload
async def gather_or_abort(
    aw1: Input[T1],
    /,
    *,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    return_exceptions: bool,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> tuple[T1 | Exception]: ...
@overload
async def gather_or_abort(  # type: ignore[overload-overlap]
    aw1: Input[T1],
    aw2: Input[T2],
    /,
    *,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    return_exceptions: Literal[False] = False,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> tuple[T1, T2]: ...
@overload
async def gather_or_abort(
    aw1: Input[T1],
    aw2: Input[T2],
    /,
    *,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    return_exceptions: bool,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> tuple[T1 | Exception, T2 | Exception]: ...
@overload
async def gather_or_abort(  # type: ignore[overload-overlap]
    aw1: Input[T1],
    aw2: Input[T2],
    aw3: Input[T3],
    /,
    *,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    return_exceptions: Literal[False] = False,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> tuple[T1, T2, T3]: ...
@overload
async def gather_or_abort(
    aw1: Input[T1],
    aw2: Input[T2],
    aw3: Input[T3],
    /,
    *,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    return_exceptions: bool,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> tuple[T1 | Exception, T2 | Exception, T3 | Exception]: ...
@overload
async def gather_or_abort(  # type: ignore[overload-overlap]
    aw1: Input[T1],
    aw2: Input[T2],
    aw3: Input[T3],
    aw4: Input[T4],
    /,
    *,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    return_exceptions: Literal[False] = False,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> tuple[T1, T2, T3, T4]: ...
@overload
async def gather_or_abort(
    aw1: Input[T1],
    aw2: Input[T2],
    aw3: Input[T3],
    aw4: Input[T4],
    /,
    *,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    return_exceptions: bool,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> tuple[T1 | Exception, T2 | Exception, T3 | Exception, T4 | Exception]: ...
@overload
async def gather_or_abort(  # type: ignore[overload-overlap]
    aw1: Input[T1],
    aw2: Input[T2],
    aw3: Input[T3],
    aw4: Input[T4],
    aw5: Input[T5],
    /,
    *,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    return_exceptions: Literal[False] = False,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> tuple[T1, T2, T3, T4, T5]: ...
@overload
async def gather_or_abort(
    aw1: Input[T1],
    aw2: Input[T2],
    aw3: Input[T3],
    aw4: Input[T4],
    aw5: Input[T5],
    /,
    *,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    return_exceptions: bool,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> tuple[T1 | Exception, T2 | Exception, T3 | Exception, T4 | Exception, T5 | Exception]: ...
@overload
async def gather_or_abort(  # type: ignore[overload-overlap]
    aw1: Input[T1],
    aw2: Input[T2],
    aw3: Input[T3],
    aw4: Input[T4],
    aw5: Input[T5],
    aw6: Input[T6],
    /,
    *,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    return_exceptions: Literal[False] = False,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> tuple[T1, T2, T3, T4, T5, T6]: ...
@overload
async def gather_or_abort(
    aw1: Input[T1],
    aw2: Input[T2],
    aw3: Input[T3],
    aw4: Input[T4],
    aw5: Input[T5],
    aw6: Input[T6],
    /,
    *,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    return_exceptions: bool,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> tuple[
    T1 | Exception, T2 | Exception, T3 | Exception, T4 | Exception, T5 | Exception, T6 | Exception
]: ...
@overload
async def gather_or_abort(
    *aws: Input[T],
    timeout: float | None = None,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    return_exceptions: Literal[False] = False,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> list[T]: ...
@overload
async def gather_or_abort(
    *aws: Input[T],
    timeout: float | None = None,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    return_exceptions: bool,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> list[T | Exception]: ...


async def gather_or_abort(
    *aws: Input[Any],
    timeout: float | None = None,
    max_concurrency: int | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    return_exceptions: bool = False,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> Any:
    """Run *aws* together and return their results in input order.

    If any input fails, every other input is cancelled and **has finished** before
    the failure is raised. The failure propagates as itself (``except RuntimeError``
    works); failures of other inputs while they were being cancelled are attached
    to it (see :func:`secondary_errors`).

    :param aws: coroutines, awaitables (an :class:`asyncio.Task` on asyncio, an
        :class:`anyio.TaskHandle`), or async callables taking no arguments
    :param timeout: seconds before every input is cancelled, awaited, and
        :exc:`TimeoutError` is raised; ``None`` for no limit. Zero or less has
        already expired.
    :param max_concurrency: at most this many inputs run at once, started in input
        order as others finish; ``None`` runs all at once. Async callables are then
        called only when their turn comes, and inputs whose turn never came are
        never started (coroutines are closed, callables not called).
    :param max_per_second: starts paced evenly: input *k* starts no sooner than
        *k* / *max_per_second* seconds after the first, which starts at once; with
        *max_concurrency* both limits hold. Async callables are then called only when
        their turn comes, as with *max_concurrency*. ``None``: no pace.
    :param input_timeout: seconds each input may run, counted from its own start;
        past them that input alone is cancelled, awaited, and fails with
        :exc:`TimeoutError` naming it, a failure like any other (it aborts the rest,
        or is returned in its place with *return_exceptions*). *timeout* still
        bounds the whole call. ``None``: no limit per input.
    :param return_exceptions: if true, an input that raises an :exc:`Exception` has
        it returned in its place and does not abort the others; the timeout and the
        caller's cancellation still abort everything.
    :param report_stuck_after: seconds after which an input that was cancelled but
        has not finished is reported, with where it is suspended, as a WARNING on
        the ``multi_await`` logger; the call keeps waiting for it. ``None`` turns
        the report off.
    :return: a list of the results, in the order of *aws* (typed as a tuple for up
        to six inputs, as typeshed types :func:`asyncio.gather`; with
        *return_exceptions*, each position may also be an :exc:`Exception`)
    :raises TypeError: before anything starts, if an input is not one of the above
        (a coroutine already awaited or closed is not), or an argument has the wrong
        type
    :raises ValueError: if *timeout* or *input_timeout* is NaN, *max_concurrency* is
        less than 1, *max_per_second* is not more than 0, or *input_timeout* is negative
    :raises TimeoutError: if *timeout* expired first, or an input's *input_timeout*
        passed (that input's failure, naming it)

    .. code-block:: python

        import anyio

        from multi_await import gather_or_abort


        async def double(x):
            await anyio.sleep(0.01 * x)
            return 2 * x


        async def main():
            assert await gather_or_abort(double(3), double(1), timeout=5) == [6, 2]


        anyio.run(main)

    .. versionadded:: 2.0
    """
    given = list(aws)
    del aws  # let go
    options = make_options(
        given,
        timeout=timeout,
        max_concurrency=max_concurrency,
        max_per_second=max_per_second,
        input_timeout=input_timeout,
        report_stuck_after=report_stuck_after,
        tolerate_failures=return_exceptions,
    )
    engine = AbortEngine(given, options)
    del given  # let go
    await engine.run()
    return engine.results.values
