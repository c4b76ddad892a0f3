"""The library runs on every AnyIO that pyproject.toml allows, the lowest included.

CI's lowest session installs the declared floor (``anyio >= 4.5``). A function the
library calls that this AnyIO lacks is an AttributeError at run time, which the
abort's wait loop (``except BaseException``, since it must outlast cancellation)
catches and retries without awaiting: the event loop spins forever.
"""

from __future__ import annotations

import ast
from importlib.metadata import version
from pathlib import Path

import anyio
import anyio.lowlevel

SOURCE = Path(__file__).parent.parent.parent / "src" / "multi_await"


def anyio_names_used() -> set[str]:
    """Each ``anyio.NAME`` and ``anyio.lowlevel.NAME`` the library's modules refer to."""
    names = set()
    for module in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if not isinstance(node, ast.Attribute):
                continue
            if isinstance(node.value, ast.Name) and node.value.id == "anyio":
                names.add(f"anyio.{node.attr}")
            elif (
                isinstance(node.value, ast.Attribute)
                and isinstance(node.value.value, ast.Name)
                and node.value.value.id == "anyio"
                and node.value.attr == "lowlevel"
            ):
                names.add(f"anyio.lowlevel.{node.attr}")
    return names - {"anyio.lowlevel"}


def test_the_library_refers_to_anyio_at_all() -> None:
    assert "anyio.CancelScope" in anyio_names_used()


def test_the_library_calls_only_anyio_functions_the_installed_anyio_has() -> None:
    modules = {"anyio": anyio, "anyio.lowlevel": anyio.lowlevel}
    missing = sorted(
        name
        for name in anyio_names_used()
        if not hasattr(modules[name.rsplit(".", 1)[0]], name.rsplit(".", 1)[1])
    )
    assert missing == [], f"AnyIO {version('anyio')} lacks {missing}"
