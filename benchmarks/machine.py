"""The machine, the Python and the library versions a run measured, for JSON and plots.

Standard library alone, and Python 3.9 syntax: the process measuring multi-await 1.0.4
describes itself with it too.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import importlib.util
import os
import platform
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def describe_machine(libraries: Iterable[str]) -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in libraries:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "system": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "libraries": versions,
        "commit": measured_commit(),
        #: Other work on the machine skews every figure, if less their ratios.
        "load_average_before": os.getloadavg(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def measured_commit() -> str | None:
    """The commit of the multi_await imported here, ``-dirty`` if its src/ has changes."""
    spec = importlib.util.find_spec("multi_await")
    if spec is None or spec.origin is None:
        return None
    where = Path(spec.origin).parent

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=where, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        head = git("rev-parse", "--short=12", "HEAD")
        changed = git("status", "--porcelain", "--", ".")
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("-dirty" if changed else "")


def one_line(info: dict[str, Any]) -> str:
    """The machine and versions in one line, for the table and the plots."""
    versions = ", ".join(f"{name} {ver}" for name, ver in info["libraries"].items() if ver)
    commit = info.get("commit")
    return f"{info['cpu']}, {info['cores']} cores; {info['python']}; {versions}" + (
        f"; commit {commit}" if commit else ""
    )
