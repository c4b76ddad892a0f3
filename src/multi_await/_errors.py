"""The errors multi_await raises, and how failures found during an abort travel."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Sequence
from typing import cast

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

__all__ = ["InputCancelledError", "is_cancellation", "pick_exception", "secondary_errors"]

_SECONDARY = "__multi_await_secondary_errors__"


class InputCancelledError(Exception):
    """An input was cancelled by something other than multi_await.

    Only the caller may cancel a multi_await call. When an input is cancelled from
    elsewhere (say, somebody holds the :class:`asyncio.Task` you passed and calls
    ``cancel()`` on it), the call treats that as a failure of the input: it aborts
    the rest and raises this exception, so that the caller never sees a bare
    cancellation that would make it look cancelled itself.

    The cancellation exception the input finished with is the ``__cause__``.
    :doc:`guarantee` shows it raised.

    .. versionadded:: 2.0
    """

    def __init__(self, index: int, description: str) -> None:
        super().__init__(
            f"input {index} ({description}) was cancelled by something other than multi_await"
        )
        #: Position of the input among the inputs of the call.
        self.index = index


def secondary_errors(exc: BaseException) -> tuple[BaseException, ...]:
    """Return the failures multi_await attached to *exc*, in the order they happened.

    When a call aborts, inputs may fail again while they are being cancelled (a
    ``finally`` block that raises, for example). Those failures are not lost: they
    are attached to the exception the call raises. Printing its traceback shows
    them (as notes), and this function returns the exception objects themselves.

    :param exc: an exception a multi_await call raised (any exception is accepted)
    :return: the attached failures, oldest first; an empty tuple for an exception
        that carries none

    .. code-block:: python

        import anyio

        from multi_await import gather_or_abort, secondary_errors


        async def closes_badly():
            try:
                await anyio.sleep(3600)
            finally:
                raise OSError("flush failed")


        async def fails():
            raise KeyError("user")


        async def main():
            try:
                await gather_or_abort(closes_badly(), fails())
            except KeyError as exc:
                assert [repr(e) for e in secondary_errors(exc)] == ["OSError('flush failed')"]


        anyio.run(main)

    .. versionadded:: 2.0
    """
    return tuple(getattr(exc, _SECONDARY, ()))


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
    setattr(primary, _SECONDARY, (*secondary_errors(primary), *others))
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
            exc.__context__ = None
        pending.extend(e for e in (exc.__cause__, exc.__context__) if e is not None)
        if isinstance(exc, BaseExceptionGroup):
            pending.extend(cast("tuple[BaseException, ...]", exc.exceptions))  # pyright: ignore[reportUnknownMemberType]


def _add_note(exc: BaseException, note: str) -> None:
    if sys.version_info >= (3, 11):
        exc.add_note(note)
    else:  # the exceptiongroup backport prints __notes__ on Python 3.10
        notes: list[str] | None = getattr(exc, "__notes__", None)
        if notes is None:
            notes = []
            exc.__notes__ = notes  # type: ignore[attr-defined]
        notes.append(note)


def is_cancellation(exc: BaseException, cancelled: type[BaseException]) -> bool:
    """True if *exc* is a cancellation, or a group holding nothing but cancellations."""
    if isinstance(exc, BaseExceptionGroup):
        inner = cast("tuple[BaseException, ...]", exc.exceptions)  # pyright: ignore[reportUnknownMemberType]
        return all(is_cancellation(error, cancelled) for error in inner)
    return isinstance(exc, cancelled)
