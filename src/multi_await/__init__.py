"""Run awaitables together; if one fails or time runs out, cancel the rest and wait.

multi_await works on asyncio and on Trio alike, through AnyIO. Every primitive keeps
one promise: when it returns or raises, every input it was given has finished.
"""

from ._as_completed import as_completed_or_abort
from ._compat._helpers import cancel_all, with_value
from ._compat._select_loop import MultiAwait, multi_await
from ._errors import InputCancelledError, secondary_errors
from ._gather import gather_or_abort
from ._race import race_or_abort
from ._wait import ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, Done, DoneItem, wait_or_abort

__all__ = [
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "Done",
    "DoneItem",
    "InputCancelledError",
    "MultiAwait",
    "as_completed_or_abort",
    "cancel_all",
    "gather_or_abort",
    "multi_await",
    "race_or_abort",
    "secondary_errors",
    "wait_or_abort",
    "with_value",
]
