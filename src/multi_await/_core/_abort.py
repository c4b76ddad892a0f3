"""The abort engine: the one place that starts inputs, watches them and aborts them.

Every primitive is a thin shell around :class:`AbortEngine`. The engine is written
against AnyIO alone (cancel scopes for the deadline and for shielding the final wait,
an event for wake-ups); running, cancelling and observing each input is the job of
the backend adapter it is given, which spawns with the backend's native primitive.
"""

from __future__ import annotations

import enum
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

import anyio

from .._adapters import current_backend
from .._adapters._inputs import (
    already_finished,
    awaitable_of,
    close_coroutines,
    describe,
    prepare,
)
from .._adapters._protocols import Runner
from .._errors import InputCancelledError, attach_secondary_errors, is_cancellation, pick_exception
from ._options import Options
from ._wakeup import Wakeup

#: Per-input status codes, kept in a bytearray indexed by input position.
PENDING, RETURNED, FAILED, CANCELLED = range(4)

#: How many stuck inputs one abort reports by name, at most.
STUCK_REPORT_LIMIT = 10

logger = logging.getLogger("multi_await")


class Reason(enum.Enum):
    """Why the engine stopped waiting for its inputs to finish on their own."""

    FAILURE = enum.auto()  #: an input failed
    TIMEOUT = enum.auto()  #: the deadline passed
    FIRST_DONE = enum.auto()  #: the caller wanted only the first input to return
    INTERRUPTED = enum.auto()  #: the caller was cancelled, interrupted or left early


class AbortEngine:
    """Runs the inputs of one call and keeps the abort guarantee for it.

    The inputs are checked (and async callables called, unless they must wait for a
    free slot) on construction, before anything starts. Use :meth:`run` to wait for
    all of them, or :meth:`open`, :meth:`next_returned` and :meth:`close` to take
    them in completion order.
    """

    __slots__ = (
        "_abandoned",
        "_aborted_at",
        "_backend",
        "_call_off_alarm",
        "_closed",
        "_deadline",
        "_deferred",
        "_failures",
        "_inputs",
        "_interruption",
        "_may_start",
        "_next_start_at",
        "_options",
        "_primary",
        "_reason",
        "_runner",
        "_running",
        "_started",
        "_starting",
        "_tolerated_late",
        "_wakeup",
        "order",
        "status",
        "values",
    )

    def __init__(self, aws: Sequence[object], options: Options) -> None:
        try:
            self._backend = current_backend()
        except BaseException:
            close_coroutines(aws)
            raise
        self._options = options
        #: Whether callables wait for their turn to be called (the inputs start in turns).
        self._deferred = options.max_concurrency is not None or options.stagger is not None
        self._inputs = prepare(aws, self._backend, call=not self._deferred)
        count = len(self._inputs)
        #: Results by input position (a tolerated failure's exception, if any).
        self.values: list[Any] = [None] * count
        #: Status code by input position.
        self.status = bytearray(count)
        #: Positions of inputs that finished before any abort, in completion order.
        self.order: deque[int] = deque()
        self._deadline = math.inf
        self._running = 0
        self._started = 0
        self._starting = False
        #: Tasks handed in that had failed on their own before their turn came.
        self._tolerated_late: set[int] = set()
        self._may_start = 1 if options.stagger is not None else count
        self._next_start_at = math.inf
        self._failures: list[tuple[int, BaseException]] = []
        self._reason: Reason | None = None
        self._primary: BaseException | None = None
        self._interruption: BaseException | None = None
        self._aborted_at = math.inf
        #: Calls off the stuck report the event loop will make, if one is due.
        self._call_off_alarm: Callable[[], object] | None = None
        self._abandoned = False
        self._closed = False
        self._wakeup = Wakeup()
        self._runner: Runner | None = None

    @property
    def inputs(self) -> list[Awaitable[Any] | Callable[[], Any]]:
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

    def first_returned(self) -> int | None:
        """The position of the first input to return, if any returned in time."""
        return next((index for index in self.order if self.status[index] == RETURNED), None)

    # -- the whole run, for gather_or_abort, wait_or_abort and race_or_abort -------

    async def run(self) -> None:
        """Start the inputs, wait until all finished, raise as the contract says."""
        await self.open()
        while self._reason is None and (self._running or self._started < len(self._inputs)):
            await self._wait_for_news()
        await self.close()

    # -- step by step, for as_completed_or_abort ---------------------------------

    async def open(self) -> None:
        """Start the inputs (as many as may run at once)."""
        self._runner = runner = self._backend.runner(self)
        await runner.__aenter__()
        now = self._backend.current_time()
        self._deadline = now + self._options.timeout
        if self._options.stagger is not None:
            self._next_start_at = now + self._options.stagger
        self._start_more()

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
        if self._running or exc is not None or self._started < len(self._inputs):
            self._abort(Reason.INTERRUPTED, exc)
        await self._drain()
        if self._call_off_alarm is not None:
            self._call_off_alarm()
            self._call_off_alarm = None
        self._runner = None
        await runner.__aexit__(None, None, None)
        self._closed = True
        error = self._outcome()
        if error is not None:
            # The traceback will hold this frame: let it hold no input nor result.
            self._inputs, self.values = [], []
            if error is not exc:
                try:
                    raise error
                finally:
                    del error, exc
        del error, exc  # see _abort: this frame may outlive the call

    # -- the Sink protocol: adapters report outcomes here ------------------------

    def input_returned(self, index: int, value: Any) -> None:
        self.values[index] = value
        self.status[index] = RETURNED
        self._running -= 1
        if self._reason is None:
            self.order.append(index)
            if self._options.stop_after_first:
                del value  # see _abort: this frame may outlive the call
                self._abort(Reason.FIRST_DONE, None)
                return
            if self._started < len(self._inputs):
                self._start_more()
            if self._options.wake_on_each:
                self._wake()
                return
        if not self._running:
            self._wake()

    def input_raised(self, index: int, error: BaseException) -> None:
        self.status[index] = FAILED
        self._running -= 1
        if self._abandoned:
            self._report_abandoned(index, error)
        elif self._reason is not None:
            if index in self._tolerated_late and isinstance(error, Exception):
                self.values[index] = error  # its own failure, from before the abort
                self.order.append(index)
            else:
                self._failures.append((index, error))
            if not self._running:
                self._wake()
        elif self._options.tolerate_failures and isinstance(error, Exception):
            self.values[index] = error
            self.order.append(index)
            if index == self._started - 1 and self._options.stagger is not None:
                self._may_start += 1  # the newest failed: start the next one at once
            if not self._starting:
                self._start_more()
            if self._options.wake_on_each or not self._running:
                self._wake()
        else:
            self._failures.append((index, error))
            self.order.append(index)
            self._abort(Reason.FAILURE, error)
            del error  # see _abort: this frame may outlive the call

    def input_cancelled(self, index: int, error: BaseException | None, *, by_us: bool) -> None:
        if not by_us:
            failure = InputCancelledError(index, describe(self._inputs[index]))
            failure.__cause__ = error
            self.input_raised(index, failure)
            del failure, error  # see _abort: this frame may outlive the call
            return
        self.status[index] = CANCELLED
        self._running -= 1
        if not self._running:  # only an abort cancels: the caller waits for the last
            self._wake()

    # -- internals ---------------------------------------------------------------

    def _start_more(self) -> None:
        """Start inputs in order while they may: within max_concurrency and stagger."""
        runner = self._runner
        assert runner is not None
        inputs = self._inputs
        if self._started == len(inputs):
            return
        if not self._deferred:  # all at once, all awaitable already: the common case
            self._running = self._started = len(inputs)
            runner.start_all(inputs)  # type: ignore[arg-type]
            runner.all_started()
            return
        limit = self._options.max_concurrency or len(inputs)
        backend = self._backend
        self._starting = True
        try:
            while (
                self._started < min(self._may_start, len(inputs))
                and self._running < limit
                and self._reason is None
            ):
                index = self._started
                self._started = index + 1
                self._running += 1
                given = inputs[index]
                if isinstance(given, Awaitable):
                    ready: Awaitable[Any] = given  # pyright: ignore[reportUnknownVariableType]
                    runner.start(index, ready)
                    continue
                try:  # a callable whose turn has come (max_concurrency, stagger)
                    aw = awaitable_of(index, given, backend)
                except Exception as exc:
                    failure = exc
                else:
                    runner.start(index, aw)
                    continue
                try:  # outside the except block, as the adapters report failures
                    self.input_raised(index, failure)
                finally:
                    del failure
            if self._started == len(inputs):
                runner.all_started()
        finally:
            self._starting = False

    def _stagger_tick(self) -> None:
        """The stagger delay passed: let the next input start."""
        stagger = self._options.stagger
        assert stagger is not None
        self._may_start += 1
        self._next_start_at = self._backend.current_time() + stagger
        self._start_more()

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
        # Trio cancels a blocked input at once, raising its Cancelled here: the
        # traceback of that Cancelled holds this frame and every frame that called
        # it, until the input's cleanup is done with it. A cleanup failure has it as
        # __context__ and is attached to the exception the call raises; so none of
        # those frames may hold that exception once they return, or it would keep
        # itself alive in a reference cycle.
        del exc
        if self._started < len(self._inputs):
            self._stop_the_rest()
        if self._runner is None or not self._running:
            self._wake()
            return
        self._aborted_at = now = self._backend.current_time()  # maybe in a callback
        self._runner.abort()
        # The caller has nothing to do until the last input has finished, which
        # wakes it, unless it must keep the time of the stuck report itself.
        report_after = self._options.report_stuck_after
        if report_after is not None and not self._abandoned:
            backend = self._backend
            self._call_off_alarm = backend.call_at(now + report_after, self._report_stuck)
            if self._call_off_alarm is None:
                self._wake()

    def _stop_the_rest(self) -> None:
        """On abort, end the inputs whose turn never came without starting them.

        Coroutine objects are closed and callables are never called. A task already
        running elsewhere cannot be held back: it is watched from now on, like a
        started input, so that the abort cancels it (once) and the call waits for it.
        """
        rest = self._inputs[self._started :]
        close_coroutines(rest)
        runner = self._runner
        if runner is None:
            return
        tolerate = self._options.tolerate_failures
        for index, given in enumerate(rest, self._started):
            finished = already_finished(given)
            if finished is None:
                continue
            if finished and tolerate:  # a failure of its own, not of the abort
                self._tolerated_late.add(index)
            self._running += 1  # first: the runner may report it at once
            runner.start(index, cast("Awaitable[Any]", given))

    async def _wait_for_news(self) -> None:
        """Sleep until an input wakes us; abort on the deadline or an interruption."""
        timer = None
        try:
            if self._next_start_at < self._deadline and self._started < len(self._inputs):
                with anyio.CancelScope(deadline=self._deadline) as timer:
                    with anyio.CancelScope(deadline=self._next_start_at) as stagger:
                        await self._wakeup.sleep()
                    if stagger.cancelled_caught:
                        self._stagger_tick()
            elif self._deadline != math.inf:
                with anyio.CancelScope(deadline=self._deadline) as timer:
                    await self._wakeup.sleep()
            else:  # no time limit: no cancel scope to pay for
                await self._wakeup.sleep()
        except GeneratorExit:  # our coroutine is being closed: no await is possible
            self._abort(Reason.INTERRUPTED, None)
            raise
        except BaseException as exc:  # the caller's cancellation, or an interrupt
            self._abort(Reason.INTERRUPTED, exc)
        if timer is not None and timer.cancelled_caught:
            self._abort(Reason.TIMEOUT, self._timeout_error())

    def _wake(self) -> None:
        self._wakeup.wake()

    async def _drain(self) -> None:
        """Wait until every started input has finished, whatever happens meanwhile."""
        report_after = self._options.report_stuck_after
        alarm_at = math.inf  # no report, or the event loop makes it (see _abort)
        if report_after is not None and self._call_off_alarm is None:
            alarm_at = self._aborted_at + report_after
        interruption = await self._wakeup.sleep_until(
            lambda: not self._running, alarm_at=alarm_at, on_alarm=self._report_stuck
        )
        if interruption is not None:
            self._abort(Reason.INTERRUPTED, interruption)
        del interruption  # its traceback holds this frame, which must not hold it

    def _report_stuck(self) -> None:
        """Some inputs ignore their cancellation: say which, and where they wait."""
        runner = self._runner
        assert runner is not None
        seconds = self._backend.current_time() - self._aborted_at
        status, inputs = self.status, self._inputs
        stuck = [i for i in range(self._started) if status[i] == PENDING]
        stuck += [  # tasks running elsewhere, watched since the abort (_stop_the_rest)
            i
            for i in range(self._started, len(inputs))
            if status[i] == PENDING and already_finished(inputs[i]) is not None
        ]
        for index in stuck[:STUCK_REPORT_LIMIT]:
            logger.warning(
                "%s was cancelled %.1f s ago and has not finished; still waiting for it. "
                "It is suspended at:\n%s",
                self._name(index),
                seconds,
                runner.where(index).rstrip(),
            )
        if len(stuck) > STUCK_REPORT_LIMIT:
            logger.warning(
                "... and %d more inputs are still finishing", len(stuck) - STUCK_REPORT_LIMIT
            )

    def _report_abandoned(self, index: int, error: BaseException) -> None:
        self._backend.report_abandoned_failure(
            f"multi_await: {self._name(index)} failed after "
            "the loop over its results was left; nobody could be told",
            error,
        )

    def _timeout_error(self) -> TimeoutError:
        timeout = self._options.timeout
        seconds = f"{timeout:g} s" if timeout > 0 else "an expired time limit"
        unfinished = len(self._inputs) - sum(1 for status in self.status if status != PENDING)
        # Less the tasks handed in that finished elsewhere while they waited for a turn.
        unfinished -= sum(1 for given in self._inputs[self._started :] if already_finished(given))
        ending = "they were cancelled and awaited"
        if self._started < len(self._inputs):  # their turn never came (max_concurrency)
            ending = "those running were cancelled and awaited, the others never started"
        return TimeoutError(
            f"{unfinished} of {len(self._inputs)} inputs had not finished within "
            f"{seconds}; {ending}"
        )

    def _outcome(self) -> BaseException | None:
        """The exception the call must raise, with the other failures attached.

        What the caller's own code raised comes first (the exception leaving its
        block, a ``KeyboardInterrupt``); then the first failure of an input; then the
        caller's cancellation, which outranks our timeout since it may have raced it;
        then the timeout, which also carries the failures that were tolerated.
        A failure is never dropped for a cancellation.
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
        if self._reason is Reason.TIMEOUT and primary is not interruption and primary is not None:
            self._attach_tolerated(primary)
        return pick_exception(primary, failures, cancelled, self._name)

    def _attach_tolerated(self, timeout_error: BaseException) -> None:
        tolerated = [i for i in self.order if self.status[i] == FAILED]
        attach_secondary_errors(
            timeout_error, [self.values[i] for i in tolerated], [self._name(i) for i in tolerated]
        )

    def _name(self, index: int) -> str:
        return f"input {index} ({describe(self._inputs[index])})"
