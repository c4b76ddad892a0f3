"""Inputs pulled lazily from a source, for ``map_or_abort``: memory by the window.

The inputs of a map are ``fn(item)`` for each item of an iterable or an async
iterable, which may hold more items than memory does. So they are not laid out by
position: the call has a window of *slots*, as many as may be ahead of the results
the caller has taken. An input runs in a free slot and keeps it, result included,
until the caller takes that result (:meth:`Source.release`); then the slot takes the
next item. The engine and the runner know each input by its slot; messages name it
by its position among the items.

Who pulls the items, and when, is :class:`~._feed.Feed`'s business.
"""

from __future__ import annotations

import inspect
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Sequence,
)
from typing import TYPE_CHECKING, Any

import anyio

from ._feed import Feed, SlotInputs
from ._inputs import Inputs, close_coroutines, describe
from ._results import Results
from ._verdict import attach_secondary_errors

if TYPE_CHECKING:
    from .._adapters._protocols import Backend
    from ._options import Options
    from ._turns import Turns


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

    def feeder(self) -> Callable[[], Coroutine[Any, Any, None]] | None:
        """What a task of its own must run to pull async items; ``None`` if sync."""
        assert self._feed is not None
        return self._feed.feed if self._feed.by_task else None

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

        A failure of the items after the call stopped, or to close them, is raised,
        or attached to *error*, the exception that leaves the call, if there is one.
        Other iterators belong to the caller (a channel, a file) and are left open.
        """
        items, failures = self._items, list[BaseException]()
        try:
            if inspect.isasyncgen(items):
                with anyio.CancelScope(shield=True):
                    await items.aclose()
            elif inspect.isgenerator(items):
                items.close()
        except Exception as exc:
            failures.append(exc)
        if self._feed is not None and self._feed.late_failure is not None:
            failures.insert(0, self._feed.late_failure)
            self._feed.late_failure = None
        primary = error
        if primary is None and failures:
            primary, *failures = failures
        try:
            if primary is not None and failures:
                attach_secondary_errors(primary, failures, ["the items"] * len(failures))
            if primary is not None and primary is not error:
                raise primary
        finally:
            del error, primary, failures  # let go


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
