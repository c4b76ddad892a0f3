"""``python -m multi_await`` shows what it promises."""

from __future__ import annotations

import subprocess
import sys


def _sections(output: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for line in output.splitlines():
        if line.endswith(":") and not line.startswith(" "):
            current = sections.setdefault(line[:-1], [])
        elif line.startswith("  "):
            current.append(line.strip())
    return sections


def test_the_demonstration_shows_gather_leaving_work_behind_and_multi_await_not() -> None:
    output = subprocess.run(
        [sys.executable, "-W", "error", "-m", "multi_await"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    sections = _sections(output)
    assert any(
        "still running: download-a, download-b" in line for line in sections["asyncio.gather"]
    )
    for backend in ("asyncio", "Trio"):
        lines = sections[f"multi_await.gather_or_abort on {backend}"]
        caller = next(i for i, line in enumerate(lines) if "caller: except" in line)
        cleanups = [i for i, line in enumerate(lines) if "cleanup finished" in line]
        assert len(cleanups) == 2
        assert max(cleanups) < caller
        assert lines[caller].endswith("still running: nothing")


def test_asyncio_use_imports_neither_trio_nor_uvloop() -> None:
    script = (
        "import asyncio, sys\n"
        "from multi_await import gather_or_abort\n"
        "async def one(): return 1\n"
        "assert asyncio.run(gather_or_abort(one())) == [1]\n"
        "print(sorted(m for m in ('trio', 'uvloop') if m in sys.modules))\n"
    )
    output = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert output.strip() == "[]"
