"""The abort engine: the one place that runs inputs, watches them and aborts them.

Every primitive is a thin shell around :class:`AbortEngine`. The engine is written
against AnyIO alone (a cancel scope for the deadline, a shielded one for the final
wait, an event for wake-ups); running, cancelling and observing each input is the job
of the backend adapter it is given, which spawns with the backend's native primitive.
Who starts when is :class:`~._turns.Turns`' business, what to raise the
:class:`~._verdict.Verdict`'s, and what each input gave is kept in
:class:`~._results.Results`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from .._adapters import current_backend
from .._adapters._protocols import Runner
from ._inputs import close_coroutines
from ._options import Options
from ._results import CANCELLED, FAILED, RETURNED, Tally
from ._stuck import report_stuck
from ._turns import Plan, lay_out
from ._verdict import Reason, Verdict, stopped_iteration, timeout_error
from ._wakeup import Wakeup


class AbortEngine:
    """Runs the inputs of one call and keeps the abort guarantee for it.

    The inputs are checked (and async callables called, unless they must wait for
    their turn) on construction, before anything starts. Use :meth:`run` to wait for
    all of them, or :meth:`open`, :meth:`next_returned` and :meth:`close` to take
    them in completion order. What they gave is in :attr:`results`.
    """

    __slots__ = (
        "_abandoned",
        "_aborted_at",
        "_backend",
        "_call_off_alarm",
        "_closed",
        "_deadline",
        "_inputs",
        "_options",
        "_runner",
        "_turns",
        "_verdict",
        "_wakeup",
        "results",
    )

    def __init__(self, aws: Sequence[object], options: Options, plan: Plan = lay_out) -> None:
        try:
            self._backend = backend = current_backend()
        except BaseException:
            close_coroutines(aws)
            raise
        self._options = options
        #: :attr:`results`: what each input gave, by position (see :data:`~._turns.Plan`).
        self._inputs, self._turns, self.results = plan(aws, options, backend)
        self._verdict = Verdict(backend.cancelled, self._inputs.name)
        self._deadline = math.inf
        self._aborted_at = math.inf
        #: Calls off the stuck report the event loop will make, if one is due.
        self._call_off_alarm: Callable[[], object] | None = None
        self._abandoned = False
        self._closed = False
        self._wakeup = Wakeup()
        self._runner: Runner | None = None

    @property
    def closed(self) -> bool:
        """True once every input has finished and the outcome was delivered."""
        return self._closed

    def runs_unscoped(self) -> bool:
        """True if inputs can run between steps with no ``async with`` around them."""
        return self._backend.runs_unscoped

    def discard(self) -> None:
        """Give up before starting: close the inputs that are coroutine objects."""
        self._inputs.close_from(0)

    def abandon(self) -> None:
        """The caller let go without waiting (a ``break`` out of a bare loop).

        Nothing can be awaited any more: cancel what still runs, and hand the
        failures nobody can raise now to the backend's handler of last resort.
        """
        if self._runner is None:
            self._inputs.close_from(self._turns.started)
            return
        self._abandoned = True
        self._abort(Reason.INTERRUPTED, None)
        for index, error in self._verdict.take_failures():
            self._report_abandoned(index, error)

    def cancel_now(self) -> None:
        """Cancel every input at once, as when the caller leaves early."""
        self._abort(Reason.INTERRUPTED, None)

    def done_item(self, index: int) -> object | None:
        """The backend's own done item for input *index* (an asyncio future), if any."""
        return self._backend.done_item(self._inputs.items[index])

    # -- the whole run, for gather_or_abort, wait_or_abort and race_or_abort -------

    async def run(self) -> None:
        """Start the inputs, wait until all finished, raise as the contract says."""
        await self.open()
        turns, verdict = self._turns, self._verdict
        while verdict.reason is None and (turns.running or turns.left):
            await self._wait_for_news()
        await self.close()

    # -- step by step, for as_completed_or_abort ---------------------------------

    async def open(self) -> None:
        """Start the inputs (as many as may run at once)."""
        self._runner = runner = self._backend.runner(self)
        options = self._options
        if not (options.in_completion_order or options.wake_on_each or options.starts_in_turns):
            # Read at the end, by position, all started at once: a return need only
            # be recorded, and the runner does that itself (see Tally).
            runner.tally_returns(Tally(self, self.results, self._turns, self._wakeup.wake))
        await runner.open()
        self._deadline = self._backend.current_time() + self._options.timeout
        self._turns.begin(runner, self, self._wakeup)

    async def next_returned(self) -> int | None:
        """The position of the next input that returned, in completion order.

        Returns ``None`` when every input has returned. When an input failed, or the
        deadline passed, or the caller was cancelled, aborts the rest, waits for them
        and raises, from the step that would have produced the failed input.
        """
        results, turns, verdict = self.results, self._turns, self._verdict
        order = results.order
        while not order and (turns.running or turns.left) and verdict.reason is None:
            await self._wait_for_news()
        if order and verdict.reason is not Reason.INTERRUPTED:
            index = order.popleft()
            if results.handed_over(index, tolerated=self._options.tolerate_failures):
                if not order and not turns.running and not turns.left and verdict.reason is None:
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
        if self._turns.running or self._turns.left or exc is not None:
            self._abort(Reason.INTERRUPTED, exc)
        await self._drain()
        if self._call_off_alarm is not None:
            self._call_off_alarm()
            self._call_off_alarm = None
        self._runner = None
        self._turns.end()
        await runner.close()
        self._closed = True
        error = self._outcome()
        if self._verdict.outranks_a_cancellation(error):
            self._backend.rearm_cancellation()
        if error is not None:
            # The traceback will hold this frame: let it hold no input nor result.
            self._inputs.let_go()
            self.results.let_go()
            if error is not exc:
                try:
                    raise error
                finally:
                    del error, exc  # let go
        del error, exc  # let go

    # -- the Sink protocol: adapters report outcomes here ------------------------

    def input_returned(self, index: int, value: Any) -> None:
        results, turns = self.results, self._turns
        results.values[index] = value
        results.status[index] = RETURNED
        turns.running -= 1
        if self._verdict.reason is None:
            options = self._options
            if options.in_completion_order:  # a race's winner, the next of a stream
                results.order.append(index)
                if options.stop_after_first:
                    del value  # let go
                    self._abort(Reason.FIRST_DONE, None)
                    return
            if turns.left:
                turns.start_more()
            if options.wake_on_each:
                self._wakeup.wake()
                return
        if not turns.running:
            self._wakeup.wake()

    def inputs_returned(self, indexes: list[int], values: list[Any]) -> None:
        turns = self._turns
        if self._options.in_completion_order or turns.left or self._verdict.reason is not None:
            for index, value in zip(indexes, values, strict=True):
                self.input_returned(index, value)
            return
        self.results.record_returns(indexes, values)  # none of them can end the call
        turns.running -= len(indexes)
        if not turns.running:
            self._wakeup.wake()

    def input_raised(self, index: int, error: BaseException) -> None:
        if isinstance(error, StopAsyncIteration) and self._options.iterated:
            error = stopped_iteration(self._inputs.name(index), error)
        results, turns, verdict = self.results, self._turns, self._verdict
        results.status[index] = FAILED
        turns.running -= 1
        if self._abandoned:
            self._report_abandoned(index, error)
        elif verdict.reason is not None:
            if turns.finished_before_turn(index) and isinstance(error, Exception):
                results.values[index] = error  # its own failure, from before the abort
                results.order.append(index)
            else:
                verdict.failed(index, error)
            if not turns.running:
                self._wakeup.wake()
        elif self._options.tolerate_failures and isinstance(error, Exception):
            results.values[index] = error
            results.order.append(index)
            turns.failed(index)
            if self._options.wake_on_each or not turns.running:
                self._wakeup.wake()
        else:
            verdict.failed(index, error)
            results.order.append(index)
            self._abort(Reason.FAILURE, error)
            del error  # let go

    def input_cancelled(self, index: int, error: BaseException | None, *, by_us: bool) -> None:
        if not by_us or self._verdict.reason is None:  # alone: elsewhere, or for its time limit
            limit = self._options.input_timeout if by_us else None
            failure = self._inputs.cancelled_alone(index, error, time_limit=limit)
            self.input_raised(index, failure)
            del failure, error  # let go
            return
        self.results.status[index] = CANCELLED
        self._turns.running -= 1
        if not self._turns.running:  # only an abort cancels: the caller waits for the last
            self._wakeup.wake()

    def source_failed(self, error: BaseException) -> None:
        """The source the inputs are pulled from failed: abort, and raise *error*."""
        self._abort(Reason.FAILURE, error)
        del error  # let go

    # -- internals ---------------------------------------------------------------

    def _abort(self, reason: Reason, exc: BaseException | None) -> None:
        """Stop everything, once: the first reason is the one that counts."""
        if not self._verdict.stop(reason, exc):
            return
        del exc  # let go: cancelling an input below may raise in it with this frame below
        turns = self._turns
        turns.stop()
        runner = self._runner
        if runner is None or not turns.running:
            self._wakeup.wake()
            return
        self._aborted_at = now = self._backend.current_time()  # maybe in a callback
        runner.abort()
        # The caller has nothing to do until the last input has finished, which
        # wakes it, unless it must keep the time of the stuck report itself.
        report_after = self._options.report_stuck_after
        if report_after is not None and not self._abandoned:
            backend = self._backend
            self._call_off_alarm = backend.call_at(now + report_after, self._report_stuck)
            if self._call_off_alarm is None:
                self._wakeup.wake()

    async def _wait_for_news(self) -> None:
        """Sleep until an input wakes us, a turn comes, the deadline or an interruption."""
        deadline = self._deadline
        wake_at = min(self._turns.wake_at(), deadline)
        timer = None
        try:
            if wake_at == math.inf:  # no time limit: no cancel scope to pay for
                await self._wakeup.sleep()
            else:
                with anyio.CancelScope(deadline=wake_at) as timer:
                    await self._wakeup.sleep()
        except GeneratorExit:  # our coroutine is being closed: no await is possible
            self._abort(Reason.INTERRUPTED, None)
            raise
        except BaseException as exc:  # the caller's cancellation, or an interrupt
            self._abort(Reason.INTERRUPTED, exc)
        if timer is None or not timer.cancelled_caught:
            return
        now = self._backend.current_time()
        if now >= deadline:
            self._abort(Reason.TIMEOUT, self._timeout_error())
        else:
            self._turns.on_time(now)

    async def _drain(self) -> None:
        """Wait until every started input has finished, whatever happens meanwhile."""
        report_after = self._options.report_stuck_after
        alarm_at = math.inf  # no report, or the event loop makes it (see _abort)
        if report_after is not None and self._call_off_alarm is None:
            alarm_at = self._aborted_at + report_after
        turns = self._turns
        interruption = await self._wakeup.sleep_until(
            lambda: not turns.running, alarm_at=alarm_at, on_alarm=self._report_stuck
        )
        if interruption is not None:
            self._abort(Reason.INTERRUPTED, interruption)
        del interruption  # let go

    def _report_stuck(self) -> None:
        """Some inputs ignore their cancellation: say which, and where they wait."""
        runner = self._runner
        assert runner is not None
        seconds = self._backend.current_time() - self._aborted_at
        stuck = self.results.pending(self._turns.positions())
        report_stuck(stuck, seconds, self._inputs.name, runner.where)

    def _report_abandoned(self, index: int, error: BaseException) -> None:
        self._backend.report_abandoned_failure(
            f"multi_await: {self._inputs.name(index)} failed after "
            "the loop over its results was left; nobody could be told",
            error,
        )

    def _timeout_error(self) -> TimeoutError:
        turns, seconds = self._turns, self._options.timeout
        unfinished, count = turns.unfinished(self.results), len(self._inputs)
        return timeout_error(seconds, unfinished, count, some_never_started=bool(turns.left))

    def _outcome(self) -> BaseException | None:
        verdict, results = self._verdict, self.results
        if verdict.reason is not Reason.TIMEOUT:
            return verdict.exception()
        tolerated = [(index, results.values[index]) for index in results.tolerated_in_order()]
        return verdict.exception(tolerated)
