"""Turning what the caller passed into awaitables, checked before anything starts."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from types import CoroutineType
from typing import Any, cast

from ._protocols import Backend
from ._task_handles import is_task_handle

ACCEPTED = "a coroutine, an awaitable or an async function taking no arguments"

#: The type of the coroutine objects ``async def`` functions return, as the
#: adapters' start loops test for it (``type(aw) is COROUTINE``).
COROUTINE: type[Coroutine[Any, Any, Any]] = CoroutineType

_ONLY_COROUTINES = {COROUTINE}


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


def prepare(
    aws: Iterable[object], backend: Backend, *, call: bool = True
) -> list[Awaitable[Any] | Callable[[], Any]]:
    """Check every input and call the async callables, before anything starts.

    With ``call=False`` callables are only checked to be callable: they will be
    called when their input starts (see :func:`awaitable_of`), or never.

    Raises ``TypeError`` naming the position and the type of the first bad input,
    after closing every coroutine object it was given or made, so that no
    "coroutine was never awaited" warning follows.
    """
    given = list(aws)
    if set(map(type, given)) == _ONLY_COROUTINES and len(set(given)) == len(given):
        return given  # type: ignore[return-value]  # the common case, checked in C
    prepared: list[Awaitable[Any] | Callable[[], Any]] = []
    try:
        for index, obj in enumerate(given):
            if type(obj) is COROUTINE:  # the common case, checked cheaply
                prepared.append(obj)
            elif not call and callable(obj) and not inspect.isawaitable(obj):
                prepared.append(cast("Callable[[], Any]", obj))
            else:
                prepared.append(awaitable_of(index, obj, backend))
        _refuse_repeats(prepared)
    except BaseException:
        close_coroutines(given)
        close_coroutines(prepared)
        raise
    return prepared


def _refuse_repeats(prepared: list[Awaitable[Any] | Callable[[], Any]]) -> None:
    """An awaitable can be awaited once: refuse one reached twice, given or returned.

    Callables waiting for their turn are not checked: they may repeat.
    """
    awaitables: list[tuple[int, object]] = [
        (index, aw)
        for index, aw in enumerate(prepared)
        if type(aw) is COROUTINE or not callable(aw)
    ]
    if len({id(aw) for _, aw in awaitables}) == len(awaitables):
        return
    first_index: dict[int, int] = {}
    for index, aw in awaitables:
        first = first_index.setdefault(id(aw), index)
        if first != index:
            raise TypeError(
                f"input {index} is, or gives, the same {describe(aw)} object as input "
                f"{first}; an awaitable can be awaited only once"
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
        return obj
    if callable(obj):
        try:
            made = obj()
        except TypeError as exc:
            raise TypeError(
                f"input {index}: calling {describe(obj)} raised {exc!r}; expected {ACCEPTED}"
            ) from exc
        if inspect.isawaitable(made):
            return made
        close_coroutines([made])
        raise TypeError(
            f"input {index}: calling {describe(obj)} returned "
            f"{type(made).__name__}, which is not awaitable; expected {ACCEPTED}"
        )
    raise TypeError(f"input {index} is {type(obj).__name__}; expected {ACCEPTED}")


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
