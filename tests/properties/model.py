"""Schedules: what each input does, how it is passed, and what happens around the call.

A schedule is plain data, so that Hypothesis can generate, shrink and print it. Time
is counted in *ticks*: one virtual second where the clock is virtual (see
``backends.py``), a few checkpoints on uvloop. Within a tick, inputs also differ by
how many checkpoints they pass, which orders them without any clock.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field, replace

from hypothesis import strategies as st

from .backends import Backend

#: What an input's body does once its delay is over.
#: ``raise_base`` raises a ``BaseException`` that is not an ``Exception``;
#: ``raise_odd`` raises the odd exception its leaf names (see ODD_KINDS);
#: ``self_cancel`` (asyncio only) cancels the input's own task.
BODIES = ("return", "raise", "raise_base", "raise_odd", "forever", "self_cancel")
#: How an input's cleanup ends, once it was cancelled: ``swallow`` returns a value.
ENDINGS = ("finish", "raise", "raise_odd", "swallow")
#: Exceptions that tend to break what handles them (harness.odd_exception makes them):
#: ``StopIteration`` (a coroutine turns it into ``RuntimeError``), ``StopAsyncIteration``
#: (it would end an ``async for``), ``GeneratorExit``, the interrupts, a custom
#: ``BaseException``, an ``ExceptionGroup``, one whose ``__str__`` raises, a frozen
#: dataclass (it refuses new attributes), and one raised 900 frames deep.
ODD_KINDS = (
    "stop_iteration",
    "stop_async_iteration",
    "generator_exit",
    "keyboard_interrupt",
    "system_exit",
    "custom_base",
    "exception_group",
    "unprintable",
    "frozen",
    "deep_traceback",
)
#: Raised by a task, these leave an asyncio event loop at once (asyncio re-raises them
#: out of ``run_forever()``): no library can wait for anything first.
LOOP_LEAVING = ("keyboard_interrupt", "system_exit")
#: How an input is handed to the primitive. ``foreign`` is an asyncio task made
#: before the call (asyncio only).
FORMS = ("coroutine", "callable", "awaitable", "foreign")
PRIMITIVES = (
    "gather",
    "wait_all",
    "wait_first_completed",
    "wait_first_exception",
    "as_completed",
)
#: How the caller is cancelled: an AnyIO cancel scope cancelled by someone, an AnyIO
#: deadline, asyncio's ``Task.cancel()`` on the caller's task, ``asyncio.timeout()``.
OUTER = ("none", "scope", "deadline", "native", "asyncio_timeout")
#: Log events that can trigger the caller's cancellation, at the very moment they
#: happen (inside the input that logs them).
TRIGGERS = ("start", "fail", "cleanup", "return", "yield")


@dataclass(frozen=True)
class Cleanup:
    """What an input does once cancelled: shielded work, then how it ends."""

    checkpoints: int = 0
    #: Ticks of shielded sleep: the input ignores its cancellation this long.
    ticks: int = 0
    ending: str = "finish"


@dataclass(frozen=True)
class Leaf:
    """An input that waits *ticks* then *checkpoints*, then does what *body* says."""

    body: str = "return"
    ticks: int = 0
    checkpoints: int = 0
    cleanup: Cleanup = field(default_factory=Cleanup)
    form: str = "coroutine"
    #: What ``raise_odd`` raises, as the body or as the cleanup's ending.
    odd: str = "custom_base"


@dataclass(frozen=True)
class Loop:
    """The body of ``async for`` over ``as_completed_or_abort``."""

    #: Leave the loop after this many values (``None``: run it to the end).
    leave_after: int | None = None
    #: ``break``, or ``raise`` an exception of the loop's own.
    leave_by: str = "break"
    checkpoints: int = 0
    indexed: bool = False


@dataclass(frozen=True)
class Call:
    """One call of a primitive; as an input of another call, a nested call."""

    primitive: str = "gather"
    inputs: tuple[Leaf | Call, ...] = ()
    #: Seconds in ticks; ``None`` and ``inf`` mean no limit, zero or less expired.
    timeout: float | None = None
    loop: Loop = field(default_factory=Loop)
    #: As an input: ticks to wait before making the call, and how it is passed.
    ticks: int = 0
    form: str = "coroutine"


@dataclass(frozen=True)
class Outer:
    """How the caller of the top call is cancelled, if at all."""

    how: str = "none"
    #: The tick at which it happens, for every way but an event trigger.
    at: int = 0
    #: Or: at the *nth* log event of this kind anywhere in the schedule.
    on: str | None = None
    nth: int = 1
    #: ``native`` only: how many ``Task.cancel()`` calls; the later ones come as
    #: inputs begin their cleanup, that is while the abort is in progress.
    times: int = 1


@dataclass(frozen=True)
class Schedule:
    call: Call
    outer: Outer = field(default_factory=Outer)


def may_hang(node: Leaf | Call) -> bool:
    """Whether *node* might never finish on its own (without being cancelled).

    Errs on the side of "might": a schedule whose top call might hang gets a time
    limit, so that a call that does not return is always a bug, never the schedule.
    """
    if isinstance(node, Leaf):
        return node.body == "forever"
    if node.timeout is not None and not math.isinf(node.timeout):
        return False
    if not node.inputs:
        return False
    if node.primitive == "wait_first_completed":
        return all(may_hang(child) for child in node.inputs)
    return any(may_hang(child) for child in node.inputs)


def count_calls(node: Leaf | Call) -> int:
    if isinstance(node, Leaf):
        return 0
    return 1 + sum(count_calls(child) for child in node.inputs)


# -- strategies ------------------------------------------------------------------


def cleanups() -> st.SearchStrategy[Cleanup]:
    return st.builds(
        Cleanup,
        checkpoints=st.integers(0, 3),
        ticks=st.sampled_from((0, 0, 0, 1, 2, 7)),
        ending=st.sampled_from(("finish", "finish", "raise", "raise_odd", "swallow")),
    )


def odd_kinds(backend: Backend) -> tuple[str, ...]:
    """The odd exceptions an input may raise on *backend*, with the call still in charge.

    Not the interrupts on asyncio: they leave the event loop at once (LOOP_LEAVING).
    """
    if backend.asyncio:
        return tuple(kind for kind in ODD_KINDS if kind not in LOOP_LEAVING)
    return ODD_KINDS


def leaves(backend: Backend) -> st.SearchStrategy[Leaf]:
    bodies = ["return", "return", "raise", "raise", "forever", "forever", "raise_base"]
    bodies.append("raise_odd")
    forms = ["coroutine", "coroutine", "callable", "awaitable"]
    if backend.asyncio:
        bodies.append("self_cancel")
        forms.append("foreign")
    return st.builds(
        Leaf,
        body=st.sampled_from(bodies),
        ticks=st.sampled_from((0, 0, 1, 1, 2, 3, 5, 8)),
        checkpoints=st.integers(0, 4),
        cleanup=cleanups(),
        form=st.sampled_from(forms),
        odd=st.sampled_from(odd_kinds(backend)),
    )


def timeouts() -> st.SearchStrategy[float | None]:
    return st.one_of(
        st.none(),
        st.none(),
        st.just(math.inf),
        st.integers(-1, 9).map(float),
    )


def finite_timeouts() -> st.SearchStrategy[float]:
    return st.integers(-1, 9).map(float)


def loops() -> st.SearchStrategy[Loop]:
    return st.builds(
        Loop,
        leave_after=st.one_of(st.none(), st.integers(1, 4)),
        leave_by=st.sampled_from(("break", "raise")),
        checkpoints=st.integers(0, 2),
        indexed=st.booleans(),
    )


def calls(backend: Backend, depth: int, *, top: bool) -> st.SearchStrategy[Call]:
    """Calls of any primitive whose inputs nest calls *depth* levels deep."""
    leaf = leaves(backend)
    child = (
        leaf if depth == 0 else st.one_of(leaf, leaf, leaf, calls(backend, depth - 1, top=False))
    )
    forms = ["coroutine", "callable", "awaitable"] + (["foreign"] if backend.asyncio else [])
    return _calls(child, top=top, forms=st.sampled_from(forms))


@st.composite
def _calls(
    draw: st.DrawFn,
    child: st.SearchStrategy[Leaf | Call],
    *,
    top: bool,
    forms: st.SearchStrategy[str],
) -> Call:
    primitive = draw(_PRIMITIVES)
    return Call(
        primitive=primitive,
        inputs=tuple(draw(st.lists(child, max_size=5 if top else 3))),
        timeout=draw(_TIMEOUTS),
        loop=draw(_LOOPS) if primitive == "as_completed" else Loop(),
        ticks=0 if top else draw(_NESTED_TICKS),
        form="coroutine" if top else draw(forms),
    )


_PRIMITIVES = st.sampled_from(PRIMITIVES)
_TIMEOUTS = timeouts()
_LOOPS = loops()
_NESTED_TICKS = st.sampled_from((0, 0, 1, 2))


@st.composite
def outers(draw: st.DrawFn, backend: Backend) -> Outer:
    hows = ["none", "none", "none", "scope", "scope", "deadline"]
    if backend.asyncio:
        hows.append("native")
        if sys.version_info >= (3, 11):
            hows.append("asyncio_timeout")
    how = draw(st.sampled_from(hows))
    if how == "none":
        return Outer()
    at = draw(st.integers(0, 10))
    if how in ("scope", "native") and draw(st.booleans()):
        return Outer(
            how=how,
            on=draw(st.sampled_from(TRIGGERS)),
            nth=draw(st.integers(1, 3)),
            times=draw(st.integers(1, 2)) if how == "native" else 1,
        )
    return Outer(how=how, at=at, times=draw(st.integers(1, 2)) if how == "native" else 1)


_STRATEGIES: dict[str, tuple[st.SearchStrategy[Call], st.SearchStrategy[Outer]]] = {}


def schedules(backend: Backend) -> st.SearchStrategy[Schedule]:
    """A call of any primitive, nested calls among its inputs, and its caller."""
    if backend.name not in _STRATEGIES:
        _STRATEGIES[backend.name] = (calls(backend, 2, top=True), outers(backend))
    return _schedules(*_STRATEGIES[backend.name])


@st.composite
def _schedules(
    draw: st.DrawFn, top_calls: st.SearchStrategy[Call], outer_strategy: st.SearchStrategy[Outer]
) -> Schedule:
    call = draw(top_calls)
    outer = draw(outer_strategy)
    timeout = call.timeout
    ticked = outer.how != "none" and outer.on is None
    if ticked and timeout is not None and not math.isinf(timeout) and draw(st.booleans()):
        # The caller is cancelled at the very instant the call's deadline passes.
        outer = replace(outer, at=max(0, int(timeout)))
    ends_surely = outer.how in ("deadline", "asyncio_timeout") or (
        outer.how in ("scope", "native") and outer.on is None
    )
    if may_hang(call) and not ends_surely:
        # Something must end the call: give it a time limit.
        call = Call(
            primitive=call.primitive,
            inputs=call.inputs,
            timeout=draw(finite_timeouts()),
            loop=call.loop,
        )
    return Schedule(call, outer)
