"""Who starts when: the inputs of one call, started in input order as turns come.

By default every input starts at once. Each limit a call sets is a :class:`Gate`
that must let the next input through: :class:`ConcurrencyLimit` for
``max_concurrency``, :class:`Stagger` for ``stagger``, :class:`Pace` for
``max_per_second``; all of them hold at once. A gate sees only counts and time;
:class:`Turns` does the starting, and reports an input whose start failed (an async
callable that raised when called) to the engine's :class:`Sink` like any other
failure. ``input_timeout`` is the runner's to keep (:meth:`Runner.limit_each`): it
needs no turn, only a deadline per input.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ._inputs import CALLABLE, Inputs, awaitable_of, prepare
from ._results import Results

if TYPE_CHECKING:
    from .._adapters._protocols import Backend, Runner, Sink
    from ._options import Options
    from ._wakeup import Wakeup


class Gate:
    """One rule on when the next input may start; by itself, lets every one through."""

    __slots__ = ()

    def begin(self, now: float) -> None:
        """The first input starts, at the time *now*."""

    def allows(self, started: int, running: int) -> bool:
        """Whether input number *started* may start with *running* inputs running."""
        return True

    def wake_at(self, started: int) -> float:
        """When :meth:`allows` may change by time alone for input *started* (``inf``: never)."""
        return math.inf

    def on_time(self, now: float) -> None:
        """The time :meth:`wake_at` gave has come."""

    def on_failure(self, index: int, newest: bool) -> None:
        """Input *index* failed, its failure tolerated; *newest*: the last to start."""


class ConcurrencyLimit(Gate):
    """``max_concurrency``: at most this many inputs run at once."""

    __slots__ = ("_limit",)

    def __init__(self, limit: int) -> None:
        self._limit = limit

    def allows(self, started: int, running: int) -> bool:
        return running < self._limit


class Stagger(Gate):
    """``stagger``: one input, then the next *delay* seconds later, or at once on failure."""

    __slots__ = ("_allowed", "_delay", "_next_at")

    def __init__(self, delay: float) -> None:
        self._delay = delay
        self._allowed = 1
        self._next_at = math.inf

    def begin(self, now: float) -> None:
        self._next_at = now + self._delay

    def allows(self, started: int, running: int) -> bool:
        return started < self._allowed

    def wake_at(self, started: int) -> float:
        return self._next_at

    def on_time(self, now: float) -> None:
        self._allowed += 1
        self._next_at = now + self._delay

    def on_failure(self, index: int, newest: bool) -> None:
        if newest:  # the newest attempt failed: the next one need not wait
            self._allowed += 1


class Pace(Gate):
    """``max_per_second``: input *k* starts no sooner than *k* / *rate* seconds after the first.

    Each start is reckoned from the first, not from the one before, so that the
    pace holds over a long run without drifting; turns missed while another gate
    held inputs back are taken at once when it lets them through.
    """

    __slots__ = ("_allowed", "_first", "_rate")

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._allowed = 1
        self._first = math.inf

    def begin(self, now: float) -> None:
        self._first = now

    def allows(self, started: int, running: int) -> bool:
        return started < self._allowed

    def wake_at(self, started: int) -> float:
        if started < self._allowed:  # not waiting for time: no timer to pay for
            return math.inf
        return self._first + self._allowed / self._rate

    def on_time(self, now: float) -> None:
        due = math.floor((now - self._first) * self._rate) + 1
        self._allowed = max(self._allowed + 1, due)


def gates_for(options: Options) -> list[Gate]:
    """The gates the options of a call ask for; none: everything starts at once."""
    gates: list[Gate] = []
    if options.max_concurrency is not None:
        gates.append(ConcurrencyLimit(options.max_concurrency))
    if options.stagger is not None:
        gates.append(Stagger(options.stagger))
    if options.max_per_second is not None:
        gates.append(Pace(options.max_per_second))
    return gates


class Turns:
    """Starts the inputs of one call when their turn comes, and counts them.

    :attr:`left` inputs have not had their turn yet, :attr:`running` have started
    and not finished: the engine counts each finished input off :attr:`running`, and
    tells of a tolerated failure with :meth:`failed`. After :meth:`stop`, nothing
    more starts.
    """

    __slots__ = (
        "_backend",
        "_gates",
        "_inputs",
        "_late",
        "_late_finished",
        "_runner",
        "_sink",
        "_starting",
        "_stopped",
        "_time_limit",
        "_wakeup",
        "left",
        "running",
    )

    def __init__(self, inputs: Inputs, options: Options, backend: Backend) -> None:
        self._inputs = inputs
        self._gates = gates_for(options)
        self._time_limit = options.input_timeout
        self._backend = backend
        self._sink: Sink | None = None
        self._runner: Runner | None = None
        self._starting = False
        self._stopped = False
        #: What the engine sleeps on while it waits (from :meth:`begin`).
        self._wakeup: Wakeup | None = None
        #: Tasks running elsewhere whose turn never came, watched since the abort.
        self._late: list[int] = []
        #: Those of them that had already finished by then.
        self._late_finished: set[int] = set()
        #: Inputs whose turn has not come yet.
        self.left: int = len(inputs)
        #: Inputs started (or watched) that have not finished.
        self.running: int = 0

    @property
    def started(self) -> int:
        """How many inputs have had their turn."""
        return len(self._inputs) - self.left

    def begin(self, runner: Runner, sink: Sink, wakeup: Wakeup) -> None:
        """Start what may start at once with *runner*.

        An input whose start fails is reported to *sink*, until :meth:`end`. The
        engine sleeps on *wakeup* while it waits for news, a turn by time included.
        """
        self._runner, self._sink, self._wakeup = runner, sink, wakeup
        if self._time_limit is not None:
            runner.limit_each(self._time_limit)
        self.start_more()

    def _begin_gates(self) -> None:
        """The first input starts now: the gates count their time from here."""
        now = self._backend.current_time()
        for gate in self._gates:
            gate.begin(now)

    def end(self) -> None:
        """Every input has finished: let go of the runner and the sink."""
        self._runner = self._sink = self._wakeup = None

    def start_more(self) -> None:
        """Start inputs in order while the gates let them."""
        if self._starting or self._stopped or not self.left:
            return
        runner = self._runner
        assert runner is not None
        if not self._gates:  # all at once, all awaitable already: the common case
            self.running += self.left  # first: an input may report at once
            self.left = 0
            runner.start_all(self._inputs.items)  # type: ignore[arg-type]
            runner.all_started()
            return
        self._starting = True
        left = self.left
        if not self.started:
            self._begin_gates()
        try:
            while self.left and not self._stopped and self._gates_allow():
                self.left -= 1
                self.running += 1
                self._start(runner, len(self._inputs) - self.left - 1)
            if not self.left:
                runner.all_started()
        finally:
            self._starting = False
        if self.left < left:
            self._time_may_have_moved()

    def _time_may_have_moved(self) -> None:
        """Inputs started: wake the engine if it sleeps with a timer set before them."""
        if self._wakeup is not None and self.wake_at() < math.inf:
            self._wakeup.wake()

    def wake_at(self) -> float:
        """When the next input may start by time alone (``inf``: not by time)."""
        if not self.left or self._stopped:
            return math.inf
        started = self.started
        return min((gate.wake_at(started) for gate in self._gates), default=math.inf)

    def on_time(self, now: float) -> None:
        """The time :meth:`wake_at` gave has come: start what may start now."""
        started = self.started
        for gate in self._gates:
            if gate.wake_at(started) <= now:
                gate.on_time(now)
        self.start_more()

    def failed(self, index: int) -> None:
        """Input *index* failed and the call goes on: its slot is free, and maybe a turn."""
        newest = index == self.started - 1
        for gate in self._gates:
            gate.on_failure(index, newest)
        self.start_more()

    def stop(self) -> None:
        """Start nothing more: end the inputs whose turn never came, without starting them.

        Coroutine objects are closed and callables are never called. A task already
        running elsewhere cannot be held back: it is watched from now on, like a
        started input, so that the abort cancels it (once) and the call waits for it.
        """
        if self._stopped:
            return
        self._stopped = True
        if not self.left:
            return
        inputs, start = self._inputs, self.started
        inputs.close_from(start)
        runner = self._runner
        if runner is None:
            return
        for index in inputs.elsewhere_from(start):
            if inputs.finished_elsewhere(index):
                self._late_finished.add(index)
            self._late.append(index)
            self.running += 1  # first: the runner may report it at once
            runner.start(index, inputs.items[index])  # type: ignore[arg-type]

    def finished_before_turn(self, index: int) -> bool:
        """Whether input *index* is a task that had finished elsewhere before its turn."""
        return index in self._late_finished

    def positions(self) -> list[int]:
        """The positions of every input started or watched, in that order."""
        return [*range(self.started), *self._late]

    def unfinished(self, results: Results) -> int:
        """How many inputs have not finished, started or not (for the timeout's message)."""
        inputs = self._inputs
        # Less the tasks handed in that finished elsewhere while they waited for a turn.
        elsewhere = sum(map(inputs.finished_elsewhere, inputs.elsewhere_from(self.started)))
        return len(inputs) - results.finished_count() - elsewhere

    def _gates_allow(self) -> bool:
        started, running = self.started, self.running
        return all(gate.allows(started, running) for gate in self._gates)

    def _start(self, runner: Runner, index: int) -> None:
        inputs = self._inputs
        given = inputs.items[index]
        if inputs.kinds[index] != CALLABLE:
            runner.start(index, given)  # type: ignore[arg-type]
            return
        try:  # a callable whose turn has come
            aw = awaitable_of(index, given, self._backend)
        except Exception as exc:
            failure = exc
        else:
            runner.start(index, aw)
            return
        assert self._sink is not None
        try:  # outside the except block, as the adapters report failures
            self._sink.input_raised(index, failure)
        finally:
            del failure  # let go


#: How a call lays out its inputs: given what the caller passed, its options and the
#: backend, the inputs, their turns, and the results they will give.
Plan = Callable[[Sequence[object], "Options", "Backend"], tuple[Inputs, Turns, Results]]


def lay_out(
    aws: Sequence[object], options: Options, backend: Backend
) -> tuple[Inputs, Turns, Results]:
    """The plan of a call given its inputs: each checked, by position, before any starts."""
    inputs = prepare(aws, backend, call=not options.starts_in_turns)
    return inputs, Turns(inputs, options, backend), Results(len(inputs))
