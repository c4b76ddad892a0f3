"""Hypothesis profiles for the property-based tests.

- ``default``: quick, for everyday runs (the whole folder in well under a minute).
- ``ci``: at least 2,000 schedules per backend for the main property, and the soak
  at full size; select it with ``--hypothesis-profile=ci``.

A failing example prints a ``@reproduce_failure`` blob; see docs/reliability.rst.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

_COMMON: dict[str, Any] = {
    # Examples run whole event loops; their speed is not what is under test.
    "deadline": None,
    # The suite's autouse fixtures are per test, not per example: each example
    # makes its own checks (see backends.py).
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    # The explain phase reruns a failing example many times: shrinking says enough.
    "phases": [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
}

settings.register_profile("default", max_examples=100, **_COMMON)
settings.register_profile("ci", max_examples=2_000, database=None, print_blob=True, **_COMMON)


def is_ci_profile() -> bool:
    return settings.get_current_profile_name() == "ci"


@pytest.fixture(autouse=True, scope="package")
def _unfreeze_the_heap_afterwards() -> Iterator[None]:
    """Each example freezes what was alive before it (see ``backends.py``); undo that.

    Frozen for the whole package, the heap also keeps the suite's per-test
    ``gc.collect()`` cheap.
    """
    yield
    gc.unfreeze()
    gc.collect()


@pytest.fixture(autouse=True)
def _quiet_stuck_reports() -> Iterator[None]:
    """Inputs that ignore their cancellation for a while are reported as stuck.

    The report is still made (its text is built either way); only its printing,
    which would bury a failing example's own message, is held back.
    """
    logger = logging.getLogger("multi_await")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)
