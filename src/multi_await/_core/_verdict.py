"""Why a call stopped, and the one exception it raises, carrying every other failure."""

from __future__ import annotations

import enum
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, cast

from .._errors import SECONDARY_ERRORS, InputCancelledError, secondary_errors

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup


class Reason(enum.Enum):
    """Why the engine stopped waiting for its inputs to finish on their own."""

    FAILURE = enum.auto()  #: an input failed
    TIMEOUT = enum.auto()  #: the deadline passed
    FIRST_DONE = enum.auto()  #: the caller wanted only the first input to return
    INTERRUPTED = enum.auto()  #: the caller was cancelled, interrupted or left early


class Verdict:
    """What went wrong in one call, gathered as it happens, and the outcome it makes.

    The first reason to stop is the one that counts. An interruption (the caller's
    cancellation, the exception leaving its block) arriving later is remembered
    too, and so is every failure: none may be swallowed.
    """

    __slots__ = (
        "_cancelled",
        "_caught_cancellation",
        "_failures",
        "_interruption",
        "_name",
        "_primary",
        "reason",
    )

    def __init__(self, cancelled: type[BaseException], name: Callable[[int], str]) -> None:
        #: Why the call stopped, once it did.
        self.reason: Reason | None = None
        self._primary: BaseException | None = None
        self._interruption: BaseException | None = None
        self._failures: list[tuple[int, BaseException]] = []
        self._cancelled = cancelled
        self._name = name
        self._caught_cancellation = False

    def stop(self, reason: Reason, exc: BaseException | None) -> bool:
        """Record a reason to stop, with its exception; true if it is the first one.

        *exc* is the failure, the timeout error, or the interruption.
        """
        if reason is Reason.INTERRUPTED and exc is not None:
            self._caught_cancellation |= is_cancellation(exc, self._cancelled)
            if self._interruption is None:
                self._interruption = exc
        if self.reason is not None:
            return False
        self.reason = reason
        self._primary = exc
        return True

    def failed(self, index: int, error: BaseException) -> None:
        """Record the failure of input *index*, in the order failures happen."""
        self._failures.append((index, error))

    def take_failures(self) -> list[tuple[int, BaseException]]:
        """The failures recorded so far, forgotten here."""
        failures, self._failures = self._failures, []
        return failures

    def exception(
        self, tolerated: Sequence[tuple[int, BaseException]] = ()
    ) -> BaseException | None:
        """The exception the call must raise, with the other failures attached.

        What the caller's own code raised comes first (the exception leaving its
        block, a ``KeyboardInterrupt``); then the first failure of an input; then the
        caller's cancellation, which outranks our timeout since it may have raced it;
        then the timeout, which also carries the *tolerated* failures. A failure is
        never dropped for a cancellation. Forgets what it was told.
        """
        reason, interruption = self.reason, self._interruption
        primary = self._primary if reason in (Reason.FAILURE, Reason.TIMEOUT) else None
        self._primary = self._interruption = None
        failures = self.take_failures()
        if interruption is not None and (
            primary is None
            or reason is Reason.TIMEOUT
            or not is_cancellation(interruption, self._cancelled)
        ):
            primary = interruption
        if reason is Reason.TIMEOUT and primary is not interruption and primary is not None:
            attach_secondary_errors(
                primary, [error for _, error in tolerated], [self._name(i) for i, _ in tolerated]
            )
        return pick_exception(primary, failures, self._cancelled, self._name)

    def outranks_a_cancellation(self, raised: BaseException | None) -> bool:
        """Whether *raised*, the outcome, goes in place of a cancellation of the caller's.

        A failure outranks the caller's cancellation; the cancellation, caught, must be
        raised again afterwards (see :meth:`Backend.rearm_cancellation`).
        """
        if raised is None or not self._caught_cancellation:
            return False
        return not is_cancellation(raised, self._cancelled)


def cancelled_elsewhere(
    index: int, description: str, cause: BaseException | None
) -> InputCancelledError:
    """The failure of an input that something other than multi_await cancelled."""
    failure = InputCancelledError(index, description)
    failure.__cause__ = cause
    return failure


def stopped_iteration(name: str, cause: StopAsyncIteration) -> RuntimeError:
    """The failure of input *name* that raised ``StopAsyncIteration`` into a loop over results.

    As itself it would end the caller's ``async for`` as if every input had given its
    value: it becomes a ``RuntimeError`` raised from it, as PEP 479 does for generators.
    """
    failure = RuntimeError(
        f"{name} raised StopAsyncIteration, which would end the loop over the results "
        "as if every input had given its value"
    )
    failure.__cause__ = cause
    return failure


def timeout_error(
    timeout: float, unfinished: int, count: int, *, some_never_started: bool
) -> TimeoutError:
    """The error a call raises when its *timeout* expired with inputs unfinished."""
    seconds = f"{timeout:g} s" if timeout > 0 else "an expired time limit"
    ending = "they were cancelled and awaited"
    if some_never_started:  # their turn never came (max_concurrency)
        ending = "those running were cancelled and awaited, the others never started"
    return TimeoutError(
        f"{unfinished} of {count} inputs had not finished within {seconds}; {ending}"
    )


def input_timed_out(name: str, seconds: float) -> TimeoutError:
    """The failure of input *name*, cancelled when its own time limit of *seconds* passed."""
    return TimeoutError(
        f"{name} had not finished within its input_timeout of {seconds:g} s; "
        "it was cancelled and awaited"
    )


def pick_exception(
    preferred: BaseException | None,
    failures: Sequence[tuple[int, BaseException]],
    cancelled: type[BaseException],
    name: Callable[[int], str],
) -> BaseException | None:
    """The one exception to raise, carrying every other failure.

    *preferred* wins unless it is missing or a cancellation while inputs failed: a
    failure is never dropped for a cancellation. *failures* pairs the position of
    each failed input with its exception, in the order they happened; *name*
    describes an input by its position.
    """
    primary = preferred
    others = [(index, error) for index, error in failures if error is not primary]
    if others and (primary is None or is_cancellation(primary, cancelled)):
        (_, primary), others = others[0], others[1:]
    if primary is not None and others:
        attach_secondary_errors(
            primary, [error for _, error in others], [name(index) for index, _ in others]
        )
    return primary


def attach_secondary_errors(
    primary: BaseException,
    others: Sequence[BaseException],
    describe: Sequence[str],
) -> None:
    """Attach *others* (failures of the inputs named by *describe*) to *primary*."""
    _set_attribute(primary, SECONDARY_ERRORS, (*secondary_errors(primary), *others))
    for error, name in zip(others, describe, strict=True):
        _drop_context(error, primary)
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        _add_note(primary, f"\nmulti_await: {name} also failed:\n{text.rstrip()}")


def _drop_context(error: BaseException, primary: BaseException) -> None:
    """Unlink *primary* where it is the ``__context__`` of *error*'s chain.

    The abort that made an input fail again may have started while *primary* was
    being handled (the body of ``async with as_completed_or_abort(...)`` raised it,
    say): on Trio the input's ``Cancelled`` is then raised with *primary* as its
    context. Attached to *primary*, that chain would make a reference cycle, and its
    printed traceback would show *primary* a second time.
    """
    seen: set[int] = set()
    pending = [error]
    while pending:
        exc = pending.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        if exc.__context__ is primary:
            _CONTEXT.__set__(exc, None)  # as the interpreter sets it, whatever __setattr__ says
        pending.extend(e for e in (exc.__cause__, exc.__context__) if e is not None)
        if isinstance(exc, BaseExceptionGroup):
            pending.extend(cast("tuple[BaseException, ...]", exc.exceptions))  # pyright: ignore[reportUnknownMemberType]


def _add_note(exc: BaseException, note: str) -> None:
    """``exc.add_note(note)``, also on Python 3.10 and on a class refusing attributes.

    The notes are the list ``__notes__``, as ``add_note()`` keeps them and as the
    exceptiongroup backport prints them on Python 3.10.
    """
    notes: object = getattr(exc, "__notes__", None)
    if notes is None:
        _set_attribute(exc, "__notes__", [note])
    elif isinstance(notes, list):  # anything else is no place for notes: leave it
        cast("list[str]", notes).append(note)


#: The slot of every exception that holds its ``__context__``.
_CONTEXT: Any = vars(BaseException)["__context__"]


def _set_attribute(exc: BaseException, name: str, value: object) -> None:
    """``setattr``, also on an exception whose class refuses new attributes.

    A frozen dataclass refuses them: what multi_await attaches then goes to the
    instance's ``__dict__``, which every exception has, rather than replacing the
    failure with a ``FrozenInstanceError``.
    """
    try:
        setattr(exc, name, value)
    except Exception:
        vars(exc)[name] = value


def is_cancellation(exc: BaseException, cancelled: type[BaseException]) -> bool:
    """True if *exc* is a cancellation, or a group holding nothing but cancellations."""
    if isinstance(exc, BaseExceptionGroup):
        inner = cast("tuple[BaseException, ...]", exc.exceptions)  # pyright: ignore[reportUnknownMemberType]
        return all(is_cancellation(error, cancelled) for error in inner)
    return isinstance(exc, cancelled)
