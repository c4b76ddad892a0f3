"""The backends every property runs on, each example in a fresh event loop.

Time is virtual wherever the backend allows it, so that thousands of schedules run
in seconds and never depend on the machine's speed:

- Trio runs with ``trio.testing.MockClock(autojump_threshold=0)``: whenever every
  task is blocked, the clock jumps to the next deadline.
- asyncio (plain, and with eager tasks) runs on :class:`VirtualClockLoop`, which does
  the same for asyncio: its clock only moves when the loop has nothing ready to run,
  and then straight to the next timer.
- uvloop keeps real time (its clock lives in libuv). Schedules there are written in
  checkpoints, and the checks that need exact times are skipped (see ``virtual``).
"""

from __future__ import annotations

import asyncio
import faulthandler
import gc
import selectors
import sys
import warnings
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import pytest

#: Every call of asyncio's exception handler during the current example.
HANDLER_CALLS: list[dict[str, Any]] = []

#: Real seconds after which a run still going is stuck for good (a deadlock in a
#: shielded wait cannot be cancelled from outside): dump every thread's stack and
#: exit, rather than hold the suite until its own time limit.
WATCHDOG_SECONDS = 600


class DeadlockError(RuntimeError):
    """The virtual clock was asked to wait with no timer set: nothing could ever happen."""


class _JumpingSelector(selectors.DefaultSelector):
    """A selector that never sleeps: where the loop would wait, the virtual clock jumps."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualClockLoop | None = None

    def select(self, timeout: float | None = None) -> list[Any]:
        events = super().select(0)
        if events or timeout == 0:
            return events
        if timeout is None:
            raise DeadlockError("every task waits and no timer is set: the example would hang")
        assert self.loop is not None
        self.loop.advance(timeout)
        return []


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose clock moves only when it would otherwise wait."""

    def __init__(self) -> None:
        selector = _JumpingSelector()
        super().__init__(selector)
        selector.loop = self
        self._virtual_now = 0.0

    def time(self) -> float:
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        self._virtual_now += seconds


def _record(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    HANDLER_CALLS.append(context)


def _loop_factory(
    make: Callable[[], asyncio.AbstractEventLoop], *, eager: bool = False
) -> Callable[[], asyncio.AbstractEventLoop]:
    def factory() -> asyncio.AbstractEventLoop:
        loop = make()
        # Record every call, whatever handler AnyIO's runner may set later.
        set_handler = loop.set_exception_handler
        loop.set_exception_handler = lambda handler: set_handler(_record)  # type: ignore[method-assign]
        loop.set_exception_handler(None)
        if eager:
            loop.set_task_factory(asyncio.eager_task_factory)  # type: ignore[attr-defined]
        return loop

    return factory


class Backend:
    """One way of running an example."""

    __slots__ = ("_options", "library", "name", "virtual")

    def __init__(
        self, name: str, library: str, *, virtual: bool, options: Callable[[], dict[str, Any]]
    ) -> None:
        self.name = name
        #: ``"asyncio"`` or ``"trio"``: what AnyIO is asked to run.
        self.library = library
        #: Whether the clock is virtual, so that exact times can be checked.
        self.virtual = virtual
        self._options = options

    def __repr__(self) -> str:
        return f"<backend {self.name}>"

    @property
    def asyncio(self) -> bool:
        return self.library == "asyncio"

    def options(self) -> dict[str, Any]:
        """AnyIO's backend options for a fresh run (a fresh clock, a fresh loop)."""
        return self._options()

    def run(
        self,
        main: Callable[[], Awaitable[Any]],
        *,
        debug: bool = True,
        expected_report: Callable[[dict[str, Any]], bool] | None = None,
    ) -> Any:
        """Run *main* in a fresh event loop, failing on anything left behind.

        asyncio runs in debug mode unless *debug* is false. *expected_report* tells the
        one call of asyncio's exception handler that may happen, if any.
        """
        options = self.options()
        if self.asyncio:
            options["debug"] = debug
        faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True, file=sys.__stderr__ or 2)
        try:
            with _nothing_left_behind(expected_report):
                return anyio.run(main, backend=self.library, backend_options=options)
        finally:
            faulthandler.cancel_dump_traceback_later()


def _trio_options() -> dict[str, Any]:
    import trio.testing

    return {"clock": trio.testing.MockClock(autojump_threshold=0)}


def _backends() -> list[Backend]:
    found = [
        Backend(
            "asyncio",
            "asyncio",
            virtual=True,
            options=lambda: {"debug": True, "loop_factory": _loop_factory(VirtualClockLoop)},
        )
    ]
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop does not build everywhere
        pass
    else:
        found.append(
            Backend(
                "asyncio+uvloop",
                "asyncio",
                virtual=False,
                options=lambda: {
                    "debug": True,
                    "loop_factory": _loop_factory(uvloop.new_event_loop),
                },
            )
        )
    if sys.version_info >= (3, 12):
        found.append(
            Backend(
                "asyncio+eager",
                "asyncio",
                virtual=True,
                options=lambda: {
                    "debug": True,
                    "loop_factory": _loop_factory(VirtualClockLoop, eager=True),
                },
            )
        )
    found.append(Backend("trio", "trio", virtual=True, options=_trio_options))
    return found


BACKENDS = _backends()
BACKEND_PARAMS = [pytest.param(backend, id=backend.name) for backend in BACKENDS]
ASYNCIO_PARAMS = [pytest.param(backend, id=backend.name) for backend in BACKENDS if backend.asyncio]
TRIO = next(backend for backend in BACKENDS if backend.library == "trio")


@contextmanager
def _nothing_left_behind(
    expected_report: Callable[[dict[str, Any]], bool] | None = None,
) -> Iterator[None]:
    """Fail if the example called asyncio's exception handler, warned, or leaked.

    Checked also when an exception leaves the example (an interrupt leaves asyncio's
    loop at once), which is re-raised afterwards.

    The example ends with ``gc.collect()``, so that anything it left in a reference
    cycle (an un-awaited coroutine, say) warns within the example. What was alive
    before it began is frozen first, out of the collector's sight, which keeps that
    collection cheap however large the test's own state grows (the properties'
    conftest unfreezes it after the last test).
    """
    gc.collect()
    gc.freeze()
    unraisable: list[Any] = []
    previous_hook = sys.unraisablehook
    HANDLER_CALLS.clear()
    sys.unraisablehook = unraisable.append
    left: BaseException | None = None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield
            except BaseException as exc:  # an interrupt that left the loop: check first
                left = exc
            gc.collect()
    finally:
        sys.unraisablehook = previous_hook
    calls, HANDLER_CALLS[:] = list(HANDLER_CALLS), []
    if expected_report is not None:
        expected = [call for call in calls if expected_report(call)]
        assert len(expected) <= 1, f"the expected report came {len(expected)} times"
        calls = [call for call in calls if call not in expected]
    assert not calls, "asyncio's exception handler was called: " + "; ".join(
        f"{call.get('message')}: {call.get('exception')!r}" for call in calls
    )
    assert not caught, "warnings: " + "; ".join(str(w.message) for w in caught)
    assert not unraisable, "unraisable exceptions: " + "; ".join(
        f"{u.exc_value!r} in {u.object!r}" for u in unraisable
    )
    if left is not None:
        raise left
