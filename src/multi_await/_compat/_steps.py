"""The multi-await 1.x form of ``as_completed_or_abort``: ``for aw in ...: await aw``."""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Steps(Generic[T]):
    """The iterator of the 1.x form: *count* steps, fewer once *over* says so.

    Each step awaits *step*, which gives the next value in completion order.
    """

    __slots__ = ("_left", "_over", "_step")

    def __init__(
        self, step: Callable[[], Coroutine[Any, Any, T]], count: int, over: Callable[[], bool]
    ) -> None:
        self._step = step
        self._left = count
        self._over = over

    def __iter__(self) -> Steps[T]:
        return self

    def __next__(self) -> Awaitable[T]:
        if not self._left or self._over():
            raise StopIteration
        self._left -= 1
        return Step(weakref.WeakMethod(self._step))


class Step(Generic[T]):
    """One step of the 1.x form.

    Not a coroutine, so a step never awaited does not warn; and it holds the
    iteration only weakly, so that a step left in a variable after ``break`` does
    not keep the remaining inputs from being cancelled.
    """

    __slots__ = ("_step",)

    def __init__(self, step: weakref.WeakMethod[Callable[[], Coroutine[Any, Any, T]]]) -> None:
        self._step = step

    def __await__(self) -> Generator[Any, Any, T]:
        step = self._step()
        if step is None:
            raise RuntimeError("the loop this step came from was already left")
        return step().__await__()
