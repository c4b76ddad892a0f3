"""Every Python example of the docs, README.md and the public docstrings runs.

An example is a ``.. code-block:: python`` block (in docs/*.rst and in the
docstrings of the public names) or a fenced ``python`` block of README.md. It is a
whole program: it defines ``async def main()``, and may end by running it with
``asyncio.run(main())``, ``trio.run(main)`` or ``anyio.run(main)``. That last call
names the backends the example runs on here: every asyncio backend, Trio, or all
of them (no call names all of them too). The test drops the call and awaits
``main()`` on each of those backends, so conftest's checks apply: warnings are
errors, and a call of asyncio's exception handler fails the example.

A block that cannot run (it needs the network, or shows a fragment) says so with
``:class: no-run`` in rst, or a ``<!-- no-run -->`` line above it in Markdown;
NOT_RUN counts them per file, so that they cannot grow unnoticed. Programs shown
with ``literalinclude`` are files of examples/, run by their own tests.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import multi_await

from .conftest import ASYNCIO_BACKENDS, BACKENDS, TRIO_BACKENDS

ROOT = Path(__file__).parent.parent

#: Where blocks are marked ``no-run``, and how many.
NOT_RUN = {"docs/howto.rst": 1}

RST_BLOCK = re.compile(r"^(?P<indent> *)\.\. (?:code-block|code|sourcecode):: python3?\s*$")
RUNNERS = {"asyncio": ASYNCIO_BACKENDS, "trio": TRIO_BACKENDS, "anyio": BACKENDS}


@dataclass(frozen=True)
class Example:
    where: str
    code: str
    runs: bool


def rst_examples(where: str, text: str) -> Iterator[Example]:
    """The ``.. code-block:: python`` blocks of reStructuredText *text*."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        match = RST_BLOCK.match(line)
        if match is None:
            continue
        indent = len(match["indent"])
        body: list[str] = []
        options: list[str] = []
        for following in lines[number + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            if not body and following.strip().startswith(":"):
                options.append(following.strip())
            else:
                body.append(following)
        no_run = any(option.startswith(":class:") and "no-run" in option for option in options)
        code = textwrap.dedent("\n".join(body)).strip() + "\n"
        yield Example(f"{where}:{number + 1}", code, runs=not no_run)


def markdown_examples(where: str, text: str) -> Iterator[Example]:
    """The fenced ``python`` blocks of Markdown *text*."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.strip() != "```python":
            continue
        end = lines.index("```", number + 1)
        before = [earlier for earlier in lines[:number] if earlier.strip()]
        no_run = bool(before) and before[-1].strip() == "<!-- no-run -->"
        code = "\n".join(lines[number + 1 : end]) + "\n"
        yield Example(f"{where}:{number + 1}", code, runs=not no_run)


def docstring_examples() -> Iterator[Example]:
    """The ``.. code-block:: python`` blocks of the public names' docstrings."""
    for name in multi_await.__all__:
        public = getattr(multi_await, name)
        documented = [(name, public)]
        if inspect.isclass(public):
            documented += [
                (f"{name}.{member}", value)
                for member, value in vars(public).items()
                if callable(value) and not member.startswith("_")
            ]
        for qualified, value in documented:
            doc = inspect.getdoc(value) if callable(value) else None
            yield from rst_examples(f"multi_await.{qualified}", doc or "")


def all_examples() -> list[Example]:
    found: list[Example] = []
    for path in sorted((ROOT / "docs").glob("*.rst")):
        found += rst_examples(path.relative_to(ROOT).as_posix(), path.read_text())
    found += markdown_examples("README.md", (ROOT / "README.md").read_text())
    found += docstring_examples()
    return found


EXAMPLES = all_examples()


def is_runner_call(statement: ast.stmt) -> str | None:
    """``asyncio``, ``trio`` or ``anyio`` if *statement* is ``X.run(main...)``."""
    if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
        return None
    function = statement.value.func
    if (
        isinstance(function, ast.Attribute)
        and function.attr == "run"
        and isinstance(function.value, ast.Name)
        and function.value.id in RUNNERS
    ):
        return function.value.id
    return None


def run_statements(statement: ast.stmt) -> list[ast.stmt]:
    """The statements of an ``if __name__ == "__main__":`` block, else *statement*."""
    if isinstance(statement, ast.If) and "__name__" in ast.unparse(statement.test):
        return statement.body
    return [statement]


def program(example: Example) -> tuple[ast.Module, list[str]]:
    """The example without the call that runs ``main()``, and the runners it names."""
    module = ast.parse(example.code, example.where)
    kept: list[ast.stmt] = []
    runners: list[str] = []
    for statement in module.body:
        named = [is_runner_call(each) for each in run_statements(statement)]
        if any(named):
            runners += [runner for runner in named if runner]
        else:
            kept.append(statement)
    module.body = kept
    return module, runners


def cases() -> Iterator[Any]:
    for example in EXAMPLES:
        if not example.runs:
            continue
        _, runners = program(example)
        backends = [param for runner in runners or ["anyio"] for param in RUNNERS[runner]]
        for backend in backends:
            yield pytest.param(example, backend.values[0], id=f"{example.where}-{backend.id}")


@pytest.mark.anyio
@pytest.mark.parametrize(("example", "anyio_backend"), list(cases()))
async def test_example_runs(example: Example) -> None:
    module, _ = program(example)
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(compile(module, example.where, "exec"), namespace)
    await namespace["main"]()


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.runs], ids=lambda e: e.where)
def test_example_is_a_program_with_an_async_main(example: Example) -> None:
    module, _ = program(example)
    mains = [
        node
        for node in module.body
        if isinstance(node, ast.AsyncFunctionDef) and node.name == "main"
    ]
    assert mains, f"{example.where}: define async def main(), or mark the block no-run"


def test_only_the_known_blocks_are_not_run() -> None:
    not_run = Counter(example.where.split(":")[0] for example in EXAMPLES if not example.runs)
    assert dict(not_run) == NOT_RUN


@pytest.mark.parametrize("path", sorted((ROOT / "docs").glob("*.rst")), ids=lambda p: p.name)
def test_every_python_block_of_a_page_is_found(path: Path) -> None:
    where = path.relative_to(ROOT).as_posix()
    found = [example for example in EXAMPLES if example.where.startswith(f"{where}:")]
    written = len(re.findall(r"^ *\.\. code-block:: python", path.read_text(), re.MULTILINE))
    assert len(found) == written
