"""The abort engine: the one place that starts inputs, watches them and aborts them.

Every primitive is a thin shell around :class:`AbortEngine`. The engine is written
against AnyIO alone (cancel scopes for the deadline and for shielding the final wait,
an event for wake-ups); running, cancelling and observing each input is the job of
the backend adapter it is given, which spawns with the backend's native primitive.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Awaitable, Iterable
from typing import Any

import anyio

from .._adapters import current_backend
from .._adapters._inputs import close_coroutines, describe, prepare
from .._adapters._protocols import Runner
from .._errors import InputCancelledError, is_cancellation, pick_exception
from ._wakeup import Wakeup

#: Per-input status codes, kept in a bytearray indexed by input position.
PENDING, RETURNED, FAILED, CANCELLED = range(4)


class Reason(enum.Enum):
    """Why the engine stopped waiting for its inputs to finish on their own."""

    FAILURE = enum.auto()  #: an input failed
    TIMEOUT = enum.auto()  #: the deadline passed
    FIRST_DONE = enum.auto()  #: the caller wanted only the first input to finish
    INTERRUPTED = enum.auto()  #: the caller was cancelled, interrupted or left early


def check_timeout(timeout: object) -> float:
    """Validate a ``timeout=`` argument; return it in seconds (``inf`` for none)."""
    if timeout is None:
        return math.inf
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(
            f"timeout must be a number of seconds or None, not {type(timeout).__name__}"
        )
    if math.isnan(timeout):
        raise ValueError("timeout must not be NaN")
    return float(timeout)


def list_inputs(aws: Iterable[object]) -> list[object]:
    """``list(aws)``, with a clear error when *aws* is one input rather than an iterable."""
    try:
        return list(aws)
    except TypeError:
        close_coroutines([aws])
        raise TypeError(
            f"expected an iterable of inputs, got {type(aws).__name__}; "
            "pass a list, even of one input"
        ) from None


class AbortEngine:
    """Runs the inputs of one call and keeps the abort guarantee for it.

    The inputs are checked (and async callables called) on construction, before
    anything starts. Use :meth:`run` to wait for all of them, or :meth:`open`,
    :meth:`next_returned` and :meth:`close` to take them in completion order.
    """

    __slots__ = (
        "_abandoned",
        "_backend",
        "_closed",
        "_deadline",
        "_failures",
        "_inputs",
        "_interruption",
        "_primary",
        "_reason",
        "_runner",
        "_running",
        "_started",
        "_stop_after_first",
        "_timeout",
        "_wake_on_each",
        "_wakeup",
        "order",
        "status",
        "values",
    )

    def __init__(
        self,
        aws: Iterable[object],
        timeout: float | None,
        *,
        stop_after_first: bool = False,
        wake_on_each: bool = False,
    ) -> None:
        given = list_inputs(aws)
        try:
            self._timeout = check_timeout(timeout)
            self._backend = current_backend()
        except BaseException:
            close_coroutines(given)
            raise
        self._inputs: list[Awaitable[Any]] = prepare(given, self._backend)
        count = len(self._inputs)
        #: Results by input position; ``None`` where an input has not returned.
        self.values: list[Any] = [None] * count
        #: Status code by input position.
        self.status = bytearray(count)
        #: Positions of inputs that finished before any abort, in completion order.
        self.order: deque[int] = deque()
        self._stop_after_first = stop_after_first
        self._wake_on_each = wake_on_each
        self._deadline = math.inf
        self._running = 0
        self._started = 0
        self._failures: list[tuple[int, BaseException]] = []
        self._reason: Reason | None = None
        self._primary: BaseException | None = None
        self._interruption: BaseException | None = None
        self._abandoned = False
        self._closed = False
        self._wakeup = Wakeup()
        self._runner: Runner | None = None

    @property
    def inputs(self) -> list[Awaitable[Any]]:
        """The prepared inputs, by position."""
        return self._inputs

    @property
    def closed(self) -> bool:
        """True once every input has finished and the outcome was delivered."""
        return self._closed

    def runs_unscoped(self) -> bool:
        """True if inputs can run between steps with no ``async with`` around them."""
        return self._backend.runs_unscoped

    def discard(self) -> None:
        """Give up before starting: close the inputs that are coroutine objects."""
        close_coroutines(self._inputs)

    def abandon(self) -> None:
        """The caller let go without waiting (a ``break`` out of a bare loop).

        Nothing can be awaited any more: cancel what still runs, and hand the
        failures nobody can raise now to the backend's handler of last resort.
        """
        if self._runner is None:
            close_coroutines(self._inputs[self._started :])
            return
        self._abandoned = True
        self._abort(Reason.INTERRUPTED, None)
        failures, self._failures = self._failures, []
        for index, error in failures:
            self._report_abandoned(index, error)

    def cancel_now(self) -> None:
        """Cancel every input at once, as when the caller leaves early."""
        self._abort(Reason.INTERRUPTED, None)

    def done_item(self, index: int) -> object | None:
        """The backend's own done item for input *index* (an asyncio future), if any."""
        return self._backend.done_item(self._inputs[index])

    # -- the whole run, for gather_or_abort and wait_or_abort --------------------

    async def run(self) -> None:
        """Start every input, wait until all finished, raise as the contract says."""
        await self.open()
        while self._running and self._reason is None:
            await self._wait_for_news()
        await self.close()

    # -- step by step, for as_completed_or_abort ---------------------------------

    async def open(self) -> None:
        """Start every input."""
        self._runner = runner = self._backend.runner(self)
        await runner.__aenter__()
        self._deadline = anyio.current_time() + self._timeout
        start = runner.start
        for index, aw in enumerate(self._inputs):
            self._running += 1
            self._started = index + 1
            start(index, aw)

    async def next_returned(self) -> int | None:
        """The position of the next input that returned, in completion order.

        Returns ``None`` when every input has returned. When an input failed, or the
        deadline passed, or the caller was cancelled, aborts the rest, waits for them
        and raises, from the step that would have produced the failed input.
        """
        order = self.order
        while not order and self._running and self._reason is None:
            await self._wait_for_news()
        if order and self._reason is not Reason.INTERRUPTED:
            index = order.popleft()
            if self.status[index] == RETURNED:
                if not order and not self._running and self._reason is None:
                    await self.close()  # that was the last one: nothing left to wait for
                return index
        await self.close()
        return None

    async def close(self, exc: BaseException | None = None) -> None:
        """Abort what still runs, wait for every input, then raise the outcome.

        *exc* is the exception leaving the caller's block, if any: failures of the
        inputs are attached to it, or replace it when it is a cancellation.
        """
        runner = self._runner
        if runner is None:
            return
        if self._running or exc is not None:
            self._abort(Reason.INTERRUPTED, exc)
        await self._drain()
        self._runner = None
        await runner.__aexit__(None, None, None)
        self._closed = True
        error = self._outcome()
        if error is not None and error is not exc:
            try:
                raise error
            finally:
                del error, exc

    # -- the Sink protocol: adapters report outcomes here ------------------------

    def input_returned(self, index: int, value: Any) -> None:
        self.values[index] = value
        self.status[index] = RETURNED
        self._running -= 1
        if self._reason is None:
            self.order.append(index)
            if self._stop_after_first:
                self._abort(Reason.FIRST_DONE, None)
        if self._wake_on_each or not self._running:
            self._wake()

    def input_raised(self, index: int, error: BaseException) -> None:
        self.status[index] = FAILED
        self._running -= 1
        if self._abandoned:
            self._report_abandoned(index, error)
            return
        self._failures.append((index, error))
        if self._reason is None:
            self.order.append(index)
            self._abort(Reason.FAILURE, error)
        elif not self._running:
            self._wake()

    def input_cancelled(self, index: int, error: BaseException | None, *, by_us: bool) -> None:
        if not by_us and self._reason is None:
            failure = InputCancelledError(index, describe(self._inputs[index]))
            failure.__cause__ = error
            self.input_raised(index, failure)
            return
        self.status[index] = CANCELLED
        self._running -= 1
        if self._wake_on_each or not self._running:
            self._wake()

    # -- internals ---------------------------------------------------------------

    def _abort(self, reason: Reason, exc: BaseException | None) -> None:
        """Stop everything, once: the first reason is the one that counts.

        *exc* is the failure, the timeout error, or the interruption (the caller's
        cancellation or the exception leaving its block). An interruption arriving
        after the abort began is remembered too: it must not be swallowed.
        """
        if reason is Reason.INTERRUPTED and self._interruption is None:
            self._interruption = exc
        if self._reason is not None:
            return
        self._reason = reason
        self._primary = exc
        close_coroutines(self._inputs[self._started :])
        if self._runner is not None and self._running:
            self._runner.abort()
        self._wake()

    async def _wait_for_news(self) -> None:
        """Sleep until an input wakes us; abort on the deadline or an interruption."""
        timer = anyio.CancelScope(deadline=self._deadline)
        try:
            with timer:
                await self._sleep()
        except GeneratorExit:  # our coroutine is being closed: no await is possible
            self._abort(Reason.INTERRUPTED, None)
            raise
        except BaseException as exc:  # the caller's cancellation, or an interrupt
            self._abort(Reason.INTERRUPTED, exc)
        if timer.cancelled_caught:
            self._abort(Reason.TIMEOUT, self._timeout_error())

    async def _sleep(self) -> None:
        await self._wakeup.sleep()

    def _wake(self) -> None:
        self._wakeup.wake()

    async def _drain(self) -> None:
        """Wait until every started input has finished, whatever happens meanwhile."""
        interruption = await self._wakeup.sleep_until(lambda: not self._running)
        if interruption is not None:
            self._abort(Reason.INTERRUPTED, interruption)

    def _report_abandoned(self, index: int, error: BaseException) -> None:
        self._backend.report_abandoned_failure(
            f"multi_await: {self._name(index)} failed after "
            "the loop over its results was left; nobody could be told",
            error,
        )

    def _timeout_error(self) -> TimeoutError:
        seconds = f"{self._timeout:g} s" if self._timeout > 0 else "an expired time limit"
        return TimeoutError(
            f"{self._running} of {len(self._inputs)} inputs had not finished within "
            f"{seconds}; they were cancelled and awaited"
        )

    def _outcome(self) -> BaseException | None:
        """The exception the call must raise, with the other failures attached.

        What the caller's own code raised comes first (the exception leaving its
        block, a ``KeyboardInterrupt``); then the first failure of an input; then the
        caller's cancellation, which outranks our timeout since it may have raced it;
        then the timeout. A failure is never dropped for a cancellation.
        """
        failures, interruption = self._failures, self._interruption
        primary = self._primary if self._reason in (Reason.FAILURE, Reason.TIMEOUT) else None
        self._primary, self._interruption, self._failures = None, None, []
        cancelled = self._backend.cancelled
        if interruption is not None and (
            primary is None
            or self._reason is Reason.TIMEOUT
            or not is_cancellation(interruption, cancelled)
        ):
            primary = interruption
        return pick_exception(primary, failures, cancelled, self._name)

    def _name(self, index: int) -> str:
        return f"input {index} ({describe(self._inputs[index])})"
