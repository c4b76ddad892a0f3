"""The errors multi_await raises, and how to reach the failures attached to one."""

from __future__ import annotations

from typing import Any

__all__ = ["SECONDARY_ERRORS", "InputCancelledError", "secondary_errors"]

#: The attribute of an exception that holds the failures attached to it.
SECONDARY_ERRORS = "__multi_await_secondary_errors__"


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
        self._index = index
        self._description = description

    @property
    def index(self) -> int:
        """Position of the input among the inputs of the call."""
        return self._index

    def __reduce__(self) -> tuple[type[InputCancelledError], tuple[int, str], dict[str, Any]]:
        # What pickle and copy rebuild the error from: the arguments of __init__, not
        # the message in self.args (and the notes and attached errors in __dict__).
        return type(self), (self._index, self._description), self.__dict__


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
    return tuple(getattr(exc, SECONDARY_ERRORS, ()))
