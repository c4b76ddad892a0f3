"""Run awaitables together; if one fails or time runs out, cancel the rest and wait.

multi_await works on asyncio and on Trio alike, through AnyIO. Every primitive keeps
one promise: when it returns or raises, every input it was given has finished.
"""

from typing import TYPE_CHECKING

from ._as_completed import as_completed_or_abort
from ._compat._helpers import cancel_all, with_value
from ._compat._select_loop import MultiAwait, multi_await
from ._errors import InputCancelledError, secondary_errors
from ._gather import gather_or_abort
from ._map import map_or_abort
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
    "map_or_abort",
    "multi_await",
    "race_or_abort",
    "secondary_errors",
    "wait_or_abort",
    "with_value",
]


def _claim_public_objects() -> None:
    """Make each public object report this module, as AnyIO's and Trio's do.

    Reprs, pickles and tracebacks then name what users import, not a private module.
    """
    for name in __all__:
        public: object = globals()[name]
        if getattr(public, "__module__", "").startswith(f"{__name__}._"):
            public.__module__ = __name__


_claim_public_objects()

if TYPE_CHECKING:
    #: The installed version of the distribution, ``multi-await``.
    __version__: str
else:

    def __getattr__(name: str) -> object:
        # Read on first use: only a program that asks for it pays for importlib.metadata.
        if name == "__version__":
            from importlib.metadata import version

            return version("multi-await")
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
