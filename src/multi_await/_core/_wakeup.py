"""Sleeping until a synchronous callback says there is news."""

from __future__ import annotations

import math
from collections.abc import Callable

import anyio
import anyio.lowlevel


class Wakeup:
    """Lets one task sleep until a callback, run by an input as it finishes, wakes it.

    One AnyIO event per sleep, so waking costs O(1) whatever is waiting.
    """

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event: anyio.Event | None = None

    async def sleep(self) -> None:
        self._event = event = anyio.Event()
        await event.wait()

    def wake(self) -> None:
        event = self._event
        if event is not None:
            self._event = None
            event.set()

    async def sleep_until(
        self,
        finished: Callable[[], bool],
        *,
        alarm_at: float = math.inf,
        on_alarm: Callable[[], object] = lambda: None,
    ) -> BaseException | None:
        """Sleep until ``finished()``, whatever happens meanwhile.

        Inputs that were asked to stop must be waited for even if the caller is
        cancelled again: returns the first such interruption instead of raising it.
        If still sleeping at the time *alarm_at*, calls *on_alarm* once, and sleeps on.
        """
        if finished():
            return None
        interruption: BaseException | None = None
        while not finished():
            try:
                # Shielded from the caller's cancellation; its own deadline is the alarm.
                with anyio.CancelScope(shield=True, deadline=alarm_at) as scope:
                    await self.sleep()
                if scope.cancelled_caught:
                    alarm_at = math.inf
                    on_alarm()
            except GeneratorExit:  # our coroutine is being closed: no await is possible
                raise
            except BaseException as exc:  # asyncio's own cancel() pierces shields
                interruption = interruption or exc
        try:  # a cancel scope cancelled meanwhile was held off by the shield: ask it now
            await anyio.lowlevel.checkpoint_if_cancelled()
        except BaseException as exc:
            interruption = interruption or exc
        try:
            return interruption
        finally:
            # Its traceback holds this frame, which must not hold it in turn.
            del interruption
