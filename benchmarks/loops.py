"""The event loops the benchmarks run on, and the few native primitives the inputs use.

Each input of a workload uses the running loop's own primitives (an :class:`asyncio.Event`
or a :class:`trio.Event`, the loop's own sleep), so that no contender pays for a
translation layer another one does not pay for.
"""

from __future__ import annotations

import asyncio
import importlib.util
import math
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio

ASYNCIO = "asyncio"
UVLOOP = "asyncio+uvloop"
#: asyncio with :func:`asyncio.eager_task_factory` (Python 3.12+): a task runs its
#: first step inside ``create_task``, and an input that needs no await ends there.
EAGER = "asyncio+eager"
TRIO = "trio"
BACKENDS = (ASYNCIO, UVLOOP, EAGER, TRIO)


@dataclass(frozen=True)
class Loop:
    """What an input or a contender needs to know about the running loop."""

    name: str

    @property
    def is_asyncio(self) -> bool:
        return self.name != TRIO

    async def checkpoint(self) -> None:
        if self.is_asyncio:
            await asyncio.sleep(0)
        else:
            import trio

            await trio.lowlevel.checkpoint()

    async def sleep_forever(self) -> None:
        if self.is_asyncio:
            await asyncio.sleep(math.inf)
        else:
            import trio

            await trio.sleep_forever()

    def event(self) -> Any:
        if self.is_asyncio:
            return asyncio.Event()
        import trio

        return trio.Event()

    def queue(self) -> tuple[Callable[[Any], None], Callable[[], Awaitable[Any]]]:
        """An unbounded queue of the loop: ``(put_nowait, get)``."""
        if self.is_asyncio:
            queue: asyncio.Queue[Any] = asyncio.Queue()
            return queue.put_nowait, queue.get
        import trio

        send, receive = trio.open_memory_channel[Any](math.inf)
        return send.send_nowait, receive.receive


def available(backend: str) -> bool:
    if backend == EAGER:
        return sys.version_info >= (3, 12)
    needs = {ASYNCIO: None, UVLOOP: "uvloop", TRIO: "trio"}[backend]
    return needs is None or importlib.util.find_spec(needs) is not None


def _eager_loop() -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    loop.set_task_factory(asyncio.eager_task_factory)  # type: ignore[attr-defined]
    return loop


def run(backend: str, main: Callable[[Loop], Awaitable[Any]]) -> Any:
    """Run ``main(loop)`` in a fresh event loop of *backend*."""
    loop = Loop(backend)
    if backend == TRIO:
        return anyio.run(main, loop, backend="trio")
    if backend == EAGER:
        options = {"loop_factory": _eager_loop}
        return anyio.run(main, loop, backend="asyncio", backend_options=options)
    return anyio.run(
        main, loop, backend="asyncio", backend_options={"use_uvloop": backend == UVLOOP}
    )
