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
    """The backend of the library running the current task.

    sniffio's rule: Trio names itself in ``sniffio.thread_local`` while it runs its
    tasks, also as a guest on an asyncio host loop, where an asyncio loop is running
    in the thread as well.
    """
    sniffio = sys.modules.get("sniffio")  # Trio imports it: no Trio run without it
    if sniffio is not None and sniffio.thread_local.name == "trio":
        from ._trio import TrioBackend

        return TrioBackend()
    if "asyncio" in sys.modules:
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            from ._asyncio import AsyncioBackend

            return AsyncioBackend(loop)
    raise RuntimeError("multi_await needs a running asyncio or Trio event loop")
