"""httpx against the local server, on every backend: a failure or a deadline closes the rest."""

from __future__ import annotations

import gc
import sys
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import anyio
import httpx
import pytest

from multi_await import as_completed_or_abort, gather_or_abort, wait_or_abort

from ..support import CONNECT_TCP_LEAKS
from .local_server import LocalServer

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup

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


async def text(client: httpx.AsyncClient, url: str) -> str:
    response = await client.get(url)
    response.raise_for_status()
    return response.text


def local_client() -> httpx.AsyncClient:
    """A client that ignores proxy settings of the environment: only 127.0.0.1 is called."""
    return httpx.AsyncClient(trust_env=False)


async def still_usable(client: httpx.AsyncClient, server: LocalServer) -> None:
    assert await text(client, server.fast("after")) == "after"


async def test_gather_returns_the_bodies_in_input_order(server: LocalServer) -> None:
    async with local_client() as client:
        bodies = await gather_or_abort(
            text(client, server.delayed("a", 0.05)), text(client, server.fast("b"))
        )
    assert list(bodies) == ["a", "b"]
    record = await server.all_closed()
    assert record.abandoned == []


async def test_gather_raises_the_connect_error_and_closes_the_other_requests(
    server: LocalServer,
) -> None:
    async with local_client() as client:
        with pytest.raises(httpx.ConnectError):
            await gather_or_abort(
                text(client, server.hanging("a")),
                after_received(server, ("a", "b"), lambda: text(client, server.refused_url)),
                text(client, server.hanging("b")),
            )
        await server.abandoned("a", "b")
        await still_usable(client, server)
    record = await server.all_closed()
    assert record.answered == ["after"]


async def test_gather_raises_the_status_error_of_raise_for_status(server: LocalServer) -> None:
    async with local_client() as client:
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await gather_or_abort(
                text(client, server.hanging("slow")),
                after_received(server, ("slow",), lambda: text(client, server.status("bad", 503))),
            )
        assert caught.value.response.status_code == 503
        await server.abandoned("slow")
        await still_usable(client, server)


async def test_as_completed_gives_the_values_then_raises_the_read_error_of_a_reset(
    server: LocalServer,
) -> None:
    first_given = anyio.Event()

    async def reset_once_first_given() -> str:
        await first_given.wait()
        await server.received("slow")
        return await text(client, server.resetting("r"))

    values = []
    async with local_client() as client:
        aws = [
            text(client, server.fast("first")),
            text(client, server.hanging("slow")),
            reset_once_first_given(),
        ]
        with pytest.raises(httpx.ReadError):
            async with as_completed_or_abort(aws) as completed:
                async for value in completed:
                    values.append(value)
                    first_given.set()
        assert values == ["first"]
        await server.abandoned("slow")
        await still_usable(client, server)


async def test_indexed_tells_which_url_gave_each_body(server: LocalServer) -> None:
    early_given = anyio.Event()

    async def late() -> str:
        await early_given.wait()
        return await text(client, server.fast("late"))

    pairs = []
    async with local_client() as client:
        aws = [late(), text(client, server.fast("early"))]
        async with as_completed_or_abort(aws) as completed:
            async for index, body in completed.indexed():
                pairs.append((index, body))
                early_given.set()
    assert pairs == [(1, "early"), (0, "late")]


async def test_the_deadline_cancels_the_slow_requests_and_closes_their_connections(
    server: LocalServer,
) -> None:
    async with local_client() as client:
        with pytest.raises(TimeoutError):
            await gather_or_abort(
                text(client, server.hanging("a")), text(client, server.hanging("b")), timeout=0.5
            )
        await server.abandoned("a", "b")
        await still_usable(client, server)


async def test_as_completed_gives_what_arrived_before_the_deadline(server: LocalServer) -> None:
    values = []
    async with local_client() as client:
        aws = [text(client, server.fast("in-time")), text(client, server.hanging("slow"))]
        with pytest.raises(TimeoutError):
            async with as_completed_or_abort(aws, timeout=1.0) as completed:
                async for value in completed:
                    values.append(value)
        assert values == ["in-time"]
        await server.abandoned("slow")
        await still_usable(client, server)


async def test_the_callers_cancellation_closes_every_connection(server: LocalServer) -> None:
    async with local_client() as client:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:

                async def cancel_once_received() -> None:
                    await server.received("a", "b")
                    scope.cancel()

                tg.start_soon(cancel_once_received)
                await gather_or_abort(
                    text(client, server.hanging("a")), text(client, server.hanging("b"))
                )
        assert scope.cancelled_caught
        await server.abandoned("a", "b")
        await still_usable(client, server)


async def test_break_out_of_the_loop_closes_the_requests_still_running(
    server: LocalServer,
) -> None:
    async with local_client() as client:
        aws = [text(client, server.fast("first")), text(client, server.hanging("slow"))]
        async with as_completed_or_abort(aws) as completed:
            async for value in completed:
                assert value == "first"
                await server.received("slow")
                break
        await server.abandoned("slow")
        await still_usable(client, server)


async def test_first_completed_keeps_the_first_response_and_closes_the_rest(
    server: LocalServer,
) -> None:
    async with local_client() as client:
        done = await wait_or_abort(
            [
                text(client, server.hanging("slow")),
                after_received(server, ("slow",), lambda: text(client, server.fast("f"))),
            ],
            return_when="FIRST_COMPLETED",
        )
        assert [item.result() for item in done] == ["f"]
        await server.abandoned("slow")
        await still_usable(client, server)


async def unclosed_sockets_after_a_refused_connect(
    server: LocalServer, run: Callable[[list[Coroutine[Any, Any, str]]], Awaitable[object]]
) -> int:
    """How many sockets nobody closed after *run* of two requests and a refused one.

    The refused connection fails while the other two are connecting, so the abort
    reaches them inside AnyIO's ``connect_tcp()``.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        async with local_client() as client:
            requests = [
                text(client, server.hanging("a")),
                text(client, server.refused_url),
                text(client, server.hanging("b")),
            ]
            with pytest.raises((httpx.ConnectError, ExceptionGroup)):
                await run(requests)
        gc.collect()
    return sum("unclosed <socket" in str(warning.message) for warning in caught)


async def in_a_task_group(requests: list[Coroutine[Any, Any, str]]) -> None:
    async with anyio.create_task_group() as tg:
        for request in requests:
            tg.start_soon(lambda request=request: request)


@pytest.mark.skipif(
    CONNECT_TCP_LEAKS,
    reason=(
        "AnyIO < 4.16 leaves a socket its connect_tcp() has just connected unclosed when "
        "a cancellation arrives then, under its own task group as under multi_await"
    ),
)
async def test_an_abort_during_the_connect_leaves_no_socket_unclosed(server: LocalServer) -> None:
    async def gathered(requests: list[Coroutine[Any, Any, str]]) -> object:
        return await gather_or_abort(*requests)

    assert await unclosed_sockets_after_a_refused_connect(server, in_a_task_group) == 0
    assert await unclosed_sockets_after_a_refused_connect(server, gathered) == 0
