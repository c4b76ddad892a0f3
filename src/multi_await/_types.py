"""Type aliases shared by the public signatures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
T1 = TypeVar("T1")
T2 = TypeVar("T2")
T3 = TypeVar("T3")
T4 = TypeVar("T4")
T5 = TypeVar("T5")
T6 = TypeVar("T6")

#: What every primitive accepts: an awaitable (a coroutine object, an
#: :class:`asyncio.Task`, any object with ``__await__``) or an async callable that
#: takes no arguments (the Trio convention).
Input = Awaitable[T] | Callable[[], Awaitable[T]]
