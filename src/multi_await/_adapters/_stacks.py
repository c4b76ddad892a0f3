"""Where a suspended coroutine is: the chain of frames it is awaiting through."""

from __future__ import annotations

import traceback
from types import FrameType

#: What ``where()`` says of an input known only through its AnyIO task handle.
THROUGH_HANDLE = "  (it is watched through its task handle)\n"


def await_stack(coro: object) -> str:
    """The frames of *coro* and of what it awaits, outermost first, as a traceback."""
    frames: list[tuple[FrameType, int]] = []
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is None:
            break
        frames.append((frame, frame.f_lineno))
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    if not frames:
        return "  (no frame to show: it is not a suspended coroutine)\n"
    return "".join(traceback.StackSummary.extract(frames).format())
