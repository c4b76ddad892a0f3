"""The knobs of one call, checked before anything starts."""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ._inputs import close_coroutines

#: Seconds after which an input we cancelled and still wait for is reported.
REPORT_STUCK_AFTER = 5.0


@dataclass(frozen=True, slots=True)
class Options:
    """How one call treats its inputs; the defaults are those of ``gather_or_abort``."""

    #: Seconds from the start until everything is aborted (``inf``: no limit).
    timeout: float = math.inf
    #: At most this many inputs run at once (``None``: all at once).
    max_concurrency: int | None = None
    #: The first input to return ends the call (``FIRST_COMPLETED``, races).
    stop_after_first: bool = False
    #: An input's ``Exception`` is its outcome rather than a reason to abort.
    tolerate_failures: bool = False
    #: Start inputs one by one, this many seconds apart, or at once on a failure.
    stagger: float | None = None
    #: Report inputs still running this long after we cancelled them.
    report_stuck_after: float | None = REPORT_STUCK_AFTER
    #: Wake the caller on every completion, not only at the end.
    wake_on_each: bool = False
    #: The caller iterates the results (``as_completed_or_abort``): an input's
    #: ``StopAsyncIteration``, which would end its ``async for`` silently, is made a
    #: ``RuntimeError``. Implies :attr:`wake_on_each`.
    iterated: bool = False
    #: Input *k* starts no sooner than *k* / this many seconds after the first.
    max_per_second: float | None = None
    #: Seconds from its own start until an input is cancelled and fails.
    input_timeout: float | None = None
    #: The caller reads the results in completion order, as they come
    #: (:attr:`stop_after_first` or :attr:`wake_on_each`); otherwise by position, at
    #: the end, and a return only needs recording.
    in_completion_order: bool = False

    @property
    def starts_in_turns(self) -> bool:
        """Whether inputs wait for their turn, so async callables are called only then."""
        limits = (self.max_concurrency, self.stagger, self.max_per_second)
        return any(limit is not None for limit in limits)


def make_options(
    aws: Sequence[object],
    *,
    timeout: object = None,
    max_concurrency: object = None,
    stagger: object = None,
    max_per_second: object = None,
    input_timeout: object = None,
    report_stuck_after: object = REPORT_STUCK_AFTER,
    stop_after_first: bool = False,
    tolerate_failures: bool = False,
    wake_on_each: bool = False,
    iterated: bool = False,
) -> Options:
    """Check the arguments of a call; on a bad one, close the coroutines in *aws*."""
    try:
        return Options(
            timeout=_seconds("timeout", timeout, negative_ok=True),
            max_concurrency=_max_concurrency(max_concurrency),
            stop_after_first=stop_after_first,
            tolerate_failures=tolerate_failures,
            stagger=None if stagger is None else _seconds("stagger", stagger),
            max_per_second=_rate(max_per_second),
            input_timeout=_unless_unlimited(_seconds("input_timeout", input_timeout)),
            report_stuck_after=(
                None
                if report_stuck_after is None
                else _seconds("report_stuck_after", report_stuck_after)
            ),
            wake_on_each=wake_on_each or iterated,
            iterated=iterated,
            in_completion_order=stop_after_first or wake_on_each or iterated,
        )
    except BaseException:
        close_coroutines(aws)
        raise


def list_inputs(aws: Iterable[object]) -> list[object]:
    """``list(aws)``, with a clear error when *aws* is one input rather than an iterable.

    An awaitable is refused without being iterated, as :func:`asyncio.wait` refuses
    it: iterating a future runs its ``__await__``, after which it cannot be awaited
    any more (and a finished one would give no input at all).
    """
    if not inspect.isawaitable(aws):
        try:
            return list(aws)
        except TypeError:
            pass
    close_coroutines([aws])
    raise TypeError(
        f"expected an iterable of inputs, got {type(aws).__name__}; pass a list, even of one input"
    )


def _seconds(name: str, value: object, *, negative_ok: bool = False) -> float:
    if value is None:
        return math.inf
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds or None, not {type(value).__name__}")
    if math.isnan(value):
        raise ValueError(f"{name} must not be NaN")
    if value < 0 and not negative_ok:
        raise ValueError(f"{name} must not be negative, got {value!r}")
    return float(value)


def _rate(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"max_per_second must be a number or None, not {type(value).__name__}")
    if not value > 0:  # NaN included
        raise ValueError(f"max_per_second must be more than 0, got {value!r}")
    return _unless_unlimited(float(value))


def _unless_unlimited(value: float) -> float | None:
    return None if value == math.inf else value


def _max_concurrency(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"max_concurrency must be an int or None, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"max_concurrency must be at least 1, got {value}")
    return value
