"""Bad input: every primitive, every wrong argument, at any position among good ones.

Whatever the primitive and wherever the bad input sits among good inputs of every
form, the call raises a clear error naming the problem before anything starts:
no input ran, every coroutine object given (or made by calling a callable) is
closed, nothing is left running, and no warning follows. tests/test_bad_input.py
checks one case of each; this checks them all, mixed.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import math
import sys
from collections.abc import Callable, Coroutine, Generator
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from multi_await import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    as_completed_or_abort,
    gather_or_abort,
    race_or_abort,
    wait_or_abort,
)

from .backends import ASYNCIO_PARAMS, BACKEND_PARAMS, TRIO, Backend
from .conftest import is_ci_profile

#: The bad inputs, primitives and positions are few: a few hundred mixes per backend
#: cover them all many times over (the main property takes the profile's count).
MIXES = settings(max_examples=400 if is_ci_profile() else 40)

PRIMITIVES = ("gather", "wait_all", "wait_first", "wait_exception", "as_completed", "race")
WAIT_MODES = {"wait_all": ALL_COMPLETED, "wait_first": FIRST_COMPLETED}
WAIT_MODES["wait_exception"] = FIRST_EXCEPTION


async def call(primitive: str, aws: list[Any], **options: Any) -> Any:
    """Call *primitive* on *aws*, iterating it to the end where it is iterated."""
    if primitive == "gather":
        return await gather_or_abort(*aws, **options)
    if primitive in WAIT_MODES:
        return await wait_or_abort(aws, return_when=WAIT_MODES[primitive], **options)
    if primitive == "race":
        return await race_or_abort(aws, **options)
    async with as_completed_or_abort(aws, **options) as completed:
        return [value async for value in completed]


@dataclass
class Made:
    """What one example handed over, to check that none of it ran or lingers."""

    coroutines: list[Coroutine[Any, Any, Any]] = field(default_factory=list)
    started: list[int] = field(default_factory=list)
    called: list[int] = field(default_factory=list)

    async def body(self, position: int) -> int:
        self.started.append(position)
        await anyio.lowlevel.checkpoint()
        return position

    def coroutine(self, position: int) -> Coroutine[Any, Any, int]:
        made = self.body(position)
        self.coroutines.append(made)
        return made

    def callable(self, position: int) -> Callable[[], Coroutine[Any, Any, int]]:
        def make() -> Coroutine[Any, Any, int]:
            self.called.append(position)
            return self.coroutine(position)

        return make


# -- the wrong arguments ----------------------------------------------------------


def _generator() -> Generator[int, None, None]:
    yield 1


async def _async_generator() -> Any:
    yield 1


def _returns_int() -> int:
    return 5


async def _needs_an_argument(value: int) -> int:
    return value


def _marked_coroutine_function() -> Any:
    """A plain function that claims to be a coroutine function, returning an int."""

    def claims() -> int:
        return 3

    if sys.version_info >= (3, 12):
        return inspect.markcoroutinefunction(claims)
    return claims


class _NotAwaitable:
    pass


#: name -> (make the bad input, the message naming it, at position {i}).
BAD_INPUTS: dict[str, tuple[Callable[[], Any], str]] = {
    "int": (lambda: 42, r"input {i} is int"),
    "None": (lambda: None, r"input {i} is NoneType"),
    "object": (object, r"input {i} is object"),
    "str": (lambda: "text", r"input {i} is str"),
    "generator": (_generator, r"input {i} is generator"),
    "async generator": (_async_generator, r"input {i} is async_generator"),
    "plain function": (lambda: _returns_int, r"input {i}: calling .*_returns_int returned int"),
    "lambda returning None": (lambda: lambda: None, r"input {i}: calling .* returned NoneType"),
    "generator function": (
        lambda: _generator,
        r"input {i}: calling .*_generator returned generator",
    ),
    "async generator function": (
        lambda: _async_generator,
        r"input {i}: calling .*_async_generator returned async_generator",
    ),
    "coroutine function needing an argument": (
        lambda: _needs_an_argument,
        r"input {i}: calling .*_needs_an_argument raised",
    ),
    "coroutine function returning an int": (
        _marked_coroutine_function,
        r"input {i}: calling .*claims returned int",
    ),
    "class": (lambda: _NotAwaitable, r"input {i}: calling .*_NotAwaitable returned _NotAwaitable"),
    "partial of a plain function": (
        lambda: functools.partial(_returns_int),
        r"input {i}: calling partial.* returned int",
    ),
}


@dataclass(frozen=True)
class Mix:
    """Good inputs, by form, and where the bad one goes."""

    forms: tuple[str, ...]
    bad_at: int


def mixes(backend: Backend) -> st.SearchStrategy[Mix]:
    forms = ["coroutine", "callable"] + (["task"] if backend.asyncio else [])
    return st.lists(st.sampled_from(forms), max_size=4).flatmap(
        lambda chosen: st.builds(Mix, st.just(tuple(chosen)), st.integers(0, len(chosen)))
    )


def _good_inputs(made: Made, forms: tuple[str, ...]) -> list[Any]:
    inputs: list[Any] = []
    for form in forms:
        position = len(inputs)
        if form == "task":
            inputs.append(asyncio.get_running_loop().create_task(made.body(-1)))
        elif form == "callable":
            inputs.append(made.callable(position))
        else:
            inputs.append(made.coroutine(position))
    return inputs


async def _refused(primitive: str, inputs: list[Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        await call(primitive, inputs)


def _check_nothing_ran(made: Made, tasks: list[asyncio.Task[Any]]) -> None:
    # Only the tasks handed over could have run: they are somebody else's, and the
    # call that refused its input leaves them alone.
    assert [position for position in made.started if position >= 0] == []
    assert all(inspect.getcoroutinestate(c) == inspect.CORO_CLOSED for c in made.coroutines)
    assert not any(task.cancelled() for task in tasks)


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
@MIXES
@given(
    data=st.data(),
    primitive=st.sampled_from(PRIMITIVES),
    bad=st.sampled_from(sorted(BAD_INPUTS)),
)
def test_a_bad_input_anywhere_is_refused_before_anything_starts(
    backend: Backend, data: st.DataObject, primitive: str, bad: str
) -> None:
    mix = data.draw(mixes(backend), label="mix")
    make_bad, message = BAD_INPUTS[bad]
    made = Made()

    async def main() -> None:
        inputs = _good_inputs(made, mix.forms)
        tasks = [aw for aw in inputs if isinstance(aw, asyncio.Task)]
        inputs.insert(mix.bad_at, make_bad())
        await _refused(primitive, inputs, TypeError, message.format(i=mix.bad_at))
        _check_nothing_ran(made, tasks)
        # Callables after the bad input were never called; those before it were,
        # and what they made was closed.
        assert all(position < mix.bad_at for position in made.called)
        await _finish(tasks)

    backend.run(main)


async def _finish(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        await task


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
@MIXES
@given(
    data=st.data(),
    primitive=st.sampled_from(PRIMITIVES),
    kind=st.sampled_from(["coroutine", "task", "future"]),
)
def test_the_same_awaitable_twice_is_refused_naming_both_positions(
    backend: Backend, data: st.DataObject, primitive: str, kind: str
) -> None:
    if kind != "coroutine" and not backend.asyncio:
        kind = "coroutine"
    mix = data.draw(mixes(backend), label="mix")
    first = data.draw(st.integers(0, len(mix.forms)), label="first")
    made = Made()

    async def main() -> None:
        inputs = _good_inputs(made, mix.forms)
        tasks = [aw for aw in inputs if isinstance(aw, asyncio.Task)]
        loop = asyncio.get_running_loop() if backend.asyncio else None
        if kind == "coroutine":
            twice: Any = made.coroutine(-2)
        elif kind == "task":
            assert loop is not None
            twice = loop.create_task(made.body(-2))
            tasks.append(twice)
        else:
            assert loop is not None
            twice = loop.create_future()
            twice.set_result(None)
        inputs.insert(first, twice)
        inputs.append(twice)
        again = len(inputs) - 1
        await _refused(
            primitive, inputs, TypeError, rf"input {again} is.* the same .* as input {first}"
        )
        _check_nothing_ran(made, tasks)
        await _finish(tasks)

    backend.run(main)


@pytest.mark.parametrize("backend", ASYNCIO_PARAMS)
@pytest.mark.parametrize("primitive", PRIMITIVES)
def test_a_future_of_another_loop_is_refused_by_every_primitive(
    backend: Backend, primitive: str
) -> None:
    made = Made()
    other = asyncio.new_event_loop()
    try:

        async def main() -> None:
            inputs = [made.coroutine(0), other.create_future(), made.callable(2)]
            await _refused(
                primitive, inputs, TypeError, r"input 1 .* belongs to another event loop"
            )
            _check_nothing_ran(made, [])

        backend.run(main)
    finally:
        other.close()


@pytest.mark.parametrize("primitive", PRIMITIVES)
def test_an_asyncio_future_under_trio_is_refused_by_every_primitive(primitive: str) -> None:
    made = Made()
    loop = asyncio.new_event_loop()
    try:

        async def main() -> None:
            inputs = [made.coroutine(0), made.callable(1), loop.create_future()]
            await _refused(
                primitive, inputs, TypeError, r"input 2 is an asyncio Future.*under Trio"
            )
            _check_nothing_ran(made, [])

        TRIO.run(main)
    finally:
        loop.close()


# -- timeouts and return_when -------------------------------------------------------


BAD_TIMEOUTS = [
    pytest.param(math.nan, ValueError, "timeout must not be NaN", id="nan"),
    pytest.param("1", TypeError, "timeout must be a number of seconds or None, not str", id="str"),
    pytest.param(True, TypeError, "not bool", id="bool"),
    pytest.param(1j, TypeError, "not complex", id="complex"),
    pytest.param([1], TypeError, "not list", id="list"),
]


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
@pytest.mark.parametrize("primitive", PRIMITIVES)
@pytest.mark.parametrize(("timeout", "error", "message"), BAD_TIMEOUTS)
def test_a_bad_timeout_is_refused_before_anything_starts(
    backend: Backend, primitive: str, timeout: Any, error: type[Exception], message: str
) -> None:
    made = Made()

    async def main() -> None:
        inputs = [made.coroutine(0), made.callable(1)]
        with pytest.raises(error, match=message):
            await call(primitive, inputs, timeout=timeout)
        _check_nothing_ran(made, [])

    backend.run(main)


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
@pytest.mark.parametrize("primitive", PRIMITIVES)
@pytest.mark.parametrize("timeout", [0, -1.5, -math.inf], ids=["zero", "negative", "-inf"])
def test_an_expired_timeout_cancels_every_input_at_its_first_await(
    backend: Backend, primitive: str, timeout: float
) -> None:
    made = Made()
    finished: list[int] = []

    async def waits(position: int) -> int:
        try:
            await anyio.sleep(1)
            return position
        finally:
            finished.append(position)

    async def main() -> None:
        with pytest.raises(TimeoutError):
            await call(primitive, [waits(0), waits(1)], timeout=timeout)
        # Each input was cancelled at its first await, or (on Trio) never started.
        assert sorted(finished) in ([], [0, 1])

    backend.run(main)
    assert made.started == []


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
@pytest.mark.parametrize("primitive", PRIMITIVES)
def test_an_infinite_timeout_is_no_limit(backend: Backend, primitive: str) -> None:
    made = Made()

    async def main() -> None:
        result = await call(primitive, [made.coroutine(0), made.callable(1)], timeout=math.inf)
        expected = {"race": 0, "wait_first": 1}.get(primitive)
        if primitive == "race":
            assert result in (0, 1)
        elif expected is not None:
            assert len(result) >= expected
        else:
            assert len(result) == 2

    backend.run(main)


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
@pytest.mark.parametrize(
    "return_when",
    ["SOMETIMES", "all_completed", None, 1, ALL_COMPLETED.encode()],
    ids=["unknown", "lowercase", "none", "int", "bytes"],
)
def test_a_wrong_return_when_is_refused_before_anything_starts(
    backend: Backend, return_when: Any
) -> None:
    made = Made()

    async def main() -> None:
        inputs: list[Any] = [made.coroutine(0), made.callable(1)]
        with pytest.raises(ValueError, match="return_when must be ALL_COMPLETED, FIRST_COMPLETED"):
            await wait_or_abort(inputs, return_when=return_when)
        _check_nothing_ran(made, [])

    backend.run(main)


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
@pytest.mark.parametrize(
    "return_when", [asyncio.ALL_COMPLETED, asyncio.FIRST_COMPLETED, asyncio.FIRST_EXCEPTION]
)
def test_asyncios_return_when_constants_are_accepted(backend: Backend, return_when: str) -> None:
    made = Made()

    async def main() -> None:
        done = await wait_or_abort([made.coroutine(0), made.coroutine(1)], return_when=return_when)
        assert done

    backend.run(main)
