"""The invariants every example must keep, judged from what ``harness.py`` recorded.

Each check says which promise of docs/guarantee.rst it holds the library to. Where
the backend's clock is virtual, times are exact and the checks on *when* things
happen apply too: a call neither returns early nor waits longer than it must.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import sys
import traceback
from collections.abc import Generator
from dataclasses import FrozenInstanceError, dataclass
from typing import Any

from multi_await import Done, InputCancelledError

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

from .harness import BODY_KINDS, FAILURE_KINDS, RETURN_KINDS, Event, Node, Run

#: Times closer than this are the same virtual instant.
EPSILON = 1e-9


@dataclass
class Expected:
    """A failure of an input, and whether the call must report it."""

    event: Event
    #: Must be raised or attached. A ``self_cancelled`` event is optional when the
    #: call had cancelled that input as well (or asyncio cannot tell, on 3.10).
    mandatory: bool
    #: Identities of the exceptions the call's inputs raised themselves.
    logged: frozenset[int] = frozenset()
    #: The call iterates its results (``as_completed_or_abort``).
    iterated: bool = False

    def matches(self, error: BaseException) -> bool:
        if self.event.kind == "self_cancelled":
            # The call makes this error itself; one raised by a nested call is not it.
            return (
                isinstance(error, InputCancelledError)
                and error.index == self.event.index
                and isinstance(error.__cause__, asyncio.CancelledError)
                and id(error) not in self.logged
            )
        return is_the_failure(error, self.event.obj, iterated=self.iterated)

    def __str__(self) -> str:
        what = "cancelled itself" if self.event.kind == "self_cancelled" else repr(self.event.obj)
        return f"input {self.event.index}: {what} ({self.event.kind} at t={self.event.time:g})"


def is_the_failure(raised: BaseException, logged: BaseException, *, iterated: bool) -> bool:
    """*raised* is *logged*, an input's failure, or what Python or CONTRACT 2.3 make of it.

    A coroutine turns ``StopIteration`` into a ``RuntimeError`` raised from it; a loop
    over results does the same to ``StopAsyncIteration``, which would end it.
    """
    if isinstance(logged, StopIteration):
        return type(raised) is RuntimeError and raised.__cause__ is logged
    if iterated and isinstance(logged, StopAsyncIteration):  # and it names the input
        named = "input " in str(raised) and "raised StopAsyncIteration" in str(raised)
        return type(raised) is RuntimeError and raised.__cause__ is logged and named
    return raised is logged


def check_run(run: Run) -> None:
    """Raise ``AssertionError`` listing every broken invariant of one example."""
    problems: list[str] = []
    if run.outer.hung:
        problems.append("the top call did not finish: it hung (the guard had to cancel it)")
    abort_times: dict[int, float] = {}
    for node in run.nodes:
        _check_node(run, node, abort_times, problems)
    check_caller(run, problems)
    check_nothing_left(run, problems)
    if problems:
        raise AssertionError("\n".join(f"- {problem}" for problem in problems))


# -- one call ----------------------------------------------------------------------


def _events(run: Run, node: Node) -> list[Event]:
    return [event for event in run.events if event.node == node.id and event.index >= 0]


def _report_order(run: Run, node: Node) -> list[Event]:
    """The events of *node*'s inputs in the order the call learns of them.

    On asyncio, outcomes logged before the call first waited (eager tasks that
    finished at once, foreign tasks that had finished before the call) reach the
    call in input order; everything later reaches it in the order it happened.
    """
    events = _events(run, node)
    before = sorted((e for e in events if e.seq < node.prestart_seq), key=lambda e: e.index)
    return before + [e for e in events if e.seq >= node.prestart_seq]


@dataclass
class Timing:
    """When each reason to abort a call came (virtual clocks only; ``inf``: never)."""

    deadline: float
    #: The first failure of an input, not counting inputs that cancelled themselves.
    first_failure: float
    #: ``FIRST_COMPLETED``: the first input to return.
    first_return: float
    #: ``as_completed``: the loop's body left early.
    left: float
    #: The caller's cancellation (top call), or the abort of the parent call.
    interrupted: float
    #: The first input that cancelled itself.
    first_self_cancel: float

    @property
    def others(self) -> float:
        """The first reason to abort but the deadline and inputs cancelling themselves."""
        return min(self.first_failure, self.first_return, self.left, self.interrupted)

    @property
    def aborted(self) -> float:
        return min(self.deadline, self.others, self.first_self_cancel)


def _timing(run: Run, node: Node, order: list[Event], abort_times: dict[int, float]) -> Timing:
    spec = node.spec
    timeout = spec.timeout
    deadline = math.inf
    if timeout is not None and not math.isinf(timeout):
        deadline = node.start + max(timeout, 0.0)
    first_return = math.inf
    if spec.primitive == "wait_first_completed":
        returns = [e.time for e in order if e.kind in ("body_return", "nested_return")]
        first_return = min(returns, default=math.inf)
    if node.parent is None:
        interrupted = min((time for time, _ in run.outer.issued), default=math.inf)
    else:
        interrupted = abort_times.get(node.parent.id, math.inf)
    timing = Timing(
        deadline=deadline,
        first_failure=min(
            (e.time for e in order if e.kind in FAILURE_KINDS and e.kind != "self_cancelled"),
            default=math.inf,
        ),
        first_return=first_return,
        left=node.left_at,
        interrupted=interrupted,
        # Whether or not the call had cancelled it too (unknown before 3.11), an
        # input cancelling itself is no later than the call's abort.
        first_self_cancel=min(
            (e.time for e in order if e.kind == "self_cancelled"), default=math.inf
        ),
    )
    abort_times[node.id] = timing.aborted
    return timing


def _failures(order: list[Event], *, iterated: bool) -> list[Expected]:
    """The failures of *node*'s inputs, in the order the call learns of them.

    An input that cancelled itself must be reported unless the call had cancelled
    it too (or asyncio cannot tell, before Python 3.11).
    """
    failures = [event for event in order if event.kind in FAILURE_KINDS]
    logged = frozenset(id(event.obj) for event in failures if event.obj is not None)
    return [
        Expected(event, event.kind != "self_cancelled" or event.by_us is False, logged, iterated)
        for event in failures
    ]


def _classify(run: Run, node: Node, failures: list[Expected]) -> str:
    exc = node.raised
    if exc is None:
        return "returned"
    if exc is node.body_error and exc is not None:
        return "body"
    if any(expected.matches(exc) for expected in failures):
        return "failure"
    if isinstance(exc, run.backend_cancelled):
        return "cancelled"
    if isinstance(exc, TimeoutError) and _finite(node.spec.timeout):
        return "timeout"
    return "unexplained"


def _finite(timeout: float | None) -> bool:
    return timeout is not None and not math.isinf(timeout)


def _check_node(run: Run, node: Node, abort_times: dict[int, float], problems: list[str]) -> None:
    where = node.path
    if not node.ended:
        problems.append(f"{where} never returned nor raised")
        return
    # 2.2: when the call returns or raises, every input it was given has finished.
    if node.unfinished:
        problems.append(f"{where} ended while inputs {node.unfinished} were still running")
    if node.undone_tasks:
        problems.append(f"{where} ended while foreign tasks {node.undone_tasks} were not done")

    order = _report_order(run, node)
    timing = _timing(run, node, order, abort_times) if run.backend.virtual else None
    failures = _failures(order, iterated=node.spec.primitive == "as_completed")
    outcome = _classify(run, node, failures)
    if outcome == "unexplained":
        problems.append(f"{where} raised {node.raised!r}, which no input raised")
        return

    # 2.3: the first failure propagates as itself; no other failure is lost.
    reported = _reported(run, node, outcome, problems)
    _match_reported(where, reported, failures, problems)
    if node.raised is not None and node.secondaries:
        check_printed(where, node.raised, node.secondaries, problems)

    if node.body_error is not None and node.raised is not node.body_error:
        problems.append(
            f"{where}: the loop's body raised {node.body_error!r}, but {node.raised!r} "
            "propagated instead"
        )
    if outcome == "returned":
        _check_results(run, node, order, problems)
    if node.spec.primitive == "as_completed":
        _check_yielded(run, node, order, outcome, problems)
    uncalled_for = node.parent is None and not run.outer.issued and not run.outer.hung
    if outcome == "cancelled" and uncalled_for:
        problems.append(f"{where} raised a cancellation, yet nobody cancelled its caller")

    if timing is not None:
        _check_times(node, order, outcome, timing, problems)


def _reported(run: Run, node: Node, outcome: str, problems: list[str]) -> list[BaseException]:
    """The failures the exception raised by *node* reports: itself and its attachments."""
    exc, attached = node.raised, list(node.secondaries)
    if exc is None:
        return []
    if outcome == "cancelled":
        if attached:
            problems.append(f"{node.path}: a cancellation carries failures {attached}")
        return []
    if outcome in ("timeout", "body"):
        return attached
    # A failure raised by a nested call already carries that call's attachments.
    for child in run.nodes:
        if child.parent is node and child.raised is exc:
            inherited = len(child.secondaries)
            if tuple(attached[:inherited]) != child.secondaries:
                problems.append(
                    f"{node.path}: the failures attached by {child.path} were not kept first"
                )
            return [exc, *attached[inherited:]]
    return [exc, *attached]


def _match_reported(
    where: str, reported: list[BaseException], failures: list[Expected], problems: list[str]
) -> None:
    """*reported* must be the failures in the order they happened, none missing."""
    position = 0
    for error in reported:
        while position < len(failures) and not failures[position].matches(error):
            if failures[position].mandatory:
                problems.append(f"{where} lost (or misordered) the failure {failures[position]}")
            position += 1
        if position == len(failures):
            problems.append(f"{where} reported {error!r}, which no input raised (or misordered)")
            return
        position += 1
    problems.extend(
        f"{where} lost the failure {expected}"
        for expected in failures[position:]
        if expected.mandatory
    )


def check_printed(
    where: str, exc: BaseException, attached: tuple[BaseException, ...], problems: list[str]
) -> None:
    text = "".join(traceback.format_exception(exc))
    for error in attached:
        # As traceback prints it: an odd exception may have no text, or refuse str().
        line = traceback.format_exception_only(type(error), error)[0].rstrip("\n")
        if line not in text:
            problems.append(f"{where}: the printed traceback does not show {line!r}")


def _drive(awaitable: Any) -> Any:
    """``await awaitable`` for a done item, which never suspends."""
    steps: Generator[Any, Any, Any] = awaitable.__await__()
    try:
        steps.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError(f"awaiting the done item {awaitable!r} suspended")


def _check_results(run: Run, node: Node, order: list[Event], problems: list[str]) -> None:
    where, spec, result = node.path, node.spec, node.returned
    values = {event.index: event.obj for event in order if event.kind in RETURN_KINDS}
    cancelled = sorted({event.index for event in order if event.kind == "cancel_seen"})
    count = len(spec.inputs)
    if spec.primitive in ("gather", "wait_all", "wait_first_exception") and cancelled:
        problems.append(f"{where} returned, yet it had cancelled inputs {cancelled}")
    if spec.primitive == "gather":
        # 2.4: the results, in input order, each the very object its input returned.
        if not isinstance(result, list) or len(result) != count:
            problems.append(f"{where} returned {result!r} for {count} inputs")
            return
        for index, value in enumerate(result):
            if index not in values or value is not values[index]:
                problems.append(f"{where}: result {index} is {value!r}, not its input's result")
    elif spec.primitive.startswith("wait"):
        _check_done_items(node, values, problems)


def _check_done_items(node: Node, values: dict[int, Any], problems: list[str]) -> None:
    """2.5: done items of the inputs that returned, in input order."""
    where, result = node.path, node.returned
    expected = sorted(values)
    if node.spec.primitive != "wait_first_completed" and len(expected) != len(node.spec.inputs):
        problems.append(f"{where} returned although only inputs {expected} returned")
    if node.spec.primitive == "wait_first_completed" and node.spec.inputs and not result:
        problems.append(f"{where} returned no done item at all")
    indices = []
    for item in result:
        index = next((i for i, task in node.tasks.items() if task is item), None)
        if index is None:
            if not isinstance(item, Done):
                problems.append(f"{where}: done item {item!r} is neither a Done nor a task given")
                continue
            index = item.index
            if index in node.tasks:
                problems.append(f"{where}: input {index} was a task, yet its done item is not it")
        indices.append(index)
        value = values.get(index)
        if not (item.done() and not item.cancelled() and item.exception() is None):
            problems.append(f"{where}: done item {item!r} does not look done with a result")
        elif item.result() is not value or _drive(item) is not value:
            problems.append(f"{where}: done item {index} does not hold its input's result")
    if indices != expected:
        problems.append(f"{where}: done items {indices}, expected those of inputs {expected}")


def _check_yielded(
    run: Run, node: Node, order: list[Event], outcome: str, problems: list[str]
) -> None:
    """2.6: values in completion order; a failure after the values that came first."""
    where = node.path
    by_value = {id(e.obj): e for e in order if e.kind in ("body_return", "nested_return")}
    # What reached the call before any abort, in order: returns and failures.
    arrivals = [
        e for e in order if e.kind in ("body_return", "nested_return", "body_fail", "nested_fail")
    ]
    given = []
    for index, value, _, _ in node.yielded:
        event = by_value.get(id(value))
        if event is None or event.obj is not value:
            problems.append(f"{where} gave {value!r}, which no input returned before any abort")
            return
        if index is not None and index != event.index:
            problems.append(f"{where} gave index {index} for the value of input {event.index}")
        given.append(event)
    prefix = arrivals[: len(given)]
    if [e.seq for e in given] != [e.seq for e in prefix]:
        problems.append(
            f"{where} gave the values of inputs {[e.index for e in given]}; in completion "
            f"order they were {[e.index for e in prefix]}"
        )
        return
    left_early = node.left_at != math.inf
    if outcome == "returned" and not left_early and len(given) != len(node.spec.inputs):
        problems.append(f"{where} ended its loop after {len(given)} of {len(node.spec.inputs)}")
    uninterrupted = node.parent is None and not run.outer.issued
    cancelled_itself = isinstance(node.raised, InputCancelledError)
    if outcome == "failure" and node.raised_by_step and uninterrupted and not cancelled_itself:
        following = arrivals[len(given)] if len(given) < len(arrivals) else None
        if following is None or not is_the_failure(node.raised, following.obj, iterated=True):
            problems.append(
                f"{where} raised {node.raised!r} from its loop, which is not the first failure "
                "after the values it gave"
            )


def _check_times(
    node: Node, order: list[Event], outcome: str, timing: Timing, problems: list[str]
) -> None:
    """Exact times: the call aborts at the first reason to, and ends when its inputs end."""
    where = node.path
    deadline, others, aborted = timing.deadline, timing.others, timing.aborted
    others = min(others, timing.first_self_cancel)
    interrupted = timing.interrupted

    # An input's body does nothing after its call aborted: the abort came at once.
    late = [e for e in order if e.kind in BODY_KINDS and e.time > aborted + EPSILON]
    if late:
        problems.append(
            f"{where} aborted at t={aborted:g}, yet input {late[0].index} went on to "
            f"{late[0].kind} at t={late[0].time:g}"
        )
    # The call ends at the instant its last input finished: it neither returned early
    # (2.2) nor waited longer than it had to.
    ends = [node.start, *(e.time for e in order if e.kind == "finish")]
    ends += [time for _, _, time, _ in node.yielded]
    if node.left_at != math.inf:
        ends.append(node.left_at)
    if not math.isclose(node.end, max(ends), abs_tol=EPSILON):
        problems.append(
            f"{where} ended at t={node.end:g}, but its inputs and loop were done at t={max(ends):g}"
        )
    # The timeout fires at its deadline, no sooner, and only if nothing came first.
    if outcome == "timeout":
        if node.end < deadline - EPSILON or others < deadline - EPSILON:
            problems.append(
                f"{where} raised TimeoutError (deadline t={deadline:g}) though it ended at "
                f"t={node.end:g} and something else came first at t={others:g}"
            )
    elif (
        deadline < others - EPSILON
        and node.end > deadline + EPSILON
        and outcome != "body"
        and interrupted > node.end + EPSILON
    ):
        problems.append(
            f"{where} ran past its deadline t={deadline:g} to t={node.end:g}, then "
            f"ended with {outcome}, not TimeoutError"
        )
    # The caller's cancellation, arriving while the call runs, is never swallowed.
    if interrupted < node.end - EPSILON and outcome == "returned":
        problems.append(f"{where} returned at t={node.end:g} though cancelled at t={interrupted:g}")


# -- the caller --------------------------------------------------------------------


def check_caller(run: Run, problems: list[str]) -> None:
    """2.3: the caller's cancellation propagates unchanged, its count stays right."""
    outer, how = run.outer, run.schedule.outer.how
    if not run.nodes:
        return
    top = run.nodes[0]
    raised = top.raised
    cancelled = isinstance(raised, run.backend_cancelled)
    if sys.version_info >= (3, 11) and run.backend.asyncio:
        # Inside an AnyIO scope or asyncio.timeout() block that was cancelled, the
        # count is theirs to settle when the block is left.
        if outer.cancelling_after_call is not None and how in ("none", "native"):
            count, issued = outer.cancelling_after_call
            if count != issued:
                problems.append(
                    f"after the call, the caller's task.cancelling() is {count}; "
                    f"{issued} Task.cancel() calls were made"
                )
        if outer.cancelling_after_scope is not None:
            count, issued = outer.cancelling_after_scope
            expected = issued if how == "native" else 0
            if count != expected:
                problems.append(
                    f"after the caller's block, task.cancelling() is {count}, expected {expected}"
                )
    if cancelled:
        if how in ("scope", "deadline") and not (outer.scope_caught and outer.escaped is None):
            problems.append(f"the caller's cancel scope did not catch its cancellation: {raised!r}")
        if how == "native" and not outer.task_cancelled:
            problems.append("the caller's task.cancel() did not end the task cancelled")
        if how == "asyncio_timeout" and not isinstance(outer.escaped, TimeoutError):
            problems.append("asyncio.timeout() did not turn the cancellation into TimeoutError")
    elif (
        raised is not None
        and outer.escaped is not raised
        and not _rebuilt_by_the_scope(raised, outer.escaped)
        and not _rewritten_by_asyncio_timeout(raised, outer.escaped, how)
    ):
        problems.append(f"the call raised {raised!r}, but {outer.escaped!r} left the caller")
    if how == "native" and raised is not None and not cancelled:
        # 2.3: a failure went in place of the caller's cancellation, which stays pending.
        caught = [seq for _, seq in outer.issued if seq is not None and seq < top.end_seq]
        if caught and not isinstance(outer.after_failure, asyncio.CancelledError):
            problems.append(
                f"the call raised {raised!r} in place of the caller's task.cancel(), which "
                "was lost: the caller's next await did not raise it"
            )
    if how == "native" and raised is None and outer.issued:
        # Edge-triggered: a cancel() made while the call ran must not be lost.
        seqs = [seq for _, seq in outer.issued if seq is not None]
        checkpoint_passed = outer.after_call_seq or math.inf
        from_outside = [seq for seq in seqs if seq not in outer.issued_by_itself]
        if any(seq < top.end_seq for seq in from_outside):
            problems.append("the call returned normally although its task was cancelled")
        elif any(seq < checkpoint_passed for seq in seqs) and not isinstance(
            outer.after_call, asyncio.CancelledError
        ):
            problems.append("the caller's task.cancel() was lost")


def _rebuilt_by_the_scope(raised: BaseException, escaped: BaseException | None) -> bool:
    """Whether *escaped* is the group *raised*, rebuilt by the caller's cancel scope.

    A cancelled scope splits its own cancellation off a group leaving it, and
    :meth:`~BaseExceptionGroup.split` makes a new group even when none matched.
    """
    return (
        isinstance(raised, BaseExceptionGroup)
        and isinstance(escaped, BaseExceptionGroup)
        and list(map(id, escaped.exceptions)) == list(map(id, raised.exceptions))
    )


def _rewritten_by_asyncio_timeout(
    raised: BaseException, escaped: BaseException | None, how: str
) -> bool:
    """Whether an expired ``asyncio.timeout()`` failed to edit *raised*'s context chain.

    From Python 3.13 the block puts a ``TimeoutError`` into the chain of an exception
    leaving it, just above the ``CancelledError``. When the exception below that
    ``CancelledError`` is a frozen dataclass, the assignment raises
    ``FrozenInstanceError`` in the caller's block: CPython's doing, the same under
    ``asyncio.TaskGroup``.
    """
    return (
        sys.version_info >= (3, 13)
        and how == "asyncio_timeout"
        and isinstance(escaped, FrozenInstanceError)
        and escaped.__context__ is raised
    )


def check_nothing_left(run: Run, problems: list[str], *, shut_down: bool = False) -> None:
    """2.2: nothing left running, nothing left un-awaited.

    *shut_down*: an interrupt left asyncio's loop, whose shutdown then cancelled every
    task it found once more, inputs in their cleanup included.
    """
    unfinished = [c for c in run.coroutines if inspect.getcoroutinestate(c) != inspect.CORO_CLOSED]
    if unfinished:
        problems.append(f"coroutines left unfinished or un-awaited: {unfinished}")
    again = [(e.node, e.index) for e in run.events if e.kind == "cancelled_again"]
    if again and not shut_down:
        problems.append(f"inputs (call, position) cancelled again during their cleanup: {again}")
    starts = {(e.node, e.index) for e in run.events if e.kind == "start"}
    finishes = {(e.node, e.index) for e in run.events if e.kind == "finish"}
    if starts - finishes:
        problems.append(f"inputs (call, position) that never finished: {sorted(starts - finishes)}")
    for node in run.nodes:
        for index, task in node.tasks.items():
            if not task.done():
                problems.append(f"{node.path}: foreign task {index} is not done")
    if run.outer.leftover_tasks:
        problems.append(f"asyncio tasks still alive: {run.outer.leftover_tasks}")
