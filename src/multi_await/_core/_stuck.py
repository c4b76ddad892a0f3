"""The stuck report: inputs that were cancelled and still have not finished."""

from __future__ import annotations

from collections.abc import Callable, Sequence

#: How many stuck inputs one report names, at most.
STUCK_REPORT_LIMIT = 10


def report_stuck(
    stuck: Sequence[int], seconds: float, name: Callable[[int], str], where: Callable[[int], str]
) -> None:
    """Log a WARNING for each input of *stuck*, cancelled *seconds* ago, and where it waits.

    Each message begins with ``multi_await:``: where logging is left unconfigured,
    Python prints the bare message, without the logger's name.
    """
    import logging  # here, not at import: a program may never need it

    logger = logging.getLogger("multi_await")
    for index in stuck[:STUCK_REPORT_LIMIT]:
        logger.warning(
            "multi_await: %s was cancelled %.1f s ago and has not finished; still waiting "
            "for it. It is suspended at:\n%s",
            name(index),
            seconds,
            where(index).rstrip(),
        )
    if len(stuck) > STUCK_REPORT_LIMIT:
        logger.warning(
            "multi_await: ... and %d more inputs are still finishing",
            len(stuck) - STUCK_REPORT_LIMIT,
        )
