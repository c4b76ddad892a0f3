"""What mypy and pyright infer from the public signatures.

This file is never run: ``nox -s typing`` checks it with ``mypy --strict`` and with
pyright in strict mode, and each ``assert_type`` fails the check if the inferred
type differs. pytest does not collect it (its name does not start with ``test_``).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator

from typing_extensions import Never, assert_type

from multi_await import (
    FIRST_COMPLETED,
    Done,
    DoneItem,
    as_completed_or_abort,
    gather_or_abort,
    map_or_abort,
    wait_or_abort,
)


async def an_int() -> int:
    return 1


async def a_str() -> str:
    return "one"


async def scaled(value: int, factor: float) -> float:
    return value * factor


async def gather_gives_one_type_per_position() -> None:
    number, text = await gather_or_abort(an_int(), a_str())
    assert_type(number, int)
    assert_type(text, str)

    assert_type(await gather_or_abort(an_int()), tuple[int])
    assert_type(
        await gather_or_abort(an_int(), a_str(), an_int(), a_str(), an_int(), a_str()),
        tuple[int, str, int, str, int, str],
    )


async def gather_with_return_exceptions_may_give_an_exception_per_position(
    flag: bool,
) -> None:
    assert_type(
        await gather_or_abort(an_int(), a_str(), return_exceptions=flag),
        tuple[int | Exception, str | Exception],
    )
    assert_type(await gather_or_abort(an_int(), return_exceptions=True), tuple[int | Exception])
    assert_type(await gather_or_abort(an_int(), return_exceptions=False), tuple[int])
    many = [an_int() for _ in range(10)]
    assert_type(await gather_or_abort(*many, return_exceptions=flag), list[int | Exception])
    assert_type(await gather_or_abort(*many, return_exceptions=False), list[int])


async def gather_of_no_input_gives_an_empty_list() -> None:
    assert_type(await gather_or_abort(), list[Never])
    assert_type(await gather_or_abort(return_exceptions=True), list[Never])


async def gather_accepts_async_callables_and_tasks() -> None:
    task = asyncio.ensure_future(a_str())
    number, text, product = await gather_or_abort(
        an_int, task, functools.partial(scaled, 2, 1.5), timeout=5
    )
    assert_type(number, int)
    assert_type(text, str)
    assert_type(product, float)


async def gather_of_many_gives_a_list() -> None:
    many = [an_int() for _ in range(10)]
    assert_type(await gather_or_abort(*many), list[int])
    assert_type(
        await gather_or_abort(an_int(), an_int(), an_int(), an_int(), an_int(), an_int(), an_int()),
        list[int],
    )


async def as_completed_yields_the_inputs_result_type() -> None:
    async with as_completed_or_abort([an_int(), an_int()], timeout=5) as completed:
        async for value in completed:
            assert_type(value, int)

    async with as_completed_or_abort([a_str, a_str]) as completed_texts:
        async for index, text in completed_texts.indexed():
            assert_type(index, int)
            assert_type(text, str)

    async for number in as_completed_or_abort([an_int()]):
        assert_type(number, int)

    tasks = [asyncio.ensure_future(an_int()), asyncio.ensure_future(an_int())]
    for next_done in as_completed_or_abort(tasks):
        assert_type(await next_done, int)


async def wait_gives_done_items_with_a_result() -> None:
    done = await wait_or_abort([an_int(), an_int()], timeout=5)
    assert_type(done, list[DoneItem[int]])
    for item in done:
        assert_type(item.result(), int)
        assert_type(await item, int)
        assert_type(item.exception(), BaseException | None)
        assert_type(item.done(), bool)
        assert_type(item.cancelled(), bool)


async def wait_accepts_tasks_whose_done_items_are_those_tasks() -> None:
    tasks = [asyncio.ensure_future(a_str()), asyncio.ensure_future(a_str())]
    (first, *_) = await wait_or_abort(tasks, return_when=FIRST_COMPLETED)
    assert_type(first.result(), str)
    task_as_item: DoneItem[str] = tasks[0]
    done_as_item: DoneItem[str] = Done(0, "zero")
    assert_type(task_as_item.result(), str)
    assert_type(done_as_item.result(), str)


async def doubled(value: int) -> str:
    return str(2 * value)


async def numbers() -> AsyncIterator[int]:
    yield 1


async def map_gives_a_list_of_fn_s_result_type_or_streams_it() -> None:
    assert_type(await map_or_abort(doubled, [1, 2]), list[str])
    assert_type(await map_or_abort(doubled, numbers(), max_concurrency=5), list[str])
    listed = await map_or_abort(doubled, range(3), return_exceptions=True)
    assert_type(listed, list[str | Exception])
    async with map_or_abort(doubled, numbers(), ordered=False) as results:
        async for result in results:
            assert_type(result, str)
