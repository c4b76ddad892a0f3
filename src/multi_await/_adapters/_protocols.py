"""What the abort engine and the backend adapters promise each other."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Protocol


class Sink(Protocol):
    """Receives the outcome of each input; the engine implements it.

    Adapters call exactly one of these methods per started input, synchronously, from
    the event loop's thread, as soon as the input has finished.
    """

    def input_returned(self, index: int, value: Any) -> None: ...

    def input_raised(self, index: int, error: BaseException) -> None: ...

    def input_cancelled(self, index: int, error: BaseException | None, *, by_us: bool) -> None: ...


class Runner(Protocol):
    """Runs the inputs of one call with the backend's own primitives.

    Used as an async context manager around the engine's work: on Trio it holds the
    nursery. The engine only leaves the block once every started input has finished.
    """

    async def __aenter__(self) -> Runner: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

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
        """Cancel every started input that has not finished.

        To start inputs again afterwards, wait until every input has finished, then
        call :meth:`renew`.
        """
        ...

    async def renew(self) -> None:
        """Make the runner ready to start inputs again after :meth:`abort`."""
        ...

    def where(self, index: int) -> str:
        """Where input *index*, still running, is suspended: a formatted stack."""
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

    def runner(self, sink: Sink) -> Runner:
        """A new runner that reports to *sink*."""
        ...

    def done_item(self, aw: object) -> object | None:
        """The object to hand back as *aw*'s done item, if the backend has one."""
        ...

    def report_abandoned_failure(self, message: str, error: BaseException) -> None:
        """Report a failure that no caller is left to receive."""
        ...
