"""``python -m multi_await``: one input fails while two others are still working.

Shows what plain :func:`asyncio.gather` does with that, then what
:func:`multi_await.gather_or_abort` does, on asyncio and on Trio.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from multi_await import gather_or_abort

Gather = Callable[..., Awaitable[Any]]


class Story:
    """Prints numbered lines and tracks which downloads are still running."""

    def __init__(self) -> None:
        self.running: set[str] = set()
        self.quiet = False
        self._line = 0

    def say(self, text: str) -> None:
        if self.quiet:
            return
        self._line += 1
        print(f"  {self._line}. {text}")

    async def download(self, name: str) -> str:
        self.running.add(name)
        try:
            await anyio.sleep(3600)
            return name
        finally:
            with anyio.CancelScope(shield=True):
                self.say(f"{name}: cancelled, flushing its file ...")
                await anyio.sleep(0.05)
                self.say(f"{name}: cleanup finished")
            self.running.discard(name)

    async def broken(self) -> None:
        await anyio.sleep(0.01)
        self.say("checksum: raises RuntimeError('bad checksum')")
        raise RuntimeError("bad checksum")

    async def run(self, gather: Gather) -> None:
        try:
            await gather(self.download("download-a"), self.broken(), self.download("download-b"))
        except RuntimeError as exc:
            left = ", ".join(sorted(self.running)) or "nothing"
            self.say(f"caller: except RuntimeError({str(exc)!r}); still running: {left}")


async def plain_asyncio_gather() -> None:
    story = Story()
    await story.run(asyncio.gather)
    story.quiet = True  # the demo itself stops the orphans, silently
    orphans = asyncio.all_tasks() - {asyncio.current_task()}
    for task in orphans:
        task.cancel()
    await asyncio.wait(orphans)


async def with_multi_await() -> None:
    await Story().run(gather_or_abort)


def main() -> None:
    print("Three inputs: two downloads that take an hour, and a checksum that fails.\n")
    print("asyncio.gather:")
    asyncio.run(plain_asyncio_gather())
    print("  -> the caller moved on; nothing will ever cancel the two downloads.\n")

    print("multi_await.gather_or_abort on asyncio:")
    anyio.run(with_multi_await, backend="asyncio")
    print("  -> both downloads were cancelled and finished their cleanup first.\n")

    if importlib.util.find_spec("trio") is None:
        print("multi_await.gather_or_abort on Trio: skipped (pip install 'multi-await[trio]').")
        return
    print("multi_await.gather_or_abort on Trio:")
    anyio.run(with_multi_await, backend="trio")
    print("  -> the same, on Trio.")


if __name__ == "__main__":
    main()
