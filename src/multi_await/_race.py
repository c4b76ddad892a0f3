"""``race_or_abort``: the first input to succeed wins; the rest are cancelled and awaited."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from ._core._engine import AbortEngine
from ._core._options import REPORT_STUCK_AFTER, list_inputs, make_options
from ._types import Input, T

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup


async def race_or_abort(
    aws: Iterable[Input[T]],
    *,
    timeout: float | None = None,
    stagger: float | None = None,
    max_per_second: float | None = None,
    input_timeout: float | None = None,
    report_stuck_after: float | None = REPORT_STUCK_AFTER,
) -> T:
    """Return the result of the first input to succeed; cancel and await the others.

    Inputs that fail before one succeeds are tolerated. As soon as one returns,
    every other input is cancelled, and the call returns once they have all
    finished. If every input fails, raises an :exc:`ExceptionGroup` of all the
    failures, in input order.

    With *stagger*, inputs start one at a time, as in the "happy eyeballs"
    connection race (RFC 8305): input *k+1* starts *stagger* seconds after input
    *k* started, or at once when input *k* fails. Async callables are called only
    when their turn comes, so the losers of a quick race are never even called.

    A failure that is not an :exc:`Exception` (``KeyboardInterrupt``, a custom
    ``BaseException``) is not tolerated: it aborts the rest and propagates. So does
    a failure of a loser while it is being cancelled: it is raised, and the
    winner's result is dropped.

    :param aws: coroutines, awaitables or async callables, at least one
    :param timeout: seconds before everything is cancelled, awaited, and
        :exc:`TimeoutError` is raised (carrying the failures tolerated so far)
    :param stagger: seconds between starts; ``None`` starts all at once
    :param max_per_second: starts paced evenly; see :func:`gather_or_abort`. With
        *stagger* both hold.
    :param input_timeout: each attempt's own time limit, from its start: an attempt
        past it is cancelled, awaited, and counts as failed with :exc:`TimeoutError`,
        so with *stagger* the next one starts at once
    :param report_stuck_after: see :func:`gather_or_abort`
    :return: the result of the first input to return
    :raises ValueError: if *aws* is empty, or *stagger* is negative or NaN
    :raises ExceptionGroup: if every input failed
    :raises TimeoutError: if *timeout* expired first

    .. code-block:: python

        import functools

        import anyio

        from multi_await import race_or_abort


        async def connect(address, seconds, fails=False):
            await anyio.sleep(seconds)
            if fails:
                raise ConnectionRefusedError(address)
            return f"connected to {address}"


        async def main():
            attempts = [
                functools.partial(connect, "2001:db8::1", 0.01, fails=True),
                functools.partial(connect, "192.0.2.1", 0.02),
                functools.partial(connect, "192.0.2.2", 0.01),  # never called
            ]
            assert await race_or_abort(attempts, stagger=0.25) == "connected to 192.0.2.1"


        anyio.run(main)

    .. versionadded:: 2.0
    """
    given = list_inputs(aws)
    options = make_options(
        given,
        timeout=timeout,
        stagger=stagger,
        max_per_second=max_per_second,
        input_timeout=input_timeout,
        report_stuck_after=report_stuck_after,
        stop_after_first=True,
        tolerate_failures=True,
    )
    if not given:
        raise ValueError("race_or_abort() needs at least one input")
    engine = AbortEngine(given, options)
    count = len(given)
    del aws, given  # let go
    await engine.run()
    results = engine.results
    winner = results.first_returned()
    if winner is not None:
        result: T = results.value(winner)
        return result
    failures = [results.value(index) for index in results.failed()]
    raise BaseExceptionGroup(f"all {count} inputs of race_or_abort() failed", failures)
