"""The abort of asyncio tasks that run inside AnyIO cancel scopes, as AnyIO cancels them.

An AnyIO task group cancels its children through its cancel scope: a child inside a
shielded scope is not interrupted there, and the cancellation reaches it at its first
checkpoint after the shield ends. One plain :meth:`asyncio.Task.cancel` cannot do
that: it interrupts whatever the task awaits, shielded or not, and on Python 3.10 (and
AnyIO before 4.16) it can merge with the task's own scope cancellation and be
swallowed by that scope. Spawning every input inside an AnyIO scope of its own would
cost each call several times a :class:`asyncio.TaskGroup`, so nothing happens at spawn.
At abort time each task is looked up in AnyIO's record of the scopes each task is in:

- A task outside every AnyIO scope is cancelled once, as :class:`asyncio.TaskGroup`
  does, so that a cleanup that catches the cancellation and awaits runs to its end.
- A task inside AnyIO scopes gets a parent above its outermost scope: a cancelled scope
  of AnyIO's own class (:class:`_AbortScope`). AnyIO's own delivery then cancels the
  task as it would a child of a cancelled task group: shields hold, delivery starts
  again when a shield ends, and no scope of the task swallows the abort's cancellation
  as its own. When the task leaves its outermost scope, the parent is taken away: if a
  cancellation is leaving that scope, that was the one the code outside gets;
  otherwise the task is cancelled once more at its next checkpoint, TaskGroup's rule.

That needs AnyIO's internals (``_task_states``, the scopes' ``_parent_scope``,
``_child_scopes``, ``_tasks``, ``_host_task``, ``_shield`` and their delivery
methods), which this module alone touches. :data:`UNSUPPORTED` says, at import, why
they are not what this module expects, if they are not; then every task is cancelled
once with :meth:`asyncio.Task.cancel`, and AnyIO shields inside inputs do not hold
off the abort on asyncio.
"""

# This module is where AnyIO's private, partly unannotated internals are used: the
# checks for that are turned off here alone.
# pyright: reportPrivateUsage=false, reportUnknownMemberType=false
# pyright: reportUnknownVariableType=false, reportUnknownArgumentType=false

from __future__ import annotations

import sys
from asyncio import AbstractEventLoop, CancelledError, Future, Task
from collections.abc import Collection
from types import FunctionType
from typing import Any, cast
from weakref import WeakKeyDictionary

#: Names AnyIO's asyncio scopes must have, and the names their methods must use.
_SCOPE_SLOTS = {
    "_cancel_called",
    "_child_scopes",
    "_host_task",
    "_parent_scope",
    "_shield",
    "_tasks",
}
_USES = {
    "__exit__": {"_child_scopes", "_parent_scope", "_restart_cancellation_in_parent", "_tasks"},
    "_restart_cancellation_in_parent": {"_cancel_handle", "_deliver_cancellation"},
    "_deliver_cancellation": {"_child_scopes", "_tasks"},
}

#: The reason an aborted input's cancellation carries.
REASON = "multi_await aborted the call"


def _unsupported() -> str | None:
    try:
        from anyio._backends._asyncio import CancelScope, TaskState, _task_states
    except ImportError as exc:
        return f"AnyIO's asyncio backend has no task states: {exc}"
    if not isinstance(cast("object", _task_states), WeakKeyDictionary):
        return "AnyIO keeps its task states in something other than a WeakKeyDictionary"
    if "cancel_scope" not in getattr(TaskState, "__slots__", ()):
        return "AnyIO's TaskState has no cancel_scope"
    missing = _SCOPE_SLOTS - set(getattr(CancelScope, "__slots__", ()))
    if missing:
        return f"AnyIO's CancelScope has none of {sorted(missing)}"
    for method, names in _USES.items():
        function = getattr(CancelScope, method, None)
        if not isinstance(function, FunctionType):
            return f"AnyIO's CancelScope has no method {method}"
        unused = names - set(function.__code__.co_names)
        if unused:
            return f"AnyIO's CancelScope.{method} no longer uses {sorted(unused)}"
    return None


#: Why AnyIO's internals are not what this module needs; ``None`` if they are.
UNSUPPORTED = _unsupported()


def _cancel_each(futures: Collection[Future[Any]]) -> list[Future[Any]]:
    """Cancel each of *futures* once; return those that had already finished."""
    return [future for future in futures if not future.cancel()]


if UNSUPPORTED is None:
    from anyio._backends._asyncio import CancelScope, TaskState, _task_states

    def cancel_all(loop: AbstractEventLoop, futures: Collection[Future[Any]]) -> list[Future[Any]]:
        """Cancel each of *futures*, running on *loop*, as a cancelled AnyIO task group
        would cancel its children: once where outside every AnyIO scope.

        :return: those that had already finished
        """
        # Read at each call, so that the fallback can be tested with this AnyIO too.
        in_scopes = _in_scopes(futures) if UNSUPPORTED is None else {}
        if not in_scopes:
            return _cancel_each(futures)
        abort = _Abort(loop)
        finished = []
        for future in futures:
            found = in_scopes.get(future)
            if found is not None:
                abort.cancel(*found)
            elif not future.cancel():
                finished.append(future)
        abort.started()
        return finished

    def _in_scopes(
        futures: Collection[Future[Any]],
    ) -> dict[Future[Any], tuple[CancelScope, TaskState]]:
        """The outermost AnyIO scope of each of *futures* that is a task inside one,
        with the task's AnyIO state.

        AnyIO knows the tasks that ever entered a scope: where those are fewer than
        *futures*, they are the ones looked at.
        """
        if not _task_states:
            return {}
        if len(_task_states) < len(futures):
            candidates = [task for task in list(_task_states) if task in futures]
        else:
            candidates = [future for future in futures if isinstance(future, Task)]
        found: dict[Future[Any], tuple[CancelScope, TaskState]] = {}
        for task in candidates:
            state = _task_states.get(task)
            if state is None:
                continue
            outermost = _outermost_scope(task, state)
            if outermost is not None:
                found[task] = outermost, state
        return found

    class _Abort:
        """One abort's cancellation of the tasks that are inside AnyIO scopes.

        Each such task gets its own :class:`_AbortScope`; the deliveries that must be
        tried again are tried together, on the next turn of the event loop, after
        the tasks the first delivery woke have run.
        """

        __slots__ = ("_due", "_loop", "_reason", "_starting")

        def __init__(self, loop: AbstractEventLoop) -> None:
            self._loop = loop
            self._reason: str | None = None  # the first scope's, formatted by AnyIO
            self._due: list[_AbortScope] = []
            self._starting = True

        def cancel(self, outermost: CancelScope, state: TaskState) -> None:
            """Cancel the task of *outermost*, its outermost scope, as AnyIO would;
            *state* is the task's AnyIO state."""
            if isinstance(outermost, _AbortScope):  # another call aborts it already
                return
            scope = _AbortScope(outermost, state, self)
            if self._reason is None:
                scope.cancel(REASON)
                self._reason = scope._cancel_reason
            else:  # the same reason, without formatting it again
                scope._cancel_called = True
                scope._cancel_reason = self._reason
                scope._deliver_cancellation(scope)

        def started(self) -> None:
            """Every task got its first delivery."""
            self._starting = False
            if self._due:
                self._loop.call_soon(self._deliver_due)

        def again(self, scope: _AbortScope) -> None:
            """Deliver to *scope* again on the next turn of the event loop."""
            if not self._due and not self._starting:
                self._loop.call_soon(self._deliver_due)
            self._due.append(scope)

        def _deliver_due(self) -> None:
            due, self._due = self._due, []
            for scope in due:
                scope.deliver_again()

    def _outermost_scope(task: Task[Any], state: TaskState) -> CancelScope | None:
        """The outermost AnyIO scope *task* is in, by its *state*, if it is in its own.

        ``None`` also for a task an AnyIO task group started: its scopes hang from that
        group's, and AnyIO cancels it through them.
        """
        scope = state.cancel_scope
        if scope is None or scope._host_task is not task:
            return None
        while (parent := scope._parent_scope) is not None:
            if parent._host_task is not task:
                return None
            scope = parent
        return scope

    class _AbortScope(CancelScope):
        """A cancelled scope above the outermost AnyIO scope of one aborted task.

        AnyIO calls :meth:`_deliver_cancellation` to deliver the cancellation (from
        :meth:`cancel`), and again whenever a scope inside ends or drops its shield,
        since its ``_cancel_handle`` stays ``None``: that is how this scope learns that
        the task has left its outermost scope. Delivery is tried again on the next
        turn of the event loop while AnyIO says it should be, as AnyIO does its own.
        """

        __slots__ = ("_abort", "_due", "_outermost", "_released", "_state", "_task")

        def __new__(cls, outermost: CancelScope, state: TaskState, abort: _Abort) -> _AbortScope:
            return object.__new__(cls)  # AnyIO's takes the arguments of its __init__

        def __init__(self, outermost: CancelScope, state: TaskState, abort: _Abort) -> None:
            super().__init__()
            task = outermost._host_task
            assert task is not None  # an active scope's
            self._task = task
            self._state = state
            self._host_task = task  # AnyIO's find_root_task() looks at the top scope's
            self._abort = abort
            self._due = False
            self._released = False
            #: The task's outermost scope, while known: the one that ends when the
            #: task is found in ``_tasks``.
            self._outermost: CancelScope | None = outermost
            self._child_scopes.add(outermost)
            outermost._parent_scope = self

        def _deliver_cancellation(self, origin: CancelScope) -> bool:
            if self._task in self._tasks:  # it has just left its outermost scope
                left, self._outermost = self._outermost, None
                if _leaves_cancelled(left):
                    self._let_go()
                else:
                    self._deliver_soon()
                return False
            should_retry = False
            for scope in self._child_scopes:
                self._outermost = scope
                if not scope._shield and not scope.cancel_called:
                    should_retry = scope._deliver_cancellation(self) or should_retry
            if should_retry:
                self._deliver_soon()
            return should_retry

        def _deliver_soon(self) -> None:
            if not self._due:
                self._due = True
                self._abort.again(self)

        def deliver_again(self) -> None:
            """Deliver as AnyIO does on the next turn of the event loop."""
            self._due = False
            if self._released:
                return
            task = self._task
            if task.done():
                self._let_go()
            elif task in self._tasks:  # outside its scopes, not cancelled on its way out
                self._let_go()
                task.cancel()
            else:
                self._deliver_cancellation(self)

        def _let_go(self) -> None:
            """Take this scope away: the task runs on as one outside every scope."""
            self._released = True
            self._tasks.discard(self._task)
            if self._state.cancel_scope is self:
                self._state.cancel_scope = None

    def _leaves_cancelled(scope: CancelScope | None) -> bool:
        """Whether a cancellation is leaving *scope*, which is being exited now.

        Called from the scope's ``__exit__``, where the exception leaving it is the one
        being handled. A shielded scope swallows its own cancellation: none leaves.
        ``None``, a scope not known, is taken as one none leaves.
        """
        return (
            scope is not None
            and not scope._shield
            and isinstance(sys.exc_info()[1], CancelledError)
        )

else:  # pragma: no cover - with an AnyIO whose internals this module does not know

    def cancel_all(loop: AbstractEventLoop, futures: Collection[Future[Any]]) -> list[Future[Any]]:
        """Cancel each of *futures* once: :data:`UNSUPPORTED` says why.

        :return: those that had already finished
        """
        return _cancel_each(futures)
