"""Every public entry point and form, against every odd exception, on every backend.

Each case is one call with three inputs: one that sleeps until it is cancelled and
then fails in its cleanup (or, where failures are tolerated, one that returns
late), one that raises the odd exception at once or after a checkpoint, and one that
returns soon. The whole guarantee is checked on each: nothing is left running or
un-awaited, the right exception comes out (or the right result, where the odd one is
tolerated), no failure is lost, and the caller's cancellation state is intact.
The odd exceptions are those of ``model.ODD_KINDS``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pytest

from .backends import BACKEND_PARAMS, Backend
from .checks import check_caller, check_nothing_left, check_printed, is_the_failure
from .harness import Run, run_schedule
from .model import LOOP_LEAVING, ODD_KINDS, Call, Cleanup, Leaf, Schedule

LOOP_INTERRUPTS = (KeyboardInterrupt, SystemExit)

#: The checkpoints the odd input passes before raising: none (on the eager task
#: factory, it raises inside ``create_task``), or one.
WHENS = (0, 1)


@dataclass(frozen=True)
class EntryPoint:
    """A way of calling the library, as ``harness.ENTRY_POINTS`` names it."""

    name: str
    #: An ``Exception`` of an input is its outcome, not a reason to abort.
    tolerates: bool = False
    #: Inputs are async callables (sources) or tasks made before the call.
    form: str = "coroutine"
    asyncio_only: bool = False

    @property
    def iterates(self) -> bool:
        return self.name.startswith("as_completed") or self.name == "map_streamed"


ENTRY_POINTS = [
    EntryPoint("gather"),
    EntryPoint("gather_return_exceptions", tolerates=True),
    EntryPoint("gather_max_concurrency"),
    EntryPoint("gather_input_timeout"),
    EntryPoint("gather_max_per_second"),
    EntryPoint("wait_all"),
    EntryPoint("wait_first_completed"),
    EntryPoint("as_completed"),
    EntryPoint("as_completed_max_concurrency"),
    EntryPoint("as_completed_bare", asyncio_only=True),
    EntryPoint("as_completed_1x", asyncio_only=True),
    EntryPoint("race", tolerates=True),
    EntryPoint("race_stagger", tolerates=True),
    EntryPoint("map", form="callable"),  # fn makes each input when its item is pulled
    EntryPoint("map_streamed", form="callable"),
    EntryPoint("select_loop", form="callable"),
    EntryPoint("cancel_all", form="foreign", asyncio_only=True),
]


def _leaves_the_loop(backend: Backend, entry_point: EntryPoint, kind: str, when: int) -> bool:
    """Whether asyncio re-raises the odd exception out of the event loop at once.

    It does for an interrupt raised by a task, except where the eager task factory
    runs the input inside ``create_task``, in the caller's own step.
    """
    if not backend.asyncio or kind not in LOOP_LEAVING:
        return False
    inside_create_task = backend.name == "asyncio+eager" and when == 0
    return not inside_create_task or entry_point.name == "cancel_all"


def _eager_tasks_own_report(context: dict[str, Any]) -> bool:
    """What asyncio itself reports when an input raises an interrupt in ``create_task``.

    The eager start frees the task it made before ``create_task`` returns, the
    interrupt recorded on it; the task's destructor reports it, as it does under
    :class:`asyncio.TaskGroup`. Nothing can retrieve it first.
    """
    error = context.get("exception")
    return isinstance(error, LOOP_INTERRUPTS) and "never retrieved" in context["message"]


def _inputs(entry_point: EntryPoint, kind: str, when: int, *, leaves: bool) -> tuple[Leaf, ...]:
    """The three inputs (two for ``cancel_all``); the odd one is always input 1."""
    form = entry_point.form
    # A cleanup failure the call can attach: not one that asyncio's shutdown reports.
    ending = "finish" if leaves else "raise"
    sleeper = Leaf(body="forever", cleanup=Cleanup(checkpoints=3, ending=ending), form=form)
    if entry_point.name == "cancel_all":
        odd_cleanup = Cleanup(checkpoints=when, ending="raise_odd")
        return sleeper, Leaf(body="forever", cleanup=odd_cleanup, odd=kind, form=form)
    odd = Leaf(body="raise_odd", checkpoints=when, odd=kind, form=form)
    soon = Leaf(body="return", checkpoints=3, form=form)
    if not entry_point.tolerates:
        return sleeper, odd, soon
    late = Leaf(body="return", checkpoints=20, form=form)
    if entry_point.name == "race_stagger":  # the odd one starts first, the late one never
        return odd, soon, late
    return late, odd, soon


def _run_case(backend: Backend, entry_point: EntryPoint, kind: str, when: int) -> list[str]:
    leaves = _leaves_the_loop(backend, entry_point, kind, when)
    inputs = _inputs(entry_point, kind, when, leaves=leaves)
    run = Run(backend, Schedule(Call(primitive=entry_point.name, inputs=inputs)))
    left: BaseException | None = None
    try:
        backend.run(functools.partial(run_schedule, run), expected_report=_eager_tasks_own_report)
    except BaseException as exc:  # an interrupt must not end pytest: it is judged here
        left = exc
    problems: list[str] = []
    check_nothing_left(run, problems, shut_down=leaves)
    odd = next(
        e.obj
        for e in run.events
        if e.kind in ("body_fail", "cleanup_fail") and e.index == _odd_index(entry_point)
    )
    if leaves:
        if left is not odd:
            problems.append(f"{odd!r} should have left the event loop, not {left!r}")
    elif left is not None:
        problems.append(f"{left!r} left the event loop")
    else:
        _check_outcome(run, entry_point, odd, problems)
        check_caller(run, problems)
    where = f"{backend.name}, {kind}, after {when} checkpoints"
    return [f"{where}: {problem}" for problem in problems]


def _odd_index(entry_point: EntryPoint) -> int:
    return 0 if entry_point.name == "race_stagger" else 1


def _check_outcome(
    run: Run, entry_point: EntryPoint, odd: BaseException, problems: list[str]
) -> None:
    top = run.nodes[0]
    returned = {e.index: e.obj for e in run.events if e.node == 0 and e.kind == "body_return"}
    if entry_point.tolerates and isinstance(odd, Exception):
        if top.raised is not None:
            problems.append(f"raised {top.raised!r} although {odd!r} is tolerated")
        elif entry_point.name == "gather_return_exceptions":
            late, failure, soon = top.returned
            if late is not returned.get(0) or soon is not returned.get(2):
                problems.append(f"returned {top.returned!r}, not the inputs' results")
            if not is_the_failure(failure, odd, iterated=False):
                problems.append(f"returned {failure!r} in place of {odd!r}")
        elif top.returned is not returned.get(1 if entry_point.name == "race_stagger" else 2):
            problems.append(f"the race returned {top.returned!r}, not the winner's result")
        return
    if top.raised is None or not is_the_failure(top.raised, odd, iterated=entry_point.iterates):
        problems.append(f"raised {top.raised!r}, returned {top.returned!r}; expected {odd!r}")
        return
    cleanup_failures = tuple(e.obj for e in run.events if e.kind == "cleanup_fail" and e.index == 0)
    if top.secondaries != cleanup_failures:
        problems.append(f"attached {top.secondaries!r}, expected {cleanup_failures!r}")
    check_printed("the call", top.raised, top.secondaries, problems)


@pytest.mark.parametrize("entry_point", [pytest.param(e, id=e.name) for e in ENTRY_POINTS])
@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_every_entry_point_keeps_the_guarantee_against_every_odd_exception(
    backend: Backend, entry_point: EntryPoint
) -> None:
    if entry_point.asyncio_only and not backend.asyncio:
        pytest.skip(f"{entry_point.name} takes asyncio tasks or needs no async with: asyncio's")
    problems = [
        problem
        for kind in ODD_KINDS
        for when in WHENS
        for problem in _run_case(backend, entry_point, kind, when)
    ]
    assert not problems, "\n".join(problems)
