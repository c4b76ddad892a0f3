"""The main property: every schedule keeps the abort guarantee, on every backend.

A schedule is a call of ``gather_or_abort``, ``wait_or_abort`` (each
``return_when``) or ``as_completed_or_abort`` (``async with``/``async for``, maybe
left early), with inputs that return, raise, sleep forever, clean up slowly or
badly, swallow their cancellation, cancel themselves, run as foreign asyncio tasks,
or are calls themselves; a random timeout; and a caller that may be cancelled at
any tick or at the very moment something happens. ``checks.py`` lists what is
checked on every example.
"""

from __future__ import annotations

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from .backends import BACKEND_PARAMS, Backend
from .checks import check_run
from .harness import Run, run_example
from .model import count_calls, schedules


def _outcome(run: Run) -> str:
    top = run.nodes[0]
    if top.raised is None:
        return "returned"
    return f"raised {type(top.raised).__name__}"


#: The backends on which an example has failed in this run.
_FAILED_ON: set[str] = set()


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
@given(data=st.data())
def test_every_schedule_keeps_the_abort_guarantee(backend: Backend, data: st.DataObject) -> None:
    schedule = data.draw(schedules(backend), label="schedule")
    run = run_example(backend, schedule)
    event(f"{schedule.call.primitive}: {_outcome(run)}")
    event(f"nested calls: {count_calls(schedule.call) - 1}")
    try:
        check_run(run)
    except AssertionError:
        # Where time is real (uvloop) a failure may not come back when Hypothesis
        # replays it, and then it prints no example: pytest shows this output. Only
        # the first, before shrinking, which is the one that may not come back.
        if backend.name not in _FAILED_ON:
            _FAILED_ON.add(backend.name)
            print(f"first failing schedule on {backend.name}: {schedule!r}")
        raise
