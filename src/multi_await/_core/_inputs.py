"""What the caller passed: checked, classified once, before anything starts."""

from __future__ import annotations

import inspect
import operator
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from types import CoroutineType
from typing import Any, cast

from .._adapters._protocols import Backend
from .._adapters._task_handles import is_task_handle
from ._verdict import cancelled_elsewhere, input_timed_out

ACCEPTED = "a coroutine, an awaitable or an async function taking no arguments"

#: The type of the coroutine objects ``async def`` functions return, as the
#: adapters' start loops test for it (``type(aw) is COROUTINE``).
COROUTINE: type[Coroutine[Any, Any, Any]] = CoroutineType

_ONLY_COROUTINES = {COROUTINE}

#: The kinds of input, recorded once by :func:`prepare`: an awaitable of ours to run
#: (a coroutine object, most often), an async callable to call when its turn comes,
#: and a task already running elsewhere (an asyncio task or future, a task handle).
AWAITABLE, CALLABLE, ELSEWHERE = range(3)

Item = Awaitable[Any] | Callable[[], Any]


class Inputs:
    """The inputs of one call by position, each with its kind."""

    __slots__ = ("items", "kinds")

    def __init__(self, items: list[Item], kinds: bytearray) -> None:
        #: What runs (or is called) for each position.
        self.items = items
        #: :data:`AWAITABLE`, :data:`CALLABLE` or :data:`ELSEWHERE`, by position.
        self.kinds = kinds

    def __len__(self) -> int:
        return len(self.items)

    def describe(self, index: int) -> str:
        """What input *index* is, in a few words."""
        return describe(self.items[index])

    def name(self, index: int) -> str:
        """How messages name input *index*."""
        return f"input {index} ({describe(self.items[index])})"

    def cancelled_alone(
        self, index: int, cause: BaseException | None, *, time_limit: float | None
    ) -> Exception:
        """The failure of input *index*, cancelled alone, with no abort going on.

        With a *time_limit*, we cancelled it when that passed; else something else did.
        """
        if time_limit is not None:
            return input_timed_out(self.name(index), time_limit)
        return cancelled_elsewhere(index, self.describe(index), cause)

    def close_from(self, start: int) -> None:
        """Close the coroutine objects from position *start* on: they will never run."""
        close_coroutines(self.items[start:])

    def elsewhere_from(self, start: int) -> list[int]:
        """The positions from *start* on of tasks running elsewhere."""
        kinds = self.kinds
        return [index for index in range(start, len(kinds)) if kinds[index] == ELSEWHERE]

    def finished_elsewhere(self, index: int) -> bool:
        """Whether input *index*, a task running elsewhere, has finished by now."""
        return bool(already_finished(self.items[index]))

    def let_go(self) -> None:
        """Hold no input any more (see "Letting go" in :mod:`multi_await._core`)."""
        self.items = []


def describe(obj: object) -> str:
    """A short name for *obj* in messages: a task's name, a coroutine's qualname."""
    get_name = getattr(obj, "get_name", None)
    if callable(get_name):
        name = f"{type(obj).__name__} {get_name()!r}"
        # get_coro() of a finished eager task crashes some CPython 3.12 releases.
        if not obj.done():  # type: ignore[attr-defined]
            name += f" running {getattr(obj.get_coro(), '__qualname__', '?')}"  # type: ignore[attr-defined]
        return name
    qualname = getattr(obj, "__qualname__", None)
    if isinstance(qualname, str):
        return f"{type(obj).__name__} {qualname}"
    return type(obj).__name__


def close_coroutines(objects: Iterable[object]) -> None:
    """Close the coroutine objects among *objects*, so none warns of never being awaited."""
    for obj in objects:
        if inspect.iscoroutine(obj):
            obj.close()


def prepare(aws: Iterable[object], backend: Backend, *, call: bool = True) -> Inputs:
    """Check and classify every input, then call the async callables, before anything starts.

    Every input is checked before any callable is called: a callable is called only
    once nothing can refuse the call any more but what it returns. With
    ``call=False`` callables are only checked to be callable: they will be called
    when their input starts (see :func:`awaitable_of`), or never.

    Raises ``TypeError`` naming the position and the type of the first bad input,
    after closing every coroutine object it was given or made, so that no
    "coroutine was never awaited" warning follows.
    """
    given = list(aws)
    if (
        set(map(type, given)) == _ONLY_COROUTINES
        and len(set(given)) == len(given)
        and None not in map(_FRAME, given)  # none spent: awaited or closed
    ):
        return Inputs(given, bytearray(len(given)))  # type: ignore[arg-type]  # checked in C
    items: list[Item] = []
    try:
        kinds = bytearray(_kind(index, obj, backend) for index, obj in enumerate(given))
        items = cast("list[Item]", given.copy())
        if call:
            _call_callables(items, kinds, backend)
        _refuse_repeats(given, items, kinds)
    except BaseException:
        close_coroutines(given)
        close_coroutines(items)
        raise
    return Inputs(items, kinds)


#: A coroutine's frame, ``None`` once it has finished or was closed.
_FRAME = operator.attrgetter("cr_frame")


def _kind(index: int, obj: object, backend: Backend) -> int:
    """The kind of input *obj* is, at position *index*; ``TypeError`` if it is none."""
    if inspect.isawaitable(obj):
        backend.check(index, _fresh(obj, lambda: f"input {index} ({describe(obj)}) is"))
        return AWAITABLE if already_finished(obj) is None else ELSEWHERE
    if callable(obj):
        return CALLABLE
    raise TypeError(f"input {index} is {type(obj).__name__}; expected {ACCEPTED}")


def _call_callables(items: list[Item], kinds: bytearray, backend: Backend) -> None:
    """Replace each async callable among *items* by the awaitable calling it gives."""
    for index, kind in enumerate(kinds):
        if kind == CALLABLE:
            items[index] = aw = awaitable_of(index, items[index], backend)
            kinds[index] = AWAITABLE if already_finished(aw) is None else ELSEWHERE


def _refuse_repeats(given: list[object], items: list[Item], kinds: bytearray) -> None:
    """Refuse an awaitable reached twice, given or returned: say what it is.

    Callables waiting for their turn are not checked: they may repeat.
    """
    awaitables = [(index, aw) for index, aw in enumerate(items) if kinds[index] != CALLABLE]
    if len({id(aw) for _, aw in awaitables}) == len(awaitables):
        return
    first_index: dict[int, int] = {}
    for index, aw in awaitables:
        first = first_index.setdefault(id(aw), index)
        if first == index:
            continue
        gives = "is" if given[index] is aw else "gives, when called,"
        if inspect.iscoroutine(aw):
            raise TypeError(
                f"input {index} {gives} the same coroutine object ({describe(aw)}) as input "
                f"{first}; a coroutine can be awaited only once"
            )
        raise TypeError(
            f"input {index} {gives} the same {describe(aw)} as input {first}; give each input once"
        )


def awaitable_of(index: int, obj: object, backend: Backend) -> Awaitable[Any]:
    """*obj* if awaitable, else what calling it returns; checked for *backend*.

    Raises ``TypeError`` naming input *index* when that is not awaitable there.
    """
    aw = _awaitable(index, obj)
    backend.check(index, aw)
    return aw


def _awaitable(index: int, obj: object) -> Awaitable[Any]:
    if inspect.isawaitable(obj):
        return _fresh(obj, lambda: f"input {index} ({describe(obj)}) is")
    if callable(obj):
        try:
            made = obj()
        except TypeError as exc:
            raise TypeError(
                f"input {index}: calling {describe(obj)} raised {exc!r}; expected {ACCEPTED}"
            ) from exc
        if inspect.isawaitable(made):
            return _fresh(made, lambda: f"input {index}: calling {describe(obj)} returned")
        close_coroutines([made])
        raise TypeError(
            f"input {index}: calling {describe(obj)} returned "
            f"{type(made).__name__}, which is not awaitable; expected {ACCEPTED}"
        )
    raise TypeError(f"input {index} is {type(obj).__name__}; expected {ACCEPTED}")


def _fresh(aw: Awaitable[Any], what: Callable[[], str]) -> Awaitable[Any]:
    """*aw*, unless it is a coroutine already awaited or closed: *what* says it was."""
    if inspect.iscoroutine(aw) and _FRAME(aw) is None:
        raise TypeError(
            f"{what()} a coroutine that was already awaited or closed; a coroutine can be "
            "awaited only once: pass a new one"
        )
    return aw


def already_finished(obj: object) -> bool | None:
    """Whether a task already running elsewhere has finished; ``None`` if not a task.

    Knows :class:`asyncio.Future` and its kin (anything with ``done()``) and AnyIO
    task handles.
    """
    if is_task_handle(obj):
        return obj.status.name in ("FINISHED", "FAILED", "CANCELLED")
    done = getattr(obj, "done", None)
    if callable(done) and inspect.isawaitable(obj):
        return bool(done())
    return None
