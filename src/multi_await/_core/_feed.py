"""The turns of a map: items pulled into free slots, as the gates let them.

A map's inputs live in slots (see :mod:`._source`): an input keeps its slot until
its result is taken, so a free slot is the window's own limit, and the gates of the
options (``max_per_second``) hold beside it.

A sync iterable is pulled wherever a slot frees, in a done callback too. An async
one must be pulled by a task, and not by the caller's: while the caller's task
waits in a source's ``__anext__`` it could hand over no result, and a source that
waits for the caller (a queue of links that the results fill) would never give
one. So a task of its own, :meth:`Feed.feed`, pulls async items; the call runs it
beside the inputs, and stopping the turns cancels it.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, cast

import anyio

from ._inputs import AWAITABLE, Inputs, Item, describe
from ._results import PENDING, Results
from ._turns import Turns
from ._wakeup import Wakeup

if TYPE_CHECKING:
    from .._adapters._protocols import Backend, Runner, Sink
    from ._options import Options


class _SourceSink(Protocol):
    def source_failed(self, error: BaseException) -> None: ...


class SlotInputs(Inputs):
    """The inputs of a map, by slot: what runs in each, and which item it came from."""

    __slots__ = ("positions", "pulled")

    def __init__(self, window: int) -> None:
        super().__init__([None] * window, bytearray([AWAITABLE]) * window)  # type: ignore[list-item]
        #: How many items were pulled so far.
        self.pulled = 0
        #: The position among the items of what runs, or ran, in each slot.
        self.positions = [0] * window

    def __len__(self) -> int:
        return self.pulled

    def name(self, index: int) -> str:
        return f"input {self.positions[index]} ({self.describe(index)})"

    def close_from(self, start: int) -> None:
        return None  # every input pulled was started at once: none waits for its turn

    def elsewhere_from(self, start: int) -> list[int]:
        return []


class Feed(Turns):
    """The turns of a map: each item is pulled when a slot is free and the gates let it.

    ``left`` is 1 until the items run out.
    """

    __slots__ = (
        "_feeding",
        "_fn",
        "_free",
        "_hungry",
        "_items",
        "_results",
        "_source_failed",
        "by_task",
        "late_failure",
    )

    def __init__(
        self,
        fn: Callable[[Any], Any],
        items: Iterator[Any] | AsyncIterator[Any],
        inputs: SlotInputs,
        results: Results,
        options: Options,
        backend: Backend,
    ) -> None:
        super().__init__(inputs, options, backend)
        self._fn = fn
        self._items = items
        #: Whether the items are async, so that only :meth:`feed` may pull them.
        self.by_task = isinstance(items, AsyncIterator)
        self._results = results
        self._free = list(reversed(range(len(results))))  # slot 0 first
        self._source_failed: Callable[[BaseException], None] | None = None
        #: What :meth:`feed` sleeps on until a turn comes; its scope, while it runs.
        self._hungry = Wakeup()
        self._feeding: anyio.CancelScope | None = None
        #: How the items failed once the call had stopped (being cancelled, say).
        self.late_failure: BaseException | None = None
        self.left = 1  # not known to have run out

    @property
    def started(self) -> int:
        return len(self._inputs)

    def begin(self, runner: Runner, sink: Sink, wakeup: Wakeup) -> None:
        self._source_failed = cast("_SourceSink", sink).source_failed
        super().begin(runner, sink, wakeup)

    def position(self, slot: int) -> int:
        return cast("SlotInputs", self._inputs).positions[slot]

    def release(self, slot: int) -> None:
        self._free.append(slot)
        self.start_more()

    def start_more(self) -> None:
        if not self._free or self._starting or self._stopped or not self.left:
            return
        if self.by_task:
            self._hungry.wake()
            return
        self._starting = True
        started = self.started
        try:
            while self.left and self._free and not self._stopped and self._gates_allow():
                self._pull(cast("Iterator[Any]", self._items))
        finally:
            self._starting = False
        if self._gates and self.started > started:
            self._time_may_have_moved()

    def wake_at(self) -> float:
        return math.inf if self.by_task else super().wake_at()  # feed() keeps its own time

    def stop(self) -> None:
        super().stop()
        if self._feeding is not None:
            self._feeding.cancel()
        self._hungry.wake()

    def positions(self) -> list[int]:
        free = set(self._free)
        return [slot for slot in range(len(self._results)) if slot not in free]

    def unfinished(self, results: Results) -> int:
        return self.running

    async def feed(self) -> None:
        """Pull async items into free slots as turns come, until they run out or we stop."""
        items = cast("AsyncIterator[Any]", self._items)
        with anyio.CancelScope() as self._feeding:
            while self.left and not self._stopped:
                if self._free and self._gates_allow():
                    await self._pull_next(items)
                else:
                    await self._wait_for_a_turn()

    async def _wait_for_a_turn(self) -> None:
        wake_at = super().wake_at()
        if wake_at == math.inf:
            await self._hungry.sleep()
            return
        with anyio.CancelScope(deadline=wake_at) as timer:
            await self._hungry.sleep()
        if timer.cancelled_caught:
            self.on_time(self._backend.current_time())

    def _pull(self, items: Iterator[Any]) -> None:
        try:
            item = next(items)
        except StopIteration:
            self._ran_out()
            return
        except BaseException as exc:  # maybe in a callback: nothing may escape
            failure = exc
        else:
            self._start_item(item)
            return
        self._fail(failure)

    async def _pull_next(self, items: AsyncIterator[Any]) -> None:
        try:
            item = await anext(items)
        except StopAsyncIteration:
            self._ran_out()
            return
        except self._backend.cancelled:  # stopped: feed()'s scope catches it
            raise
        except BaseException as exc:
            failure = exc
        else:
            self._start_item(item)
            return
        self._fail(failure)

    def _ran_out(self) -> None:
        self.left = 0
        assert self._runner is not None
        self._runner.all_started()
        if not self.running and self._wakeup is not None:
            self._wakeup.wake()  # the engine may be waiting for a result that will not come

    def _fail(self, failure: BaseException) -> None:
        # Reported outside the except block, as the adapters report failures.
        assert self._source_failed is not None
        try:
            if not self._stopped:
                self._source_failed(failure)
            elif self.late_failure is None:
                self.late_failure = failure
        finally:
            del failure  # let go

    def _start_item(self, item: Any) -> None:
        inputs = cast("SlotInputs", self._inputs)
        slot = self._free.pop()
        position = inputs.pulled
        inputs.pulled += 1
        if position == 0:
            self._begin_gates()
        inputs.positions[slot] = position
        inputs.items[slot] = cast("Item", self._fn)  # named so if it fails to make an input
        self._results.status[slot] = PENDING
        self.running += 1
        try:
            aw = self._fn(item)
        except BaseException as exc:  # maybe in a callback: nothing may escape
            failure = exc
        else:
            del item  # let go
            if inspect.isawaitable(aw):
                inputs.items[slot] = aw
                assert self._runner is not None
                self._runner.start(slot, aw)
                return
            failure = TypeError(
                f"fn ({describe(self._fn)}) returned {type(aw).__name__} for item "
                f"{position}, which is not awaitable; fn must be an async function"
            )
        assert self._sink is not None
        try:
            self._sink.input_raised(slot, failure)
        finally:
            del failure  # let go
