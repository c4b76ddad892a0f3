"""The adapter layer: everything that knows which event loop library is running.

The abort engine talks to a :class:`~._protocols.Backend` and its
:class:`~._protocols.Runner`; this package picks the one for the running loop.
Neither library is imported here: an asyncio loop can run only once asyncio has been
imported, and a Trio run only once Trio has.
"""

from __future__ import annotations

import sys

from ._protocols import Backend

__all__ = ["current_backend"]


def current_backend() -> Backend:
    """The backend of the event loop running in this thread."""
    if "asyncio" in sys.modules:
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            from ._asyncio import AsyncioBackend

            return AsyncioBackend(loop)

    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_trio_token()
        except RuntimeError:
            pass
        else:
            from ._trio import TrioBackend

            return TrioBackend()
    raise RuntimeError("multi_await needs a running asyncio or Trio event loop")
