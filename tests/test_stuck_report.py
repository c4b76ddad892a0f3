"""report_stuck_after: an input ignoring its cancellation is reported, then awaited."""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import Any

import anyio
import pytest

from multi_await import as_completed_or_abort, gather_or_abort, race_or_abort, wait_or_abort

from .conftest import VIRTUAL_CLOCK_BACKENDS, on_a_virtual_clock
from .support import Probe

pytestmark = pytest.mark.anyio


class ReleaseOnReport(logging.Handler):
    """Keeps the reports, and lets the stubborn input go once one arrives."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.unblock = anyio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.unblock.set()


@pytest.fixture
def reports() -> Any:
    handler = ReleaseOnReport()
    logger = logging.getLogger("multi_await")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


async def stubborn(release: anyio.Event) -> None:
    """Ignores its cancellation until released."""
    try:
        await anyio.sleep_forever()
    finally:
        with anyio.CancelScope(shield=True):
            await release.wait()


def call(primitive: str, aws: list[Any], **kwargs: Any) -> Any:
    if primitive == "gather":
        return gather_or_abort(*aws, **kwargs)
    if primitive == "wait":
        return wait_or_abort(aws, **kwargs)
    if primitive == "race":
        return race_or_abort(aws, **kwargs)

    async def as_completed() -> None:
        async with as_completed_or_abort(aws, **kwargs) as completed:
            async for _ in completed:
                pass

    return as_completed()


@pytest.mark.parametrize("primitive", ["gather", "wait", "as_completed", "race"])
async def test_a_stuck_input_is_reported_with_its_stack_and_still_awaited(
    primitive: str, reports: ReleaseOnReport
) -> None:
    probe = Probe()
    if primitive == "race":  # a race is ended by a success, not by a failure
        await call(
            primitive,
            [stubborn(reports.unblock), probe.returns("w", "won", checkpoints=2)],
            report_stuck_after=0.05,
        )
    else:
        with pytest.raises(RuntimeError):
            await call(
                primitive,
                [stubborn(reports.unblock), probe.fails("f", RuntimeError(), checkpoints=2)],
                report_stuck_after=0.05,
            )
    assert len(reports.records) == 1
    message = reports.records[0].getMessage()
    assert "input 0 (coroutine stubborn)" in message
    assert "has not finished" in message
    assert "in stubborn" in message  # the stack shows where it waits
    assert reports.unblock.is_set()


async def test_none_turns_the_report_off(reports: ReleaseOnReport) -> None:
    async def release_later() -> None:
        await anyio.sleep(0.2)
        reports.unblock.set()

    probe = Probe()
    async with anyio.create_task_group() as tg:
        tg.start_soon(release_later)
        with pytest.raises(RuntimeError):
            await gather_or_abort(
                stubborn(reports.unblock),
                probe.fails("f", RuntimeError(), checkpoints=1),
                report_stuck_after=None,
            )
    assert reports.records == []


class TestVirtualTime:
    """Exact times: on asyncio the event loop's own timer makes the report, on Trio
    the call's shielded wait keeps the time."""

    @pytest.fixture(params=VIRTUAL_CLOCK_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return on_a_virtual_clock(request.param)

    async def test_the_report_comes_after_the_default_five_seconds(
        self, reports: ReleaseOnReport
    ) -> None:
        probe = Probe()
        begin = anyio.current_time()
        with pytest.raises(RuntimeError):
            await gather_or_abort(
                stubborn(reports.unblock), probe.fails("f", RuntimeError(), checkpoints=1)
            )
        assert len(reports.records) == 1
        assert anyio.current_time() - begin == 5

    async def test_none_means_never(self, reports: ReleaseOnReport) -> None:
        async def release_much_later() -> None:
            await anyio.sleep(30)  # far past the default five seconds
            reports.unblock.set()

        probe = Probe()
        async with anyio.create_task_group() as nursery:
            nursery.start_soon(release_much_later)
            with pytest.raises(RuntimeError):
                await gather_or_abort(
                    stubborn(reports.unblock),
                    probe.fails("f", RuntimeError(), checkpoints=1),
                    report_stuck_after=None,
                )
        assert reports.records == []


#: A program whose stuck input waits until a report reaches stderr, with logging
#: left unconfigured: Python's handler of last resort prints the bare message.
UNCONFIGURED = """
import sys

import anyio

from multi_await import gather_or_abort


class Stderr:
    def __init__(self, stream):
        self.stream = stream
        self.written = None

    def write(self, text):
        self.written.set()
        return self.stream.write(text)

    def flush(self):
        self.stream.flush()


sys.stderr = stderr = Stderr(sys.stderr)


async def stubborn():
    try:
        await anyio.sleep_forever()
    finally:
        with anyio.CancelScope(shield=True):
            await stderr.written.wait()


async def fails():
    await anyio.sleep(0)
    raise KeyError("failed")


async def main():
    stderr.written = anyio.Event()
    try:
        await gather_or_abort(stubborn(), fails(), report_stuck_after=0.01)
    except KeyError:
        pass


anyio.run(main, backend=sys.argv[1])
"""


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_the_report_names_multi_await_when_logging_is_unconfigured(library: str) -> None:
    printed = subprocess.run(
        [sys.executable, "-W", "error", "-c", UNCONFIGURED, library],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stderr
    assert printed.startswith(
        "multi_await: input 0 (coroutine stubborn) was cancelled 0.0 s ago"
    ), printed
