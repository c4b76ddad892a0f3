"""Importing multi_await loads only what the program needs: each check in a fresh process."""

from __future__ import annotations

import subprocess
import sys


def loaded_after(script: str) -> set[str]:
    """The top-level modules of interest in ``sys.modules`` once *script* has run."""
    watched = ("asyncio", "logging", "trio", "uvloop", "importlib.metadata")
    report = f"\nimport sys\nprint(*[m for m in {watched!r} if m in sys.modules])\n"
    output = subprocess.run(
        [sys.executable, "-W", "error", "-c", script + report],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return set(output.split())


def test_importing_loads_no_event_loop_library_nor_logging() -> None:
    assert loaded_after("import multi_await") == set()


def test_a_trio_program_does_not_load_asyncio() -> None:
    script = """
import trio
from multi_await import as_completed_or_abort, gather_or_abort, race_or_abort

async def value(result):
    await trio.sleep(0)
    return result

async def fails():
    raise KeyError("failed")

async def main():
    assert await gather_or_abort(value(1), value(2)) == [1, 2]
    try:
        await gather_or_abort(value(1), fails())
    except KeyError:
        pass
    async with as_completed_or_abort([value(3)]) as completed:
        assert [result async for result in completed] == [3]
    assert await race_or_abort([fails, value(4)]) == 4

trio.run(main)
"""
    assert "asyncio" not in loaded_after(script)
