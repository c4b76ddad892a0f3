"""aiohttp against the local server: a failure or a deadline closes the other requests.

aiohttp runs on asyncio only, so these tests run on the asyncio backends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import anyio
import pytest

from multi_await import as_completed_or_abort, gather_or_abort, wait_or_abort

from ..conftest import ASYNCIO_BACKENDS
from .local_server import LocalServer

pytestmark = pytest.mark.anyio


async def after_received(
    server: LocalServer, names: tuple[str, ...], request: Callable[[], Awaitable[Any]]
) -> Any:
    """Make *request* once the server has received requests *names*.

    A request that fails at once would otherwise abort the others before they
    reach the server, and there would be no connection left to see closed.
    """
    await server.received(*names)
    return await request()


async def fetch(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url) as response:
        return response.status, await response.text()


async def still_usable(session: aiohttp.ClientSession, server: LocalServer) -> None:
    assert await fetch(session, server.fast("after")) == (200, "after")


class TestAiohttp:
    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_the_articles_loop_gives_every_response_when_none_fails(
        self, server: LocalServer
    ) -> None:
        urls = [server.delayed("archive", 0.05), server.fast("localhost"), server.fast("fsf")]
        bodies = []
        async with aiohttp.ClientSession() as session:
            for task in as_completed_or_abort([asyncio.create_task(session.get(x)) for x in urls]):
                response = await task
                bodies.append(await response.text())
                assert response.status == 200
        assert sorted(bodies) == ["archive", "fsf", "localhost"]
        record = await server.all_closed()
        assert record.abandoned == []

    async def test_the_articles_loop_raises_the_refused_connection_and_closes_the_others(
        self, server: LocalServer
    ) -> None:
        async with aiohttp.ClientSession() as session:
            tasks = [
                asyncio.create_task(session.get(server.hanging("archive"))),
                asyncio.create_task(
                    after_received(
                        server, ("archive", "fsf"), lambda: session.get(server.refused_url)
                    )
                ),
                asyncio.create_task(session.get(server.hanging("fsf"))),
            ]
            with pytest.raises(aiohttp.ClientConnectorError) as caught:
                for task in as_completed_or_abort(tasks):
                    response = await task
                    await response.read()
            assert isinstance(caught.value.os_error, ConnectionRefusedError)
            assert tasks[0].cancelled()
            assert tasks[2].cancelled()
            await server.abandoned("archive", "fsf")
            await still_usable(session, server)
        record = await server.all_closed()
        assert record.answered == ["after"]

    async def test_a_reset_mid_body_raises_its_payload_error_and_closes_the_others(
        self, server: LocalServer
    ) -> None:
        async with aiohttp.ClientSession() as session:
            aws = [
                fetch(session, server.hanging("slow")),
                after_received(server, ("slow",), lambda: fetch(session, server.resetting("r"))),
            ]
            with pytest.raises(aiohttp.ClientPayloadError):
                async with as_completed_or_abort(aws) as completed:
                    async for _ in completed:
                        raise AssertionError("no request should succeed")
            await server.abandoned("slow")
            await still_usable(session, server)

    async def test_gather_raises_the_http_error_of_raise_for_status(
        self, server: LocalServer
    ) -> None:
        async def checked(url: str) -> str:
            async with session.get(url, raise_for_status=True) as response:
                return await response.text()

        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientResponseError) as caught:
                await gather_or_abort(
                    checked(server.hanging("slow")),
                    after_received(server, ("slow",), lambda: checked(server.status("bad", 503))),
                )
            assert caught.value.status == 503
            await server.abandoned("slow")
            await still_usable(session, server)

    async def test_the_deadline_cancels_the_slow_requests_and_closes_their_connections(
        self, server: LocalServer
    ) -> None:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(TimeoutError):
                await gather_or_abort(
                    fetch(session, server.hanging("a")),
                    fetch(session, server.hanging("b")),
                    timeout=0.5,
                )
            await server.abandoned("a", "b")
            await still_usable(session, server)

    async def test_the_callers_cancellation_closes_every_connection(
        self, server: LocalServer
    ) -> None:
        async with aiohttp.ClientSession() as session:
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as tg:

                    async def cancel_once_received() -> None:
                        await server.received("a", "b")
                        scope.cancel()

                    tg.start_soon(cancel_once_received)
                    await gather_or_abort(
                        fetch(session, server.hanging("a")), fetch(session, server.hanging("b"))
                    )
            assert scope.cancelled_caught
            await server.abandoned("a", "b")
            await still_usable(session, server)

    async def test_first_completed_keeps_the_first_response_and_closes_the_rest(
        self, server: LocalServer
    ) -> None:
        async with aiohttp.ClientSession() as session:
            done = await wait_or_abort(
                [
                    fetch(session, server.hanging("slow")),
                    after_received(server, ("slow",), lambda: fetch(session, server.fast("f"))),
                ],
                return_when="FIRST_COMPLETED",
            )
            assert [item.result() for item in done] == [(200, "f")]
            await server.abandoned("slow")
            await still_usable(session, server)

    async def test_break_out_of_the_loop_closes_the_requests_still_running(
        self, server: LocalServer
    ) -> None:
        async with aiohttp.ClientSession() as session:
            aws = [fetch(session, server.fast("first")), fetch(session, server.hanging("slow"))]
            async with as_completed_or_abort(aws) as completed:
                async for status, body in completed:
                    assert (status, body) == (200, "first")
                    await server.received("slow")
                    break
            await server.abandoned("slow")
            await still_usable(session, server)
