"""What the abort engine and the backend adapters promise each other."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .._core._results import Tally


class Sink(Protocol):
    """Receives the outcome of each input; the engine implements it.

    Adapters call exactly one of these methods per started input, synchronously, from
    the event loop's thread, as soon as the input has finished.
    """

    def input_returned(self, index: int, value: Any) -> None: ...

    def inputs_returned(self, indexes: list[int], values: list[Any]) -> None:
        """:meth:`input_returned` for each of *indexes* in turn, with its value.

        For inputs that finished while being started (asyncio's eager tasks), reported
        together once every input has started.
        """
        ...

    def input_raised(self, index: int, error: BaseException) -> None: ...

    def input_cancelled(self, index: int, error: BaseException | None, *, by_us: bool) -> None: ...


class Runner(Protocol):
    """Runs the inputs of one call with the backend's own primitives.

    :meth:`open` comes before the first start and :meth:`close` after the last input
    has finished: on Trio they hold the nursery open between them.
    """

    async def open(self) -> None:
        """Get ready to start inputs; no checkpoint, so a cancelled caller gets here."""
        ...

    async def close(self) -> None:
        """Let go of what :meth:`open` made; every started input has finished."""
        ...

    def start(self, index: int, aw: Awaitable[Any]) -> None:
        """Start running input *index*; report its outcome to the sink when done."""
        ...

    def start_all(self, inputs: list[Awaitable[Any]]) -> None:
        """Start every one of *inputs*, the first as input 0: :meth:`start`, faster."""
        ...

    def all_started(self) -> None:
        """No input will start any more: the runner may end once these have finished."""
        ...

    def abort(self) -> None:
        """Cancel every started input that has not finished."""
        ...

    def limit_each(self, seconds: float) -> None:
        """Give each input started from now on a time limit of its own, from its start.

        An input still running *seconds* after it started is cancelled alone, as
        :meth:`abort` cancels each input, and reported to the sink as cancelled by us:
        with no abort going on, that is how the engine knows its time limit passed.
        """
        ...

    def tally_returns(self, tally: Tally) -> None:
        """Record returns in *tally*, inline, with no call (see :class:`Tally`).

        *tally* is a sink too, which passes on to the engine all it does not record.
        """
        ...

    def where(self, index: int) -> str:
        """Where input *index*, still running, is suspended: a formatted stack."""
        ...


class RenewableRunner(Runner, Protocol):
    """A runner that can start inputs again after an abort: the select loop needs it."""

    async def renew(self) -> None:
        """Ready to start inputs again after :meth:`abort`, once every one has finished."""
        ...


class Backend(Protocol):
    """One running event loop library, as the engine needs to know it."""

    @property
    def cancelled(self) -> type[BaseException]:
        """The backend's cancellation exception class."""
        ...

    @property
    def runs_unscoped(self) -> bool:
        """Whether inputs can keep running with no ``async with`` block around them.

        asyncio tasks can; Trio tasks need an open nursery.
        """
        ...

    def current_time(self) -> float:
        """The backend's clock, callable from a callback as from a task."""
        ...

    def call_at(self, when: float, callback: Callable[[], object]) -> Callable[[], object] | None:
        """Have the event loop call *callback* at the time *when*, from no task.

        Returns the function that calls it off; ``None`` if the backend cannot, in
        which case the engine keeps the time in a task of its own.
        """
        ...

    def check(self, index: int, aw: object) -> None:
        """Raise ``TypeError`` if *aw* cannot be awaited on this backend."""
        ...

    def runner(self, sink: Sink) -> RenewableRunner:
        """A new runner that reports to *sink*."""
        ...

    def done_item(self, aw: object) -> object | None:
        """The object to hand back as *aw*'s done item, if the backend has one."""
        ...

    def report_abandoned_failure(self, message: str, error: BaseException) -> None:
        """Report a failure that no caller is left to receive."""
        ...

    def rearm_cancellation(self) -> None:
        """The current task's cancellation was caught, and a failure goes in its place.

        Have the cancellation raised again at the task's next await, as Python 3.13's
        :class:`asyncio.TaskGroup` re-arms it, unless the backend delivers it again
        by itself.
        """
        ...
