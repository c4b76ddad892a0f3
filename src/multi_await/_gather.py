"""``gather_or_abort``: every result in input order, or nothing left running."""

from __future__ import annotations

from typing import Any, overload

from ._core._abort import AbortEngine
from ._types import T1, T2, T3, T4, T5, T6, Input, T


@overload
async def gather_or_abort(*, timeout: float | None = None) -> list[Any]: ...
@overload
async def gather_or_abort(aw1: Input[T1], /, *, timeout: float | None = None) -> tuple[T1]: ...
@overload
async def gather_or_abort(
    aw1: Input[T1], aw2: Input[T2], /, *, timeout: float | None = None
) -> tuple[T1, T2]: ...
@overload
async def gather_or_abort(
    aw1: Input[T1], aw2: Input[T2], aw3: Input[T3], /, *, timeout: float | None = None
) -> tuple[T1, T2, T3]: ...
@overload
async def gather_or_abort(
    aw1: Input[T1],
    aw2: Input[T2],
    aw3: Input[T3],
    aw4: Input[T4],
    /,
    *,
    timeout: float | None = None,
) -> tuple[T1, T2, T3, T4]: ...
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
) -> tuple[T1, T2, T3, T4, T5]: ...
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
) -> tuple[T1, T2, T3, T4, T5, T6]: ...
@overload
async def gather_or_abort(*aws: Input[T], timeout: float | None = None) -> list[T]: ...


async def gather_or_abort(*aws: Input[Any], timeout: float | None = None) -> Any:
    """Run *aws* together and return their results in input order.

    If any input fails, every other input is cancelled and **has finished** before
    the failure is raised. The failure propagates as itself (``except RuntimeError``
    works); failures of other inputs while they were being cancelled are attached
    to it (see :func:`secondary_errors`).

    :param aws: coroutines, awaitables (an :class:`asyncio.Task` on asyncio, an
        AnyIO ``TaskHandle``), or async callables taking no arguments
    :param timeout: seconds before every input is cancelled, awaited, and
        :exc:`TimeoutError` is raised; ``None`` for no limit. Zero or less has
        already expired.
    :return: a list of the results, in the order of *aws* (typed as a tuple for up
        to six inputs, as typeshed types :func:`asyncio.gather`)
    :raises TypeError: before anything starts, if an input is not one of the above
    :raises ValueError: if *timeout* is NaN
    :raises TimeoutError: if *timeout* expired first

    .. versionadded:: 2.0
    """
    engine = AbortEngine(aws, timeout)
    await engine.run()
    return engine.values
