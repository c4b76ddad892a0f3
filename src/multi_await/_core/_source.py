"""Inputs pulled lazily from a source, for ``map_or_abort``: memory by the window.

The inputs of a map are ``fn(item)`` for each item of an iterable or an async
iterable, which may hold more items than memory does. So they are not laid out by
position: the call has a window of *slots*, as many as may be ahead of the results
the caller has taken. An input runs in a free slot and keeps it, result included,
until the caller takes that result (:meth:`Source.release`); then the slot takes the
next item. The engine and the runner know each input by its slot; messages name it
by its position among the items.

A sync iterable is pulled wherever a slot frees (in a done callback too); an async
one only by the engine's own task, while it waits (:meth:`Feed.wait`), never from a
callback. The source is never pulled again once the call stops.
"""

from __future__ import annotations

import inspect
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Sequence,
)
from typing import TYPE_CHECKING, Any, Protocol, cast

import anyio

from ._inputs import AWAITABLE, Inputs, Item, close_coroutines, describe
from ._results import PENDING, Results
from ._turns import Turns
from ._verdict import attach_secondary_errors

if TYPE_CHECKING:
    from .._adapters._protocols import Backend, Runner, Sink
    from ._options import Options
    from ._wakeup import Wakeup


class _SourceSink(Protocol):
    def source_failed(self, error: BaseException) -> None: ...


class Source:
    """What ``map_or_abort`` was given, checked: *fn*, and *items* not pulled yet.

    Raises ``TypeError`` if *fn* is not callable or *items* is not iterable, after
    closing either if it is a coroutine object.
    """

    __slots__ = ("_feed", "_fn", "_items", "_window")

    def __init__(
        self, fn: Callable[[Any], Any], items: Iterable[Any] | AsyncIterable[Any], window: int
    ) -> None:
        try:
            if not callable(fn):
                raise TypeError(f"fn must be an async function of one item, not {describe(fn)}")
            self._items = _iterator(items)
        except TypeError:
            close_coroutines([fn, items])
            raise
        self._fn = fn
        self._window = window
        self._feed: Feed | None = None

    def plan(
        self, aws: Sequence[object], options: Options, backend: Backend
    ) -> tuple[Inputs, Turns, Results]:
        """The engine's plan (see :data:`~._turns.Plan`): slots to pull the items into."""
        inputs = SlotInputs(self._window)
        results = Results(self._window)
        self._feed = Feed(self._fn, self._items, inputs, results, options, backend)
        return inputs, self._feed, results

    def position(self, slot: int) -> int:
        """The position among the items of the input that runs, or ran, in *slot*."""
        assert self._feed is not None
        return self._feed.position(slot)

    def release(self, slot: int) -> None:
        """The caller took the result in *slot*: it is free for the next item."""
        assert self._feed is not None
        self._feed.release(slot)

    async def close(self, error: BaseException | None) -> None:
        """Close the items if they are a generator, sync or async, whatever happens.

        A failure to close is raised, or attached to *error*, the exception that
        leaves the call, if there is one. Other iterators belong to the caller (a
        channel, a file) and are left open.
        """
        items = self._items
        try:
            if inspect.isasyncgen(items):
                with anyio.CancelScope(shield=True):
                    await items.aclose()
            elif inspect.isgenerator(items):
                items.close()
        except Exception as exc:
            if error is None:
                raise
            attach_secondary_errors(error, [exc], ["the items' generator"])
        finally:
            del error  # let go


def _iterator(items: Iterable[Any] | AsyncIterable[Any]) -> Iterator[Any] | AsyncIterator[Any]:
    # Whatever a type checker was told: bad input is refused at run time too.
    try:
        if isinstance(items, AsyncIterable):
            return aiter(items)
        return iter(items)
    except TypeError as exc:
        raise TypeError(
            f"items must be an iterable or an async iterable, not {describe(items)}"
        ) from exc


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

    ``left`` is 1 until the items run out. The gates are those of the options
    (``max_per_second``); the window's own limit is the free slots.
    """

    __slots__ = ("_by_task", "_fn", "_free", "_items", "_results", "_source_failed")

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
        #: Whether the items are async, so that only the engine's task may pull them.
        self._by_task = isinstance(items, AsyncIterator)
        self._results = results
        self._free = list(reversed(range(len(results))))  # slot 0 first
        self._source_failed: Callable[[BaseException], None] | None = None
        self.left = 1  # not known to have run out

    @property
    def started(self) -> int:
        return len(self._inputs)

    @property
    def pull_due(self) -> bool:
        return (
            self._by_task
            and bool(self.left and self._free)
            and not self._stopped
            and self._gates_allow()
        )

    def begin(self, runner: Runner, sink: Sink, now: float) -> None:
        self._source_failed = cast("_SourceSink", sink).source_failed
        super().begin(runner, sink, now)

    def position(self, slot: int) -> int:
        return cast("SlotInputs", self._inputs).positions[slot]

    def release(self, slot: int) -> None:
        self._free.append(slot)
        self.start_more()

    def start_more(self) -> None:
        if not self._free or self._starting or self._stopped or not self.left:
            return
        if self._by_task:
            if self.pull_due and self._sleeper is not None:
                self._sleeper.wake()
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

    def wait(self, wakeup: Wakeup) -> Awaitable[None]:
        self._sleeper = wakeup
        if self.pull_due:
            return self._pull_next(cast("AsyncIterator[Any]", self._items))
        return wakeup.sleep()

    def positions(self) -> list[int]:
        free = set(self._free)
        return [slot for slot in range(len(self._results)) if slot not in free]

    def unfinished(self, results: Results) -> int:
        return self.running

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
        except (GeneratorExit, self._backend.cancelled):  # the engine's to handle
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

    def _fail(self, failure: BaseException) -> None:
        # Reported outside the except block, as the adapters report failures.
        assert self._source_failed is not None
        try:
            self._source_failed(failure)
        finally:
            del failure  # let go

    def _start_item(self, item: Any) -> None:
        inputs = cast("SlotInputs", self._inputs)
        slot = self._free.pop()
        position = inputs.pulled
        inputs.pulled += 1
        if position == 0:  # the pace counts from the first start
            for gate in self._gates:
                gate.begin(self._backend.current_time())
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
