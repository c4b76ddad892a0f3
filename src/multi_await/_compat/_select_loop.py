"""``multi_await()`` / ``MultiAwait``: the select loop of multi-await 1.x, on any backend."""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from .._adapters import current_backend
from .._adapters._protocols import Backend, RenewableRunner
from .._core._inputs import awaitable_of, describe
from .._core._verdict import Reason, Verdict, cancelled_elsewhere
from .._core._wakeup import Wakeup

Source = Callable[[], Awaitable[Any]]


class MultiAwait:
    """Calls async functions over and over, and gives what each call returns.

    Use it through :func:`multi_await`::

        async with multi_await() as m:
            m.add(q1.get)
            m.add(q2.get)
            while True:
                completed, failures = await m.get()
                item1, item2 = completed

    Each source is an async callable taking no arguments (``queue.get``,
    ``channel.receive``, ``functools.partial(fetch, url)``); it may also return an
    :class:`asyncio.Task`. :meth:`get` calls every source not already being
    awaited, waits until at least one call has finished, and returns two lists
    indexed like the sources: ``completed`` holds the results, ``failures`` the
    exceptions, ``None`` where a call has not finished (or returned ``None``).

    A call still pending when :meth:`get` returns stays pending: it is not
    cancelled and restarted, so an item it is about to take from a queue is never
    lost, and it is delivered by a later :meth:`get`. A source whose call finished,
    with a result or a failure, is called again by the next :meth:`get`.

    Leaving the ``async with`` block cancels the pending calls and waits for them;
    an exception leaving it goes on as itself, with the failures they raised
    meanwhile attached. A call that had already finished has taken its item: what
    nobody received through :meth:`get` stays available from :meth:`undelivered`.
    Used without ``async with`` (asyncio), a ``MultiAwait`` dropped with calls
    pending cancels them, so that none takes an item nobody will receive.

    .. versionadded:: 2.0
    """

    __slots__ = (
        "__weakref__",
        "_backend",
        "_errors",
        "_idle",
        "_in_flight",
        "_ready",
        "_runner",
        "_sources",
        "_stopping",
        "_values",
        "_wakeup",
    )

    def __init__(self) -> None:
        self._sources: list[Source] = []
        self._values: list[Any] = []
        self._errors: list[BaseException | None] = []
        self._idle: list[int] = []  # sources to call on the next get()
        self._ready: deque[int] = deque()  # sources whose call finished, not yet delivered
        self._in_flight = 0
        #: What went wrong while the pending calls were being cancelled, if they are.
        self._stopping: Verdict | None = None
        self._wakeup = Wakeup()
        self._backend: Backend | None = None
        self._runner: RenewableRunner | None = None

    def __repr__(self) -> str:
        return (
            f"<MultiAwait sources={len(self._sources)}, pending={self._in_flight}, "
            f"undelivered={len(self._ready)}>"
        )

    async def __aenter__(self) -> MultiAwait:
        if self._runner is not None:
            raise RuntimeError("this MultiAwait is already in use")
        await self._open(current_backend())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        runner = self._runner
        try:
            await self._cancel(exc)
        finally:
            del exc, tb  # let go
            self._runner = None
            if runner is not None:
                await runner.close()

    def add(self, source: Source) -> None:
        """Add an async callable taking no arguments; :meth:`get` will call it."""
        if not callable(source):
            raise TypeError(
                f"source {len(self._sources)} is {type(source).__name__}; expected an "
                "async function taking no arguments, such as queue.get"
            )
        self._idle.append(len(self._sources))
        self._sources.append(source)
        self._values.append(None)
        self._errors.append(None)

    async def get(self) -> tuple[list[Any], list[BaseException | None]]:
        """Call the idle sources, wait for at least one call to finish, return outcomes.

        If the wait is cancelled, the calls stay pending: what they return comes
        with the next :meth:`get`.

        :return: ``(completed, failures)``, two lists indexed like the sources
        :raises RuntimeError: if no source was added, or on Trio outside the
            ``async with`` block
        :raises TypeError: if a source returned something that is not awaitable; that
            :meth:`get` only, the next one calls the source again
        """
        if not self._sources:
            raise RuntimeError("get() has nothing to wait for: add a source with add() first")
        runner = self._runner or await self._open_unscoped()
        self._call_idle(runner)
        while not self._ready:
            await self._wakeup.sleep()
        return self._deliver()

    async def get_or_raise(self) -> list[Any]:
        """:meth:`get`, raising the first failure instead of returning it."""
        completed, failures = await self.get()
        for failure in failures:
            if failure is not None:
                raise failure
        return completed

    async def cancel(self) -> None:
        """Cancel the pending calls and wait until they have finished.

        Results that had arrived are kept for the next :meth:`get`. A call that
        fails while being cancelled has its failure raised here, once every call
        has finished (the others attached, see :func:`secondary_errors`). If the
        caller is cancelled meanwhile, this still waits, then lets that
        cancellation propagate.
        """
        await self._cancel(None)

    async def _cancel(self, leaving: BaseException | None) -> None:
        """:meth:`cancel`, as the exception *leaving* the block (if any) leaves it.

        The failures of the pending calls are attached to *leaving*, which then goes
        on as itself; or they replace it, if it is a cancellation.
        """
        runner, backend = self._runner, self._backend
        if runner is None or backend is None or not self._in_flight:
            return
        self._stopping = verdict = Verdict(backend.cancelled, "source {}".format)
        verdict.stop(Reason.INTERRUPTED, leaving)
        runner.abort()
        interruption = await self._wakeup.sleep_until(lambda: not self._in_flight)
        self._stopping = None
        await runner.renew()
        if interruption is not None:
            verdict.stop(Reason.INTERRUPTED, interruption)
        del interruption  # let go
        error = verdict.exception()
        if verdict.outranks_a_cancellation(error):
            backend.rearm_cancellation()
        if error is not None and error is not leaving:
            try:
                raise error
            finally:
                del error, leaving  # let go
        del error, leaving  # let go

    def undelivered(self) -> tuple[list[Any], list[BaseException | None]]:
        """What finished but was not yet returned by :meth:`get`, in its two lists.

        Useful after the ``async with`` block: an item a call took from its queue
        just before the block was left is here, not lost. Reading it consumes it.
        """
        return self._deliver()

    # -- the Sink protocol ---------------------------------------------------------

    def input_returned(self, index: int, value: Any) -> None:
        self._values[index] = value
        self._arrived(index)

    def input_raised(self, index: int, error: BaseException) -> None:
        if self._stopping is not None:
            self._stopping.failed(index, error)
            self._released(index)
        else:
            self._errors[index] = error
            self._arrived(index)

    def input_cancelled(self, index: int, error: BaseException | None, *, by_us: bool) -> None:
        if by_us or self._stopping is not None:
            self._released(index)
            return
        description = f"a call of {describe(self._sources[index])}"
        self.input_raised(index, cancelled_elsewhere(index, description, error))

    # -- internals -----------------------------------------------------------------

    async def _open_unscoped(self) -> RenewableRunner:
        backend = current_backend()
        if not backend.runs_unscoped:
            raise RuntimeError(
                "on Trio, use `async with multi_await() as m:`: the calls need a nursery"
            )
        return await self._open(backend)

    async def _open(self, backend: Backend) -> RenewableRunner:
        self._backend = backend
        self._runner = runner = backend.runner(_Relay(self, backend))
        await runner.open()
        return runner

    def __del__(self) -> None:
        # Dropped with calls pending, unscoped (asyncio): nobody will get what they
        # take, so they must not take it. Cancelled here, they cannot be awaited.
        runner = self._runner
        if runner is not None and self._in_flight:
            runner.abort()

    def _call_idle(self, runner: RenewableRunner) -> None:
        assert self._backend is not None
        idle, self._idle = sorted(self._idle), []
        for position, index in enumerate(idle):
            try:
                aw = awaitable_of(index, self._sources[index], self._backend)
            except BaseException:
                # This get() fails; the sources it did not call stay idle for the next.
                self._idle[:0] = idle[position:]
                raise
            self._in_flight += 1  # first: the runner may report it at once
            runner.start(index, aw)

    def _arrived(self, index: int) -> None:
        self._in_flight -= 1
        self._ready.append(index)
        self._wakeup.wake()

    def _released(self, index: int) -> None:
        self._in_flight -= 1
        self._idle.append(index)
        self._wakeup.wake()

    def _deliver(self) -> tuple[list[Any], list[BaseException | None]]:
        count = len(self._sources)
        completed: list[Any] = [None] * count
        failures: list[BaseException | None] = [None] * count
        ready = self._ready
        while ready:
            index = ready.popleft()
            completed[index], self._values[index] = self._values[index], None
            failures[index], self._errors[index] = self._errors[index], None
            self._idle.append(index)
        return completed, failures


class _Relay:
    """What the runner reports to: the :class:`MultiAwait`, held weakly.

    The runner's tasks keep their runner alive, and it its sink: held strongly, an
    unscoped :class:`MultiAwait` with a call pending could never be dropped.
    """

    __slots__ = ("_backend", "_owner")

    def __init__(self, owner: MultiAwait, backend: Backend) -> None:
        self._owner = weakref.ref(owner)
        self._backend = backend

    def input_returned(self, index: int, value: Any) -> None:
        owner = self._owner()
        if owner is not None:
            owner.input_returned(index, value)

    def inputs_returned(self, indexes: list[int], values: list[Any]) -> None:  # pragma: no cover
        # Never called: the select loop starts its sources one by one.
        for index, value in zip(indexes, values, strict=True):
            self.input_returned(index, value)

    def input_raised(self, index: int, error: BaseException) -> None:
        owner = self._owner()
        if owner is not None:
            owner.input_raised(index, error)
        else:
            self._backend.report_abandoned_failure(
                f"multi_await: a call of source {index} failed after its MultiAwait was "
                "dropped; nobody could be told",
                error,
            )

    def input_cancelled(self, index: int, error: BaseException | None, *, by_us: bool) -> None:
        owner = self._owner()
        if owner is not None:
            owner.input_cancelled(index, error, by_us=by_us)


def multi_await() -> MultiAwait:
    """The select loop of multi-await 1.x: ``async with multi_await() as m: ...``.

    See :class:`MultiAwait`.

    :return: a new :class:`MultiAwait`, to use as an async context manager

    .. code-block:: python

        import anyio

        from multi_await import multi_await


        async def main():
            numbers, letters = anyio.create_memory_object_stream[int](1)
            send_letter, receive_letter = anyio.create_memory_object_stream[str](1)
            await numbers.send(1)
            await send_letter.send("a")
            async with numbers, letters, send_letter, receive_letter, multi_await() as m:
                m.add(letters.receive)
                m.add(receive_letter.receive)
                received = []
                while len(received) < 2:
                    completed, failures = await m.get()
                    received += [item for item in completed if item is not None]
            assert sorted(map(str, received)) == ["1", "a"]


        anyio.run(main)

    .. versionadded:: 2.0
    """
    return MultiAwait()
