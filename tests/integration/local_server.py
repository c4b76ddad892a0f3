"""A small HTTP/1.1 server on 127.0.0.1, in a thread of its own, for real clients to call.

It runs its own asyncio event loop in its own thread, so it answers whatever the test
itself runs on (asyncio, uvloop, Trio) and whether the test is async or not. It
records what it sees, behind a lock: the requests it received, those it answered,
and those whose client went away before the answer (``abandoned``), which is how a
test sees that a cancelled request really closed its connection.

Each URL ends with a name the test chooses, so a test asks about its own requests:

- ``/fast/NAME``: answers at once, the body being NAME;
- ``/delay/SECONDS/NAME``: answers after SECONDS, unless the client leaves first;
- ``/hang/NAME``: never answers; waits until the client goes away;
- ``/reset/NAME``: sends the head and part of the body, then resets the connection;
- ``/status/CODE/NAME``: answers at once with status CODE.

``refused_url`` points at a port that is bound but not listening: connecting to it
is refused, and no other program can take the port meanwhile.

The server stops when its ``with`` block ends, or by itself after ``lifetime``
seconds. Run ``python -m tests.integration.local_server`` from the repository root
to serve by hand (for the scripts in examples/): it prints its base URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any

import anyio

#: How long a test waits for the server to see something before failing.
OBSERVE_SECONDS = 10.0


@dataclass
class Record:
    """What the server saw, by request name."""

    received: list[str] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    open_connections: int = 0
    errors: list[str] = field(default_factory=list)


class LocalServer:
    """Serves on an ephemeral port of 127.0.0.1 while its ``with`` block runs."""

    def __init__(self, lifetime: float = 120.0) -> None:
        self._lifetime = lifetime
        self._changed = threading.Condition()
        self._record = Record()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="local-http-server", daemon=True)
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._closed_port = socket.socket()
        self._closed_port.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.refused_url = f"http://127.0.0.1:{self._closed_port.getsockname()[1]}/refused"

    # -- URLs ----------------------------------------------------------------------

    def fast(self, name: str) -> str:
        return f"{self.base_url}/fast/{name}"

    def delayed(self, name: str, seconds: float) -> str:
        return f"{self.base_url}/delay/{seconds}/{name}"

    def hanging(self, name: str) -> str:
        return f"{self.base_url}/hang/{name}"

    def resetting(self, name: str) -> str:
        return f"{self.base_url}/reset/{name}"

    def status(self, name: str, code: int) -> str:
        return f"{self.base_url}/status/{code}/{name}"

    # -- what the server saw ---------------------------------------------------------

    def snapshot(self) -> Record:
        with self._changed:
            record = self._record
            return Record(
                list(record.received),
                list(record.answered),
                list(record.abandoned),
                record.open_connections,
                list(record.errors),
            )

    async def observe(self, what: str, check: Callable[[Record], bool]) -> Record:
        """Poll until *check* holds for the record (at most OBSERVE_SECONDS), from async code."""
        deadline = time.monotonic() + OBSERVE_SECONDS
        while not check(record := self.snapshot()):
            if time.monotonic() > deadline:
                raise AssertionError(f"the server never saw {what}: {record}")
            await anyio.sleep(0.01)
        return record

    def observe_blocking(self, what: str, check: Callable[[Record], bool]) -> Record:
        """:meth:`observe`, for code that is not async."""
        with self._changed:
            if not self._changed.wait_for(lambda: check(self._record), OBSERVE_SECONDS):
                raise AssertionError(f"the server never saw {what}: {self._record}")
        return self.snapshot()

    async def received(self, *names: str) -> Record:
        return await self.observe(
            f"requests {names}", lambda record: set(names) <= set(record.received)
        )

    async def abandoned(self, *names: str) -> Record:
        """Wait until the clients of requests *names* went away before their answer."""
        return await self.observe(
            f"the clients of {names} go away", lambda record: set(names) <= set(record.abandoned)
        )

    async def all_closed(self) -> Record:
        return await self.observe(
            "every connection closed", lambda record: record.open_connections == 0
        )

    # -- start and stop --------------------------------------------------------------

    def __enter__(self) -> LocalServer:
        self._thread.start()
        if not self._ready.wait(OBSERVE_SECONDS):
            raise RuntimeError("the local HTTP server did not start")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already stopped by itself
                loop.call_soon_threadsafe(stop.set)
        self._thread.join(OBSERVE_SECONDS)
        self._closed_port.close()
        if self._thread.is_alive():
            raise RuntimeError("the local HTTP server did not stop")

    def join(self) -> None:
        """Wait until the server stops by itself."""
        self._thread.join()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(self._loop_error)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:
            self._note("errors", f"server stopped: {exc!r}")
        finally:
            loop.close()
            self._listener.close()
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        handlers: set[asyncio.Task[None]] = set()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            handlers.add(task)
            try:
                await self._connection(reader, writer)
            except asyncio.CancelledError:
                # The server is stopping. Ending cancelled would make some Pythons'
                # streams (3.12.1) report the CancelledError to the loop's handler.
                pass
            finally:
                handlers.discard(task)

        server = await asyncio.start_server(connection, sock=self._listener)
        self._ready.set()
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._lifetime)
        finally:
            server.close()
            for handler in list(handlers):
                handler.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
            await server.wait_closed()

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self._note("errors", f"{context.get('message')}: {context.get('exception')!r}")

    def _note(self, kind: str, entry: str) -> None:
        """Append *entry* to the record's list *kind*."""
        with self._changed:
            getattr(self._record, kind).append(entry)
            self._changed.notify_all()

    def _count_connections(self, change: int) -> None:
        with self._changed:
            self._record.open_connections += change
            self._changed.notify_all()

    # -- HTTP --------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._count_connections(+1)
        try:
            while await self._exchange(reader, writer):
                pass
        except ConnectionError:
            pass  # the client reset the connection
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            self._count_connections(-1)

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read one request and answer it; False once the connection is done."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False  # the client closed its idle connection
        _, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        parts = target.strip("/").split("/")
        name = parts[-1]
        self._note("received", name)
        kind, args = parts[0], parts[1:-1]
        if kind == "fast":
            return await self._answer(writer, name, 200)
        if kind == "status":
            return await self._answer(writer, name, int(args[0]))
        if kind == "delay":
            if await self._client_leaves(reader, float(args[0])):
                return self._abandon(name)
            return await self._answer(writer, name, 200)
        if kind == "hang":
            await self._client_leaves(reader, None)
            return self._abandon(name)
        if kind == "reset":
            await self._reset(writer)
            return False
        return await self._answer(writer, name, 404)

    async def _client_leaves(self, reader: asyncio.StreamReader, seconds: float | None) -> bool:
        """Whether the client closes or resets the connection within *seconds* (None: ever)."""
        try:
            sent = await asyncio.wait_for(reader.read(1), seconds)
        except asyncio.TimeoutError:
            return False
        except ConnectionError:
            return True
        return sent == b""

    def _abandon(self, name: str) -> bool:
        self._note("abandoned", name)
        return False

    async def _answer(self, writer: asyncio.StreamWriter, name: str, code: int) -> bool:
        body = name.encode()
        writer.write(
            f"HTTP/1.1 {code} {HTTPStatus(code).phrase}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        self._note("answered", name)
        return True

    async def _reset(self, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
        await writer.drain()
        # SO_LINGER with a zero timeout turns close() into a reset (RST).
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()


@contextlib.contextmanager
def serving(lifetime: float = 120.0) -> Iterator[LocalServer]:
    """A running LocalServer; on the way out, fail if the server itself had errors."""
    with LocalServer(lifetime) as server:
        yield server
    errors = server.snapshot().errors
    assert not errors, f"the local HTTP server failed: {errors}"


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 600.0
    with serving(seconds) as server:
        print(server.base_url, flush=True)
        print(f"(refused: {server.refused_url}; stopping after {seconds:g} s)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.join()
