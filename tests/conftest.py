"""Every async test runs on each backend; asyncio's exception handler must stay silent."""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
import pytest

#: A test that has not finished after this many seconds has hung: fail it.
HANG_SECONDS = 60

#: Each call of asyncio's exception handler ("Task exception was never retrieved"...).
HANDLER_CALLS: list[dict[str, Any]] = []


Handler = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]


def _recording(handler: Handler | None) -> Handler:
    """*handler* (or the default one), recording each call in HANDLER_CALLS first."""

    def record(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        HANDLER_CALLS.append(context)
        if handler is None:
            loop.default_exception_handler(context)
        else:
            handler(loop, context)

    return record


def _loop_factory(
    make: Callable[[], asyncio.AbstractEventLoop], eager: bool = False
) -> Callable[[], asyncio.AbstractEventLoop]:
    def factory() -> asyncio.AbstractEventLoop:
        loop = make()
        # AnyIO's test runner installs its own handler: record calls whatever is set.
        set_handler = loop.set_exception_handler
        loop.set_exception_handler = (  # type: ignore[method-assign]
            lambda handler: set_handler(_recording(handler))
        )
        loop.set_exception_handler(None)
        if eager:
            loop.set_task_factory(asyncio.eager_task_factory)  # type: ignore[attr-defined]
        return loop

    return factory


def _backends() -> list[Any]:
    params = [
        pytest.param(
            ("asyncio", {"debug": True, "loop_factory": _loop_factory(asyncio.new_event_loop)}),
            id="asyncio",
        )
    ]
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop does not build everywhere
        pass
    else:
        params.append(
            pytest.param(
                ("asyncio", {"debug": True, "loop_factory": _loop_factory(uvloop.new_event_loop)}),
                id="asyncio+uvloop",
            )
        )
    if sys.version_info >= (3, 12):
        params.append(
            pytest.param(
                (
                    "asyncio",
                    {
                        "debug": True,
                        "loop_factory": _loop_factory(asyncio.new_event_loop, eager=True),
                    },
                ),
                id="asyncio+eager",
            )
        )
    params.append(pytest.param(("trio", {}), id="trio"))
    return params


BACKENDS = _backends()
ASYNCIO_BACKENDS = [param for param in BACKENDS if param.values[0][0] == "asyncio"]
TRIO_BACKENDS = [param for param in BACKENDS if param.values[0][0] == "trio"]
#: The backends whose clock can be virtual, by id: all but uvloop, whose clock is libuv's.
VIRTUAL_CLOCK_BACKENDS = [
    pytest.param(param.id, id=param.id) for param in BACKENDS if param.id != "asyncio+uvloop"
]


def on_a_virtual_clock(backend_id: str) -> tuple[str, dict[str, Any]]:
    """The backend *backend_id* with a clock that jumps to the next deadline whenever
    every task waits, so that times can be checked exactly and cost nothing."""
    if backend_id == "trio":
        import trio.testing

        return "trio", {"clock": trio.testing.MockClock(autojump_threshold=0)}
    from .properties.backends import VirtualClockLoop

    factory = _loop_factory(VirtualClockLoop, eager=backend_id == "asyncio+eager")
    return "asyncio", {"debug": True, "loop_factory": factory}


@pytest.fixture(params=BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    return request.param


@pytest.fixture(autouse=True)
def _asyncio_handler_stays_silent() -> Iterator[None]:
    HANDLER_CALLS.clear()
    yield
    gc.collect()
    calls, HANDLER_CALLS[:] = list(HANDLER_CALLS), []
    called = [f"{call.get('message')}: {call.get('exception')!r}" for call in calls]
    assert not called, f"asyncio's exception handler was called: {called}"


def _fail_if_hung(test: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(test)
    async def guarded(*args: Any, **kwargs: Any) -> Any:
        with anyio.fail_after(HANG_SECONDS):
            return await test(*args, **kwargs)

    return guarded


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.obj):
            item.obj = _fail_if_hung(item.obj)
