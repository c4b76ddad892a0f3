"""Inputs that record what happened to them, written once for every backend."""

from __future__ import annotations

import anyio
import anyio.lowlevel


class Probe:
    """Hands out inputs and remembers which started, finished and cleaned up."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self.cleaning: list[str] = []
        self.cleaned: list[str] = []
        self.completed: list[str] = []

    @property
    def all_finished(self) -> bool:
        return sorted(self.started) == sorted(self.finished)

    async def until_cleaning(self, name: str) -> None:
        """Return once input *name* has begun its cleanup (within a bounded wait)."""
        for _ in range(1000):
            if name in self.cleaning:
                return
            await anyio.lowlevel.checkpoint()
        raise AssertionError(f"{name} never began its cleanup")

    async def returns(self, name: str, value: object = None, checkpoints: int = 0) -> object:
        self.started.append(name)
        try:
            for _ in range(checkpoints):
                await anyio.lowlevel.checkpoint()
            self.completed.append(name)
            return value
        finally:
            self.finished.append(name)

    async def fails(self, name: str, error: BaseException, checkpoints: int = 0) -> None:
        self.started.append(name)
        try:
            for _ in range(checkpoints):
                await anyio.lowlevel.checkpoint()
            raise error
        finally:
            self.finished.append(name)

    async def sleeps(
        self,
        name: str,
        *,
        cleanup_checkpoints: int = 3,
        cleanup_error: BaseException | None = None,
    ) -> None:
        """Sleep forever; when cancelled, await in a shielded cleanup, then maybe fail."""
        self.started.append(name)
        try:
            await anyio.sleep_forever()
        finally:
            self.cleaning.append(name)
            with anyio.CancelScope(shield=True):
                for _ in range(cleanup_checkpoints):
                    await anyio.lowlevel.checkpoint()
            self.cleaned.append(name)
            self.finished.append(name)
            if cleanup_error is not None:
                raise cleanup_error
