"""Runs a schedule and records everything that happens, for ``checks.py`` to judge.

Every input logs what it does as it does it: start, the outcome of its body, being
cancelled, its cleanup's outcome, and finishing. Each log entry has a sequence number
and the (virtual) time. Each call records how it ended, at the very instant it
ended: its outcome, and which of its inputs had not finished by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import math
import sys
from collections.abc import Awaitable, Callable, Coroutine, Generator
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.lowlevel

from multi_await import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    as_completed_or_abort,
    cancel_all,
    gather_or_abort,
    map_or_abort,
    multi_await,
    race_or_abort,
    secondary_errors,
    wait_or_abort,
)

from .backends import Backend
from .model import Call, Cleanup, Leaf, Schedule

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup

#: Checkpoints standing for one tick where the clock is real (uvloop).
CHECKPOINTS_PER_TICK = 4
#: Seconds standing for one tick of a timeout where the clock is real (uvloop).
REAL_TICK = 0.002
#: A call still running this many ticks after it started has hung.
GUARD_TICKS = 10_000
#: The same, in seconds, where the clock is real.
GUARD_SECONDS = 20.0

RETURN_KINDS = ("body_return", "swallow_return", "nested_return")
FAILURE_KINDS = ("body_fail", "cleanup_fail", "nested_fail", "self_cancelled")
#: Outcomes of an input's body, which must not happen once its call aborted.
BODY_KINDS = ("body_return", "body_fail", "self_cancelled")


class InputError(Exception):
    """What a failing input raises: each one a fresh object, named after its input."""


class CleanupError(Exception):
    """What a cleanup raises, like the article's "I/O operation on closed file"."""


class Interrupt(BaseException):
    """A ``BaseException`` that is not an ``Exception``, like ``KeyboardInterrupt``."""


class LoopBodyError(Exception):
    """Raised by the body of ``async for`` over ``as_completed_or_abort``."""


class UnprintableError(Exception):
    """An exception whose ``__str__`` raises."""

    def __str__(self) -> str:
        raise RuntimeError("this exception cannot be printed")


@dataclasses.dataclass(frozen=True)
class FrozenError(Exception):
    """An exception class that refuses new attributes."""

    name: str


class DeepError(Exception):
    """Raised :data:`DEEP_FRAMES` frames deep."""


#: How deep a ``deep_traceback`` input raises.
DEEP_FRAMES = 900


def odd_exception(kind: str, name: str) -> BaseException:
    """A fresh odd exception of *kind* (one of ``model.ODD_KINDS``), named *name*."""
    if kind == "exception_group":
        return ExceptionGroup(f"{name} failed", [InputError(f"{name} inside a group")])
    if kind == "frozen":
        return FrozenError(name)
    kinds: dict[str, Callable[[str], BaseException]] = {
        "stop_iteration": StopIteration,
        "stop_async_iteration": StopAsyncIteration,
        "generator_exit": GeneratorExit,
        "keyboard_interrupt": KeyboardInterrupt,
        "system_exit": SystemExit,
        "custom_base": Interrupt,
        "unprintable": UnprintableError,
        "deep_traceback": DeepError,
    }
    return kinds[kind](name)


def raise_odd(error: BaseException) -> None:
    """Raise *error*; a :class:`DeepError` from :data:`DEEP_FRAMES` frames deep."""
    if not isinstance(error, DeepError):
        raise error
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _depth() + DEEP_FRAMES + 100))  # pytest's frames too
    try:
        _raise_from_depth(error, DEEP_FRAMES)
    finally:
        sys.setrecursionlimit(limit)


def _depth() -> int:
    depth, frame = 0, sys._getframe()
    while frame.f_back is not None:
        depth, frame = depth + 1, frame.f_back
    return depth


def _raise_from_depth(error: BaseException, depth: int) -> None:
    if depth > 1:
        _raise_from_depth(error, depth - 1)
    raise error


class Value:
    """A result: a fresh object per input, so that results are checked by identity."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Value({self.name})"


class Box:
    """An awaitable that is neither a coroutine nor a future."""

    __slots__ = ("_coroutine",)

    def __init__(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        self._coroutine = coroutine

    def __await__(self) -> Generator[Any, Any, Any]:
        return self._coroutine.__await__()


@dataclass
class Event:
    seq: int
    time: float
    node: int
    index: int
    kind: str
    obj: Any = None
    #: ``self_cancelled`` only: whether the call had cancelled the input too
    #: (``None`` where asyncio cannot tell, before Python 3.11).
    by_us: bool | None = None


@dataclass
class Node:
    """One call made while running a schedule, and how it ended."""

    id: int
    spec: Call
    parent: Node | None
    #: Position of this call among its parent's inputs.
    index: int | None
    start: float = math.nan
    end: float = math.nan
    end_seq: int = -1
    #: Log entries before this sequence number came before the call could run any
    #: input's callback: asyncio reports them in input order (see ``checks.py``).
    prestart_seq: int = -1
    returned: Any = None
    raised: BaseException | None = None
    #: ``secondary_errors(raised)`` at the moment the call raised.
    secondaries: tuple[BaseException, ...] = ()
    #: Inputs started but not finished when the call returned or raised.
    unfinished: list[int] = field(default_factory=list)
    #: Foreign tasks not done when the call returned or raised.
    undone_tasks: list[int] = field(default_factory=list)
    #: ``as_completed``: (index or None, value, time, seq) per value given.
    yielded: list[tuple[int | None, Any, float, int]] = field(default_factory=list)
    #: ``as_completed``: when the loop's body left early, and what it raised.
    left_at: float = math.inf
    body_error: BaseException | None = None
    #: ``as_completed``: whether the exception came out of a step of the iteration.
    raised_by_step: bool = False
    #: Foreign asyncio tasks among the inputs, by position.
    tasks: dict[int, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        if self.parent is None:
            return "the top call"
        return f"{self.parent.path} > input {self.index} ({self.spec.primitive})"

    @property
    def ended(self) -> bool:
        return not math.isnan(self.end)


@dataclass
class OuterRecord:
    """What the caller of the top call went through."""

    #: (time, seq) of each cancellation issued to the caller (seq ``None`` for a
    #: deadline, which is issued by the clock).
    issued: list[tuple[float, int | None]] = field(default_factory=list)
    #: Sequence numbers of the ``Task.cancel()`` calls the caller's task made on
    #: itself (from the body of its ``async for``): they take effect at its next
    #: ``await``, which may come after the call.
    issued_by_itself: list[int] = field(default_factory=list)
    #: Native ``Task.cancel()`` calls made on the caller's task.
    native_cancels: int = 0
    #: The caller task's ``cancelling()`` right after the call, and the number of
    #: ``Task.cancel()`` calls issued by then (Python 3.11+, asyncio).
    cancelling_after_call: tuple[int, int] | None = None
    #: The same, once the caller's cancel scope or ``asyncio.timeout()`` was left.
    cancelling_after_scope: tuple[int, int] | None = None
    #: What the checkpoint right after a call that returned raised, if anything.
    after_call: BaseException | None = None
    #: Sequence number once that checkpoint had passed.
    after_call_seq: int | None = None
    #: What the checkpoint right after a call that raised raised (``native`` only).
    after_failure: BaseException | None = None
    #: What left the caller's cancel scope or ``asyncio.timeout()`` block.
    escaped: BaseException | None = None
    scope_caught: bool | None = None
    task_cancelled: bool | None = None
    hung: bool = False
    #: asyncio tasks still alive once the example's main was about to return.
    leftover_tasks: list[Any] = field(default_factory=list)


class Run:
    """The state of one example: its log, its calls, the caller's controls."""

    def __init__(self, backend: Backend, schedule: Schedule) -> None:
        self.backend = backend
        self.schedule = schedule
        self.events: list[Event] = []
        self.nodes: list[Node] = []
        self.coroutines: list[Coroutine[Any, Any, Any]] = []
        self.outer = OuterRecord()
        self.backend_cancelled: type[BaseException] = _cancelled_class(backend)
        self._seq = 0
        self._trigger_count = 0
        self._cancel_caller: Callable[[], None] | None = None
        self._native_left = 0

    # -- the log -------------------------------------------------------------------

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def now(self) -> float:
        return anyio.current_time()

    def log(self, node: Node, index: int, kind: str, obj: Any = None, **extra: Any) -> Any:
        """Record an event; return *obj*, so that ``raise run.log(...)`` reads well."""
        self.events.append(Event(self.next_seq(), self.now(), node.id, index, kind, obj, **extra))
        self._maybe_trigger(kind)
        return obj

    def _maybe_trigger(self, kind: str) -> None:
        outer = self.schedule.outer
        fired = {
            "start": kind == "start",
            "fail": kind in ("body_fail", "cleanup_fail", "self_cancelled"),
            "cleanup": kind == "cancel_seen",
            "return": kind == "body_return",
            "yield": kind == "yield",
        }
        if outer.on is not None and fired[outer.on]:
            self._trigger_count += 1
            if self._trigger_count == outer.nth:
                self.cancel_caller()
        elif kind == "cancel_seen" and self._native_left and self.outer.native_cancels:
            self.cancel_caller()  # a further Task.cancel() while the abort is in progress

    def cancel_caller(self) -> None:
        if self._cancel_caller is not None:
            self.outer.issued.append((self.now(), self.next_seq()))
            self._cancel_caller()

    # -- time ----------------------------------------------------------------------

    async def pause(self, ticks: float, checkpoints: int = 0) -> None:
        if ticks:
            if self.backend.virtual:
                await anyio.sleep(ticks)
            else:
                checkpoints += math.ceil(ticks * CHECKPOINTS_PER_TICK)
        for _ in range(checkpoints):
            await anyio.lowlevel.checkpoint()

    def seconds(self, ticks: float) -> float:
        return ticks if self.backend.virtual else ticks * REAL_TICK

    def timeout(self, ticks: float | None) -> float | None:
        return None if ticks is None else self.seconds(ticks)

    # -- inputs --------------------------------------------------------------------

    def track(self, coroutine: Coroutine[Any, Any, Any]) -> Coroutine[Any, Any, Any]:
        self.coroutines.append(coroutine)
        return coroutine

    def make_input(self, node: Node, index: int, spec: Leaf | Call) -> Any:
        def make() -> Coroutine[Any, Any, Any]:
            if isinstance(spec, Leaf):
                return self.track(leaf(self, node, index, spec))
            return self.track(nested(self, node, index, spec))

        if spec.form == "callable":
            return functools.partial(make)
        if spec.form == "awaitable":
            return Box(make())
        if spec.form == "foreign":
            task = asyncio.get_running_loop().create_task(make())
            node.tasks[index] = task
            return task
        return make()

    def new_node(self, spec: Call, parent: Node | None, index: int | None) -> Node:
        node = Node(len(self.nodes), spec, parent, index)
        self.nodes.append(node)
        return node


def _cancelled() -> type[BaseException]:
    return anyio.get_cancelled_exc_class()


def _cancelled_class(backend: Backend) -> type[BaseException]:
    if backend.asyncio:
        return asyncio.CancelledError
    import trio

    return trio.Cancelled


async def leaf(run: Run, node: Node, index: int, spec: Leaf) -> Any:
    """An input that does what *spec* says, logging each step."""
    name = f"n{node.id}.{index}"
    cleanup = spec.cleanup
    run.log(node, index, "start")
    self_cancelling = False
    try:
        try:
            await run.pause(spec.ticks, spec.checkpoints)
            if spec.body == "return":
                return run.log(node, index, "body_return", Value(name))
            if spec.body == "raise":
                raise run.log(node, index, "body_fail", InputError(f"{name} failed"))
            if spec.body == "raise_base":
                raise run.log(node, index, "body_fail", Interrupt(f"{name} interrupted"))
            if spec.body == "raise_odd":
                raise_odd(run.log(node, index, "body_fail", odd_exception(spec.odd, name)))
            if spec.body == "self_cancel":
                self_cancelling = True
                await _cancel_own_task(run, node, index)
            await anyio.sleep_forever()
        except _cancelled():
            if self_cancelling:
                raise
            run.log(node, index, "cancel_seen")
            await _clean_up(run, node, index, cleanup)
            if cleanup.ending == "swallow":
                return run.log(node, index, "swallow_return", Value(f"{name} swallowed"))
            if cleanup.ending == "raise":
                # Raised while the cancellation is handled, as a finally block would.
                error = CleanupError(f"{name} cleanup failed")
                raise run.log(node, index, "cleanup_fail", error)  # noqa: B904
            if cleanup.ending == "raise_odd":
                raise_odd(run.log(node, index, "cleanup_fail", odd_exception(spec.odd, name)))
            raise
    finally:
        run.log(node, index, "finish")


async def _clean_up(run: Run, node: Node, index: int, cleanup: Cleanup) -> None:
    """Shielded work. On asyncio the shield holds off nothing: the call must not
    cancel an input a second time (docs/guarantee.rst), and nobody else does here."""
    with anyio.CancelScope(shield=True):
        try:
            await run.pause(cleanup.ticks, cleanup.checkpoints)
        except _cancelled():
            run.log(node, index, "cancelled_again")
            raise


async def _cancel_own_task(run: Run, node: Node, index: int) -> None:
    task = asyncio.current_task()
    assert task is not None
    task.cancel()
    try:
        await asyncio.sleep(0)
    except asyncio.CancelledError:
        by_us: bool | None = None  # asyncio cannot tell before Python 3.11
        if sys.version_info >= (3, 11):
            by_us = task.cancelling() > 1
        run.log(node, index, "self_cancelled", by_us=by_us)
        raise


async def nested(run: Run, parent: Node, index: int, spec: Call) -> Any:
    """An input that is itself a call of a primitive."""
    run.log(parent, index, "start")
    try:
        try:
            await run.pause(spec.ticks)
            result = await run_call(run, spec, parent, index)
        except _cancelled():
            run.log(parent, index, "cancel_seen")
            raise
        except BaseException as exc:
            run.log(parent, index, "nested_fail", exc)
            raise
        return run.log(parent, index, "nested_return", result)
    finally:
        run.log(parent, index, "finish")


async def run_call(
    run: Run, spec: Call, parent: Node | None = None, index: int | None = None
) -> Any:
    """Make the call *spec* describes, recording how it ends as it ends."""
    node = run.new_node(spec, parent, index)
    if run.backend.asyncio:
        # Runs once the call has started every input and waits, and before any step
        # of its inputs: what they logged before then, the call learns of in input
        # order (eager tasks that finished at once, foreign tasks already done).
        asyncio.get_running_loop().call_soon(_mark_prestart, run, node)
    inputs = [run.make_input(node, i, child) for i, child in enumerate(spec.inputs)]
    if not run.backend.asyncio:
        node.prestart_seq = run.next_seq()
    node.start = run.now()
    timeout = run.timeout(spec.timeout)
    try:
        result = await ENTRY_POINTS[spec.primitive](run, node, inputs, timeout)
    except BaseException as exc:
        _ended(run, node)
        node.raised = exc
        node.secondaries = secondary_errors(exc)
        raise
    _ended(run, node)
    node.returned = result
    return result


def _mark_prestart(run: Run, node: Node) -> None:
    node.prestart_seq = run.next_seq()


def _ended(run: Run, node: Node) -> None:
    node.end = run.now()
    node.end_seq = run.next_seq()
    started, finished = set(), set()
    for event in run.events:
        if event.node == node.id:
            if event.kind == "start":
                started.add(event.index)
            elif event.kind == "finish":
                finished.add(event.index)
    node.unfinished = sorted(started - finished)
    node.undone_tasks = sorted(i for i, task in node.tasks.items() if not task.done())


async def _iterate(
    run: Run,
    node: Node,
    inputs: list[Any],
    timeout: float | None,
    *,
    max_concurrency: int | None = None,
) -> list[Any]:
    loop = node.spec.loop
    got: list[Any] = []
    async with as_completed_or_abort(inputs, timeout, max_concurrency=max_concurrency) as completed:
        steps = completed.indexed() if loop.indexed else completed
        while True:
            try:
                item = await steps.__anext__()
            except StopAsyncIteration:
                break
            except BaseException:
                node.raised_by_step = True
                raise
            index, value = item if loop.indexed else (None, item)
            got.append(value)
            node.yielded.append((index, value, run.now(), run.next_seq()))
            run.log(node, -1, "yield")
            for _ in range(loop.checkpoints):
                await anyio.lowlevel.checkpoint()
            if loop.leave_after is not None and len(got) >= loop.leave_after:
                node.left_at = run.now()
                if loop.leave_by == "break":
                    break
                node.body_error = LoopBodyError(f"the loop over n{node.id} raised")
                raise node.body_error
    return got


#: Ticks between the starts of a staggered race: longer than any example runs, so
#: that only a failure starts the next attempt.
STAGGER_TICKS = 10_000

Caller = Callable[[Run, Node, list[Any], float | None], Awaitable[Any]]


async def _gather(run: Run, node: Node, inputs: list[Any], timeout: float | None) -> Any:
    return await gather_or_abort(*inputs, timeout=timeout)


async def _gather_returning_exceptions(
    run: Run, node: Node, inputs: list[Any], timeout: float | None
) -> Any:
    return await gather_or_abort(*inputs, timeout=timeout, return_exceptions=True)


async def _gather_two_at_a_time(
    run: Run, node: Node, inputs: list[Any], timeout: float | None
) -> Any:
    return await gather_or_abort(*inputs, timeout=timeout, max_concurrency=2)


async def _gather_each_limited(
    run: Run, node: Node, inputs: list[Any], timeout: float | None
) -> Any:
    """Each input with a time limit of its own, longer than any example runs."""
    limit = run.seconds(GUARD_TICKS)
    return await gather_or_abort(*inputs, timeout=timeout, input_timeout=limit)


async def _gather_paced(run: Run, node: Node, inputs: list[Any], timeout: float | None) -> Any:
    """Inputs started in turns by a pace fast enough never to hold one back for long."""
    return await gather_or_abort(*inputs, timeout=timeout, max_per_second=1 / run.seconds(0.001))


def _wait(mode: str) -> Caller:
    async def wait(run: Run, node: Node, inputs: list[Any], timeout: float | None) -> Any:
        return await wait_or_abort(inputs, timeout, return_when=mode)

    return wait


async def _iterate_two_at_a_time(
    run: Run, node: Node, inputs: list[Any], timeout: float | None
) -> Any:
    return await _iterate(run, node, inputs, timeout, max_concurrency=2)


async def _iterate_bare(run: Run, node: Node, inputs: list[Any], timeout: float | None) -> Any:
    return [value async for value in as_completed_or_abort(inputs, timeout)]


async def _iterate_as_in_1x(run: Run, node: Node, inputs: list[Any], timeout: float | None) -> Any:
    return [await step for step in as_completed_or_abort(inputs, timeout)]


async def _race(run: Run, node: Node, inputs: list[Any], timeout: float | None) -> Any:
    return await race_or_abort(inputs, timeout=timeout)


async def _staggered_race(run: Run, node: Node, inputs: list[Any], timeout: float | None) -> Any:
    return await race_or_abort(inputs, timeout=timeout, stagger=run.seconds(STAGGER_TICKS))


async def _map(run: Run, node: Node, inputs: list[Any], timeout: float | None) -> Any:
    """``map_or_abort`` over the positions of the inputs, async callables: each item's
    input is made when the item is pulled."""
    return await map_or_abort(_calling(inputs), range(len(inputs)), timeout=timeout)


async def _map_streamed(run: Run, node: Node, inputs: list[Any], timeout: float | None) -> Any:
    async with map_or_abort(_calling(inputs), range(len(inputs)), timeout=timeout) as results:
        return [value async for value in results]


def _calling(inputs: list[Callable[[], Any]]) -> Callable[[int], Any]:
    return lambda position: inputs[position]()


async def _select_loop(run: Run, node: Node, inputs: list[Any], timeout: float | None) -> Any:
    """Sources called over and over until one fails, as 1.x's ``get_or_raise`` loop."""
    async with multi_await() as m:
        for source in inputs:
            m.add(source)
        while True:
            await m.get_or_raise()


async def _cancel_all(run: Run, node: Node, inputs: list[Any], timeout: float | None) -> Any:
    await anyio.wait_all_tasks_blocked()  # the tasks are running: they have their cleanup
    return await cancel_all(inputs)


#: How each kind of call is made, by the name a ``Call`` gives as its primitive. The
#: model draws the first five (model.PRIMITIVES); the others take inputs arranged
#: for them (test_entry_point_matrix.py).
ENTRY_POINTS: dict[str, Caller] = {
    "gather": _gather,
    "wait_all": _wait(ALL_COMPLETED),
    "wait_first_completed": _wait(FIRST_COMPLETED),
    "wait_first_exception": _wait(FIRST_EXCEPTION),
    "as_completed": _iterate,
    "gather_return_exceptions": _gather_returning_exceptions,
    "gather_max_concurrency": _gather_two_at_a_time,
    "gather_input_timeout": _gather_each_limited,
    "gather_max_per_second": _gather_paced,
    "as_completed_max_concurrency": _iterate_two_at_a_time,
    "as_completed_bare": _iterate_bare,
    "as_completed_1x": _iterate_as_in_1x,
    "race": _race,
    "race_stagger": _staggered_race,
    "map": _map,
    "map_streamed": _map_streamed,
    "select_loop": _select_loop,
    "cancel_all": _cancel_all,
}


# -- the caller ----------------------------------------------------------------------


async def run_schedule(run: Run) -> None:
    """The example's main: the top call, its caller, and whoever cancels the caller."""
    outer = run.schedule.outer
    async with anyio.create_task_group() as helpers:
        if outer.how in ("native", "asyncio_timeout"):
            task = asyncio.get_running_loop().create_task(_caller(run, _outer_block(run)))
            if outer.how == "native":
                run._cancel_caller = functools.partial(_cancel_task, run, task)
                run._native_left = outer.times - 1
                if outer.on is None:
                    helpers.start_soon(_cancel_at, run, outer.at)
            helpers.start_soon(_guard, run, task.cancel)
            await asyncio.wait([task])
            run.outer.task_cancelled = task.cancelled()
            if not task.cancelled():
                task.result()
        else:
            block = _outer_block(run)
            if outer.how == "scope":
                run._cancel_caller = block.inner.cancel
                if outer.on is None:
                    helpers.start_soon(_cancel_at, run, outer.at)
            with anyio.CancelScope() as guard_scope:
                helpers.start_soon(_guard, run, guard_scope.cancel)
                await _caller(run, block)
        helpers.cancel_scope.cancel()
    if run.backend.asyncio:
        run.outer.leftover_tasks = list(asyncio.all_tasks() - {asyncio.current_task()})


def _outer_block(run: Run) -> Any:
    """The ``async with`` block around the top call that cancels it, if any."""
    outer = run.schedule.outer
    if outer.how == "asyncio_timeout":
        run.outer.issued.append((run.now() + run.seconds(outer.at), None))
        return asyncio.timeout(run.seconds(outer.at))  # type: ignore[attr-defined]
    if outer.how == "deadline":
        run.outer.issued.append((run.now() + run.seconds(outer.at), None))
        return _AsyncBlock(anyio.move_on_after(run.seconds(outer.at)))
    if outer.how == "scope":
        return _AsyncBlock(anyio.CancelScope())
    return _AsyncBlock(contextlib.nullcontext())


def _cancel_task(run: Run, task: asyncio.Task[Any]) -> None:
    if asyncio.current_task() is task:
        run.outer.issued_by_itself.append(run.outer.issued[-1][1] or 0)
    run.outer.native_cancels += 1
    if run.outer.native_cancels > 1:
        run._native_left -= 1
    task.cancel()


async def _cancel_at(run: Run, tick: int) -> None:
    await run.pause(tick)
    run.cancel_caller()


async def _guard(run: Run, cancel: Callable[[], Any]) -> None:
    await anyio.sleep(GUARD_TICKS if run.backend.virtual else GUARD_SECONDS)
    run.outer.hung = True
    cancel()


async def _caller(run: Run, block: Any) -> None:
    try:
        async with block:
            try:
                await run_call(run, run.schedule.call)
            finally:
                run.outer.cancelling_after_call = _cancelling(run)
            try:
                await anyio.lowlevel.checkpoint()
            except BaseException as exc:
                run.outer.after_call = exc
                raise
            run.outer.after_call_seq = run.next_seq()
    except BaseException as exc:
        run.outer.escaped = exc
        if run.schedule.outer.how == "native":
            if isinstance(exc, asyncio.CancelledError):
                raise  # let the caller's task end cancelled, as asyncio expects
            await _await_once_more(run)  # a cancellation kept for the caller comes here
    finally:
        run.outer.scope_caught = getattr(getattr(block, "inner", None), "cancelled_caught", None)
        run.outer.cancelling_after_scope = _cancelling(run)


async def _await_once_more(run: Run) -> None:
    try:
        await anyio.lowlevel.checkpoint()
    except asyncio.CancelledError as exc:
        run.outer.after_failure = exc
        raise


def _cancelling(run: Run) -> tuple[int, int] | None:
    if not run.backend.asyncio or sys.version_info < (3, 11):
        return None
    task = asyncio.current_task()
    assert task is not None
    return task.cancelling(), run.outer.native_cancels


class _AsyncBlock:
    """A sync context manager used with ``async with``, like ``asyncio.timeout()``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __aenter__(self) -> Any:
        return self.inner.__enter__()

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        return self.inner.__exit__(*exc_info)  # type: ignore[no-any-return]


def run_example(backend: Backend, schedule: Schedule) -> Run:
    """Run *schedule* on *backend*, in a fresh event loop; return what happened."""
    run = Run(backend, schedule)

    async def main() -> None:
        await run_schedule(run)

    backend.run(main)
    return run
