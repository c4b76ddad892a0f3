"""The scripts in examples/ run and say what they should."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_fan_out_closes_every_connection_before_reporting_the_failure(backend: str) -> None:
    output = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / "fan_out.py"), backend],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()
    assert sorted(output[:3]) == ["  archive closed", "  fsf closed", "  localhost closed"]
    assert output[3] == "failed: localhost: connection refused; other failures: []"
