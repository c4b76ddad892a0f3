"""Every program of the article, in examples/article/, shows what multi_await 2 promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ARTICLE = Path(__file__).parent.parent / "examples" / "article"
NEVER = ("Task exception was never retrieved", "was never awaited", "Task was destroyed")


def run(name: str, *, fails: bool = False) -> tuple[str, str]:
    done = subprocess.run(
        [sys.executable, "-W", "error", str(ARTICLE / name)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode != 0) == fails, done.stderr
    for message in NEVER:
        assert message not in done.stderr
    return done.stdout, done.stderr


def test_wait_cancels_the_sleeper_and_waits_for_it_before_raising() -> None:
    out, _ = run("wait_then_cancel.py")
    assert out.splitlines() == [
        "caught RuntimeError: task failed",
        "task0 done: True, cancelled: True",
    ]


def test_gather_leaves_no_sleeper_running() -> None:
    out, _ = run("gather_leaves_sleeper.py")
    assert out.splitlines() == [
        "caught RuntimeError: task failed",
        "task0 done: True, cancelled: True",
    ]


def test_the_cleanup_error_is_printed_with_the_failure_and_asyncio_reports_nothing() -> None:
    _, err = run("cleanup_error.py", fails=True)
    failure = err.index("RuntimeError: task failed")
    cleanup = err.index("ValueError: I/O operation on closed file.")
    assert failure < cleanup
    assert "input 2 (Task 'Task-4') also failed" in err


def test_wait_returns_every_task_that_succeeded_within_the_timeout() -> None:
    out, _ = run("all_succeed_in_time.py")
    assert out.splitlines() == ["results: ['fast', 'slow']"]


def test_the_failing_request_aborts_the_others_before_reaching_the_loop() -> None:
    out, _ = run("requests_as_completed.py")
    assert out.splitlines() == [
        "caught ConnectionRefusedError: cannot connect to http://localhost",
        "finished: ['http://archive.org', 'http://fsf.org', 'http://localhost']",
    ]
