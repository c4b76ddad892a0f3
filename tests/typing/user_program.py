"""A program that uses every public name the way the documentation shows, with types.

``nox -s typing`` checks it with ``mypy --strict`` and strict pyright, as a user's
or a dependent library's own code would be checked: nothing here may need a cast or
an ignore. ``tests/test_public_names.py`` runs it, so it stays a working program.
"""

from __future__ import annotations

import asyncio
import functools
import logging

import anyio

from multi_await import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    Done,
    DoneItem,
    InputCancelledError,
    MultiAwait,
    __version__,
    as_completed_or_abort,
    cancel_all,
    gather_or_abort,
    multi_await,
    race_or_abort,
    secondary_errors,
    wait_or_abort,
    with_value,
)

log = logging.getLogger(__name__)


async def fetch(name: str, seconds: float) -> str:
    await anyio.sleep(seconds)
    return f"{name} page"


async def count(seconds: float) -> int:
    await anyio.sleep(seconds)
    return 42


async def closes_badly() -> None:
    try:
        await anyio.sleep(3600)
    finally:
        raise OSError("flush failed")


async def fails() -> None:
    raise KeyError("user")


async def connect(address: str, seconds: float, refused: bool = False) -> str:
    await anyio.sleep(seconds)
    if refused:
        raise ConnectionRefusedError(address)
    return f"connected to {address}"


async def gathering() -> None:
    page, number = await gather_or_abort(fetch("news", 0.02), count(0.01), timeout=5)
    assert (page.upper(), number + 1) == ("NEWS PAGE", 43)

    pages: list[str] = await gather_or_abort(*(fetch(str(i), 0) for i in range(8)))
    assert len(pages) == 8

    tolerant = True
    maybe_page, maybe_number = await gather_or_abort(
        fetch("news", 0), fails, return_exceptions=tolerant, max_concurrency=1
    )
    assert isinstance(maybe_page, str)
    assert isinstance(maybe_number, KeyError)

    try:
        await gather_or_abort(closes_badly(), fails(), report_stuck_after=None)
    except KeyError as exc:
        assert [repr(e) for e in secondary_errors(exc)] == ["OSError('flush failed')"]


async def waiting() -> None:
    done: list[DoneItem[str]] = await wait_or_abort(
        [fetch("slow", 3600), fetch("fast", 0.01)], 5, return_when=FIRST_COMPLETED
    )
    first = done[0]
    assert isinstance(first, Done)  # a coroutine's done item knows its position
    assert (first.index, first.result(), await first) == (1, "fast page", "fast page")
    for when in (ALL_COMPLETED, FIRST_EXCEPTION):
        every = await wait_or_abort([fetch("a", 0), fetch("b", 0)], return_when=when)
        assert [item.result() for item in every] == ["a page", "b page"]


async def taking_results_as_they_come() -> None:
    aws = [fetch("slow", 0.05), fetch("fast", 0.01)]
    async with as_completed_or_abort(aws, timeout=5) as completed:
        assert [page async for page in completed] == ["fast page", "slow page"]

    async with as_completed_or_abort([fetch("a", 0.02), fetch("b", 0)]) as indexed:
        order = [(index, page) async for index, page in indexed.indexed()]
    assert order == [(1, "b page"), (0, "a page")]


async def racing() -> None:
    attempts = [
        functools.partial(connect, "2001:db8::1", 0.01, refused=True),
        functools.partial(connect, "192.0.2.1", 0.02),
        functools.partial(connect, "192.0.2.2", 0.01),
    ]
    winner: str = await race_or_abort(attempts, stagger=0.25, timeout=5)
    assert winner == "connected to 192.0.2.1"


async def selecting() -> None:
    numbers, letters = anyio.create_memory_object_stream[int](1)
    send_letter, receive_letter = anyio.create_memory_object_stream[str](1)
    await numbers.send(1)
    await send_letter.send("a")
    async with numbers, letters, send_letter, receive_letter, multi_await() as m:
        assert isinstance(m, MultiAwait)
        m.add(letters.receive)
        m.add(receive_letter.receive)
        received: list[object] = []
        while len(received) < 2:
            completed, failures = await m.get()
            assert failures == [None, None]
            received += [item for item in completed if item is not None]
        await numbers.send(2)
        assert await m.get_or_raise() == [2, None]
        await m.cancel()
    assert m.undelivered() == ([None, None], [None, None])
    assert sorted(map(str, received)) == ["1", "a"]


async def labelling() -> None:
    label, page = await with_value("home", fetch("home", 0))
    assert (label.upper(), page.upper()) == ("HOME", "HOME PAGE")


async def main() -> None:
    """Every backend: what a library written on AnyIO would do."""
    log.info("multi_await %s", __version__)
    await gathering()
    await waiting()
    await taking_results_as_they_come()
    await racing()
    await selecting()
    await labelling()


async def asyncio_main() -> None:
    """asyncio only: tasks handed in, the bare loops, cancel_all, cancellation by others."""
    tasks = [asyncio.create_task(fetch("a", 0.02)), asyncio.create_task(fetch("b", 0.01))]
    async for page in as_completed_or_abort(tasks):
        assert page in ("a page", "b page")
    for next_done in as_completed_or_abort([asyncio.create_task(count(0))]):
        assert await next_done == 42
    (task_item,) = await wait_or_abort([asyncio.create_task(count(0))])
    assert isinstance(task_item, asyncio.Task)

    sleepers = [asyncio.create_task(asyncio.sleep(3600)) for _ in range(3)]
    await asyncio.sleep(0)
    await cancel_all(sleepers)
    assert all(task.cancelled() for task in sleepers)

    victim = asyncio.create_task(asyncio.sleep(3600), name="victim")
    asyncio.get_running_loop().call_soon(victim.cancel)
    try:
        await gather_or_abort(victim)
    except InputCancelledError as exc:
        assert exc.index == 0
    else:
        raise AssertionError("the cancellation from elsewhere was not raised")


if __name__ == "__main__":
    anyio.run(main, backend="trio")
    asyncio.run(main())
    asyncio.run(asyncio_main())
