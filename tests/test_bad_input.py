"""Bad input: a clear error before anything starts, and nothing left un-awaited."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from multi_await import as_completed_or_abort, gather_or_abort, wait_or_abort

from .conftest import ASYNCIO_BACKENDS, TRIO_BACKENDS
from .support import Probe

pytestmark = pytest.mark.anyio


def _gather(aws: list[Any], **kwargs: Any) -> Awaitable[Any]:
    return gather_or_abort(*aws, **kwargs)


def _wait(aws: list[Any], **kwargs: Any) -> Awaitable[Any]:
    return wait_or_abort(aws, **kwargs)


async def _as_completed(aws: list[Any], **kwargs: Any) -> None:
    async with as_completed_or_abort(aws, **kwargs) as completed:
        async for _ in completed:
            pass


PRIMITIVES = [
    pytest.param(_gather, id="gather"),
    pytest.param(_wait, id="wait"),
    pytest.param(_as_completed, id="as_completed"),
]


def _generator() -> Any:
    yield 1


async def _async_generator() -> Any:
    yield 1


def _plain_function() -> int:
    return 5


async def _needs_an_argument(x: int) -> int:
    return x


BAD_INPUTS = [
    pytest.param(lambda: 42, r"input 1 is int", id="int"),
    pytest.param(lambda: None, r"input 1 is NoneType", id="none"),
    pytest.param(
        lambda: _plain_function,
        r"input 1: calling .*_plain_function returned int",
        id="function",
    ),
    pytest.param(lambda: _generator(), r"input 1 is generator", id="generator"),
    pytest.param(lambda: _async_generator(), r"input 1 is async_generator", id="async-generator"),
    pytest.param(
        lambda: _async_generator,
        r"input 1: calling .*_async_generator returned async_generator",
        id="async-generator-function",
    ),
    pytest.param(
        lambda: _needs_an_argument,
        r"input 1: calling .*_needs_an_argument raised",
        id="missing-argument",
    ),
]


@pytest.mark.parametrize("primitive", PRIMITIVES)
@pytest.mark.parametrize(("make_bad", "message"), BAD_INPUTS)
async def test_bad_input_is_a_type_error_naming_position_and_type_before_anything_starts(
    primitive: Callable[..., Awaitable[Any]], make_bad: Callable[[], Any], message: str
) -> None:
    probe = Probe()
    good, later = probe.returns("good"), probe.returns("later")
    with pytest.raises(TypeError, match=message):
        await primitive([good, make_bad(), later])
    assert probe.started == []
    assert inspect.getcoroutinestate(good) == inspect.CORO_CLOSED
    assert inspect.getcoroutinestate(later) == inspect.CORO_CLOSED


@pytest.mark.parametrize("primitive", PRIMITIVES)
async def test_the_same_coroutine_twice_is_a_type_error(
    primitive: Callable[..., Awaitable[Any]],
) -> None:
    probe = Probe()
    coro = probe.returns("twice")
    with pytest.raises(TypeError, match=r"input 1 is the same coroutine object .* as input 0"):
        await primitive([coro, coro])
    assert probe.started == []
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED


@pytest.mark.parametrize("primitive", PRIMITIVES)
@pytest.mark.parametrize(
    ("timeout", "error", "message"),
    [
        pytest.param(float("nan"), ValueError, "NaN", id="nan"),
        pytest.param("1", TypeError, "not str", id="str"),
        pytest.param(True, TypeError, "not bool", id="bool"),
    ],
)
async def test_a_bad_timeout_is_refused_before_anything_starts(
    primitive: Callable[..., Awaitable[Any]], timeout: Any, error: type[Exception], message: str
) -> None:
    probe = Probe()
    coro = probe.returns("a")
    with pytest.raises(error, match=message):
        await primitive([coro], timeout=timeout)
    assert probe.started == []
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED


async def test_an_infinite_timeout_means_no_limit() -> None:
    assert await gather_or_abort(Probe().returns("a", 1), timeout=float("inf")) == [1]


async def test_an_unknown_return_when_is_a_value_error() -> None:
    probe = Probe()
    coro = probe.returns("a")
    with pytest.raises(ValueError, match="return_when must be"):
        await wait_or_abort([coro], return_when="SOMETIMES")
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED


@pytest.mark.parametrize("call", [wait_or_abort, as_completed_or_abort])
async def test_one_coroutine_instead_of_an_iterable_is_a_type_error(call: Any) -> None:
    probe = Probe()
    coro = probe.returns("a")
    with pytest.raises(TypeError, match="expected an iterable of inputs, got coroutine"):
        await call(coro)
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED


class TestAsyncioOnly:
    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_a_future_of_another_loop_is_a_type_error(self) -> None:
        other = asyncio.new_event_loop()
        try:
            future = other.create_future()
            coro = Probe().returns("a")
            with pytest.raises(TypeError, match=r"input 1 .* belongs to another event loop"):
                await gather_or_abort(coro, future)
            assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED
        finally:
            other.close()


class TestTrioOnly:
    @pytest.fixture(params=TRIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_an_asyncio_future_under_trio_is_a_type_error_not_a_hang(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            future = loop.create_future()
            with pytest.raises(TypeError, match=r"input 0 is an asyncio Future.*under Trio"):
                await gather_or_abort(future)
        finally:
            loop.close()


def test_calling_outside_an_event_loop_is_a_clear_error() -> None:
    probe = Probe()
    coro = probe.returns("a")
    with pytest.raises(RuntimeError, match="needs a running asyncio or Trio event loop"):
        as_completed_or_abort([coro])
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED
