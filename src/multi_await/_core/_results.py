"""What each input of a call gave, by position, and in which order they finished."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .._adapters._protocols import Sink

#: Per-input status codes, kept in a bytearray indexed by input position.
PENDING, RETURNED, FAILED, CANCELLED = range(4)


class Counter(Protocol):
    """Counts the inputs still running."""

    running: int


class Tally:
    """A sink that records returns itself, where the engine need not hear of each.

    That is so where the caller reads the results only at the end, by position, and
    every input started at once: a return then changes nothing but the input's own
    slot and the count of inputs still running, and only the last one wakes the
    caller. Everything else goes on to the engine (:attr:`sink`). A runner given a
    tally (:meth:`~.._adapters._protocols.Runner.tally_returns`) reports to it and,
    on its hot path, does what :meth:`input_returned` does inline, with no call at
    all; the asyncio runner records a cancellation by the abort the same way
    (``CANCELLED``), as the engine's ``input_cancelled`` does for one.
    """

    __slots__ = ("sink", "status", "turns", "values", "wake")

    def __init__(
        self, sink: Sink, results: Results, turns: Counter, wake: Callable[[], None]
    ) -> None:
        self.sink = sink
        self.values = results.values
        self.status = results.status
        #: What counts the inputs still running (:attr:`~._turns.Turns.running`).
        self.turns = turns
        #: Wakes the caller: called when the count reaches 0.
        self.wake = wake

    def input_returned(self, index: int, value: Any) -> None:
        self.values[index] = value
        self.status[index] = RETURNED
        turns = self.turns
        turns.running -= 1
        if not turns.running:
            self.wake()

    # Passed on. An abort may start inside these calls, and on Trio the Cancelled
    # it raises in other inputs keeps this frame: it lets go of what it was given.

    def inputs_returned(self, indexes: list[int], values: list[Any]) -> None:
        self.sink.inputs_returned(indexes, values)
        del values  # let go

    def input_raised(self, index: int, error: BaseException) -> None:
        self.sink.input_raised(index, error)
        del error  # let go

    def input_cancelled(self, index: int, error: BaseException | None, *, by_us: bool) -> None:
        self.sink.input_cancelled(index, error, by_us=by_us)
        del error  # let go


class Results:
    """The outcome of every input, written by the engine as inputs finish.

    The primitives read it through the methods below and never through the status
    codes, which are the engine's business.
    """

    __slots__ = ("order", "status", "values")

    def __init__(self, count: int) -> None:
        #: Results by input position (a tolerated failure's exception, if any).
        self.values: list[Any] = [None] * count
        #: Status code by input position.
        self.status = bytearray(count)
        #: Positions of inputs that finished before any abort, in completion order:
        #: the failures, and the returns where the caller reads that order
        #: (:attr:`~._options.Options.in_completion_order`).
        self.order: deque[int] = deque()

    def record_returns(self, indexes: list[int], values: list[Any]) -> None:
        """Record that the inputs at *indexes* returned *values*."""
        store, status = self.values, self.status
        for index, value in zip(indexes, values, strict=True):
            store[index] = value
            status[index] = RETURNED

    def __len__(self) -> int:
        return len(self.status)

    def value(self, index: int) -> Any:
        """What input *index* returned (its exception, if its failure was tolerated)."""
        return self.values[index]

    def take(self, index: int) -> Any:
        """:meth:`value`, keeping no reference to it any more."""
        value, self.values[index] = self.values[index], None
        return value

    def handed_over(self, index: int, *, tolerated: bool) -> bool:
        """Whether input *index* gave a value to hand over: it returned, or it failed
        and its failure is the value, where failures are *tolerated*."""
        status = self.status[index]
        if status == RETURNED:
            return True
        return tolerated and status == FAILED and self.values[index] is not None

    def returned(self) -> list[int]:
        """The positions of the inputs that returned, in input order."""
        return [index for index, status in enumerate(self.status) if status == RETURNED]

    def failed(self) -> list[int]:
        """The positions of the inputs that failed, in input order.

        Where failures are tolerated, :meth:`value` gives each one's exception.
        """
        return [index for index, status in enumerate(self.status) if status == FAILED]

    def first_returned(self) -> int | None:
        """The position of the first input to return, if any returned in time."""
        status = self.status
        return next((index for index in self.order if status[index] == RETURNED), None)

    def tolerated_in_order(self) -> list[int]:
        """The positions of the tolerated failures, in the order they happened."""
        status = self.status
        return [index for index in self.order if status[index] == FAILED]

    def pending(self, indices: range | list[int]) -> list[int]:
        """Those of *indices* whose input has not finished."""
        status = self.status
        return [index for index in indices if status[index] == PENDING]

    def finished_count(self) -> int:
        """How many inputs have finished, whatever their outcome."""
        return len(self.status) - self.status.count(PENDING)

    def let_go(self) -> None:
        """Hold no result any more (see "Letting go" in :mod:`multi_await._core`).

        Emptied in place: a :class:`Tally` may hold the same list.
        """
        self.values.clear()
