"""asyncio's call graph (Python 3.14+): every input is awaited by the task that made the call.

``asyncio.capture_call_graph()``, ``asyncio.print_call_graph()`` and
``python -m asyncio pstree PID`` show who waits for whom, as they do for the children
of an :class:`asyncio.TaskGroup`; the links go when each input finishes.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import sys
import weakref
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import pytest

from multi_await import (
    FIRST_COMPLETED,
    MultiAwait,
    as_completed_or_abort,
    gather_or_abort,
    multi_await,
    race_or_abort,
    wait_or_abort,
)

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(sys.version_info < (3, 14), reason="asyncio's call graph is new in 3.14"),
]


@pytest.fixture(autouse=True)
def _asyncio_only(anyio_backend_name: str) -> None:
    if anyio_backend_name == "trio":
        pytest.skip("the call graph is asyncio's: Trio tasks are not asyncio futures")


class Recorder:
    """Hands out inputs that note, while they run, which tasks are awaiting them."""

    def __init__(self) -> None:
        #: By input name: the ids of the tasks asyncio's call graph says await it
        #: (ids, not the tasks: the record must keep nothing alive).
        self.awaited_by: dict[str, set[int]] = {}
        #: The task of each input, kept alive after the call.
        self.tasks: list[asyncio.Future[Any]] = []

    async def input(self, name: str, *, fail: bool = False) -> str:
        # Past the first step, which an eager task runs before the call can link it.
        await asyncio.sleep(0)
        graph = asyncio.capture_call_graph()
        assert graph is not None
        self.awaited_by[name] = {id(link.future) for link in graph.awaited_by}
        self.tasks.append(graph.future)
        del graph
        if fail:
            raise RuntimeError(name)
        return name


class PlainAwaitable:
    """An awaitable that is neither a coroutine nor a future."""

    def __init__(self, aw: Awaitable[Any]) -> None:
        self._aw = aw

    def __await__(self) -> Generator[Any, Any, Any]:
        return self._aw.__await__()


async def gather(r: Recorder) -> None:
    await gather_or_abort(r.input("a"), r.input("b"))


async def gather_tasks_and_awaitables(r: Recorder) -> None:
    await gather_or_abort(asyncio.ensure_future(r.input("a")), PlainAwaitable(r.input("b")))


async def gather_one_at_a_time(r: Recorder) -> None:
    await gather_or_abort(r.input("a"), r.input("b"), max_concurrency=1)


async def wait_all(r: Recorder) -> None:
    await wait_or_abort([r.input("a"), r.input("b")])


async def wait_first(r: Recorder) -> None:
    await wait_or_abort([r.input("a"), r.input("b")], return_when=FIRST_COMPLETED)


async def as_completed_in_a_block(r: Recorder) -> None:
    async with as_completed_or_abort([r.input("a"), r.input("b")]) as completed:
        async for _ in completed:
            pass


async def as_completed_bare(r: Recorder) -> None:
    async for _ in as_completed_or_abort([r.input("a"), r.input("b")]):
        pass


async def as_completed_1x(r: Recorder) -> None:
    for step in as_completed_or_abort([r.input("a"), r.input("b")]):
        await step


async def race(r: Recorder) -> None:
    await race_or_abort([r.input("a"), r.input("b")])


async def race_staggered(r: Recorder) -> None:
    # "b" starts when "a" fails, from the event loop's callback that reports it.
    await race_or_abort([r.input("a", fail=True), r.input("b")], stagger=3600)


async def select_loop(r: Recorder) -> None:
    async with multi_await() as m:
        m.add(functools.partial(r.input, "a"))
        m.add(functools.partial(r.input, "b"))
        await m.get()


async def select_loop_unscoped(r: Recorder) -> None:
    m = MultiAwait()
    m.add(functools.partial(r.input, "a"))
    await m.get()
    await m.cancel()


Call = Callable[[Recorder], Awaitable[None]]

#: Each way to make a call, and the inputs sure to have run by the time it returns.
CALLS: dict[Call, set[str]] = {
    gather: {"a", "b"},
    gather_tasks_and_awaitables: {"a", "b"},
    gather_one_at_a_time: {"a", "b"},
    wait_all: {"a", "b"},
    wait_first: {"a"},
    as_completed_in_a_block: {"a", "b"},
    as_completed_bare: {"a", "b"},
    as_completed_1x: {"a", "b"},
    race: {"a"},
    race_staggered: {"a", "b"},
    select_loop: {"a", "b"},
    select_loop_unscoped: {"a"},
}

calls = pytest.mark.parametrize(
    ("call", "ran"), list(CALLS.items()), ids=[call.__name__ for call in CALLS]
)


@calls
async def test_an_input_is_awaited_by_the_task_that_made_the_call(
    call: Call, ran: set[str]
) -> None:
    recorder = Recorder()
    await call(recorder)
    assert ran <= recorder.awaited_by.keys()
    caller = id(asyncio.current_task())
    assert {name: caller in ids for name, ids in recorder.awaited_by.items()} == dict.fromkeys(
        recorder.awaited_by, True
    )


@calls
async def test_the_links_are_gone_once_the_call_has_returned(call: Call, ran: set[str]) -> None:
    recorder = Recorder()
    await call(recorder)
    assert recorder.tasks
    assert [asyncio.capture_call_graph(task).awaited_by for task in recorder.tasks] == [
        () for _ in recorder.tasks
    ]


@calls
async def test_an_input_that_outlives_the_call_does_not_keep_the_caller_alive(
    call: Call, ran: set[str]
) -> None:
    recorder = Recorder()
    caller = asyncio.get_running_loop().create_task(call(recorder))
    await caller
    gone = weakref.ref(caller)
    del caller
    await asyncio.sleep(0)  # the event loop lets go of the callback that woke us
    gc.collect()
    assert recorder.tasks  # alive, each holding its own links
    assert gone() is None
