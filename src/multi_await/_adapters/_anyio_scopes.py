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
once with :meth:`asyncio.Task.cancel`, as multi_await 2.0 did, and AnyIO shields
inside inputs do not hold off the abort on asyncio.
"""

# This module is where AnyIO's private, partly unannotated internals are used: the
# checks for that are turned off here alone.
# pyright: reportPrivateUsage=false, reportUnknownMemberType=false, reportUnknownVariableType=false

from __future__ import annotations

import sys
from asyncio import CancelledError, Future, Handle, Task
from collections.abc import Callable
from operator import methodcaller
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


#: The task states AnyIO keeps (empty until a task enters a scope), where it has them.
_task_states_in_use: WeakKeyDictionary[Task[Any], Any] = WeakKeyDictionary()


#: ``future.cancel()``, a task's own method and not Future's.
_cancel_once: Callable[[Future[Any]], bool] = methodcaller("cancel")

#: How an abort cancels one input's task or future, where AnyIO's internals allow it.
_cancel_as_anyio: Callable[[Future[Any]], bool] = _cancel_once


def canceller() -> Callable[[Future[Any]], bool]:
    """The function an abort calls on each input's task or future.

    It returns ``False`` where the future had already finished, as
    :meth:`asyncio.Future.cancel` does.
    """
    if UNSUPPORTED is not None or not _task_states_in_use:  # no task is in any scope
        return _cancel_once
    return _cancel_as_anyio


if UNSUPPORTED is None:
    from anyio._backends._asyncio import CancelScope, _task_states

    _task_states_in_use = _task_states

    def _cancel(future: Future[Any]) -> bool:
        """Cancel *future* as a cancelled AnyIO task group would cancel its child."""
        outermost = _outermost_scope(future) if isinstance(future, Task) else None
        if outermost is None or not isinstance(future, Task):
            return future.cancel()
        if not isinstance(outermost, _AbortScope):  # else another call aborts it already
            _AbortScope(future, outermost).cancel(REASON)
        return True

    _cancel_as_anyio = _cancel

    def _outermost_scope(task: Task[Any]) -> CancelScope | None:
        """The outermost AnyIO scope *task* is in, if it is in one of its own.

        ``None`` also for a task an AnyIO task group started: its scopes hang from that
        group's, and AnyIO cancels it through them.
        """
        state = _task_states.get(task)
        scope = None if state is None else state.cancel_scope
        if scope is None or scope._host_task is not task:
            return None
        while (parent := scope._parent_scope) is not None:
            if parent._host_task is not task:
                return None
            scope = parent
        return scope

    class _ScopesLeft(set[CancelScope]):
        """The child scopes of an :class:`_AbortScope`, remembering the last to go."""

        __slots__ = ("last",)

        def __init__(self, scope: CancelScope) -> None:
            super().__init__((scope,))
            self.last: CancelScope | None = None

        def remove(self, scope: CancelScope) -> None:
            super().remove(scope)
            self.last = scope

        def discard(self, scope: object) -> None:
            super().discard(scope)
            self.last = scope if isinstance(scope, CancelScope) else None

    class _AbortScope(CancelScope):
        """A cancelled scope above the outermost AnyIO scope of one aborted task.

        AnyIO calls :meth:`_deliver_cancellation` to deliver the cancellation (from
        :meth:`cancel`), and again whenever a scope inside ends or drops its shield,
        since its ``_cancel_handle`` stays ``None``: that is how this scope learns that
        the task has left its outermost scope. Delivery is retried on the next turn of
        the event loop while AnyIO says it should be, as AnyIO retries its own.
        """

        __slots__ = ("_next_delivery", "_scopes_left", "_task")

        def __new__(cls, task: Task[Any], outermost: CancelScope) -> _AbortScope:
            return object.__new__(cls)  # AnyIO's takes the arguments of its __init__

        def __init__(self, task: Task[Any], outermost: CancelScope) -> None:
            super().__init__()
            self._task = task
            self._host_task = task  # AnyIO's find_root_task() looks at the top scope's
            self._next_delivery: Handle | None = None
            self._scopes_left = _ScopesLeft(outermost)
            self._child_scopes = self._scopes_left
            outermost._parent_scope = self

        def _deliver_cancellation(self, origin: CancelScope) -> bool:
            if self._task in self._tasks:  # it has just left its outermost scope
                left, self._scopes_left.last = self._scopes_left.last, None
                if _leaves_cancelled(left):
                    self._let_go()
                else:
                    self._deliver_soon()
                return False
            should_retry = False
            for scope in self._child_scopes:
                if not scope._shield and not scope.cancel_called:
                    should_retry = scope._deliver_cancellation(self) or should_retry
            if should_retry:
                self._deliver_soon()
            return should_retry

        def _deliver_soon(self) -> None:
            if self._next_delivery is None:
                self._next_delivery = self._task.get_loop().call_soon(self._deliver_again)

        def _deliver_again(self) -> None:
            self._next_delivery = None
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
            self._tasks.discard(self._task)
            state = _task_states.get(self._task)
            if state is not None and state.cancel_scope is self:
                state.cancel_scope = None

    def _leaves_cancelled(scope: CancelScope | None) -> bool:
        """Whether a cancellation is leaving *scope*, which is being exited now.

        Called from the scope's ``__exit__``, where the exception leaving it is the one
        being handled. A shielded scope swallows its own cancellation: none leaves.
        """
        return (
            scope is not None
            and not scope._shield
            and isinstance(sys.exc_info()[1], CancelledError)
        )
