"""Every check CI runs, one nox session each; ``bash .ci/run`` runs them all.

``nox -l`` lists the sessions, ``nox -s NAME`` runs one. CONTRIBUTING.md says what
each one proves.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from email.parser import Parser
from pathlib import Path

import nox
from packaging.requirements import Requirement

nox.needs_version = ">=2025.2.9"
nox.options.error_on_missing_interpreters = True
nox.options.download_python = "never"

#: pyenv has 3.10 to 3.13; ``.ci/newer-pythons.sh`` provides 3.14 and 3.15.
PYTHONS = ["3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]
#: The Python of the sessions that need only one.
MAIN_PYTHON = "3.12"
PYPROJECT = nox.project.load_toml("pyproject.toml")
LINTED = ["src", "tests", "examples", "benchmarks", "docs", "noxfile.py"]
PROPERTIES = Path("tests/properties")
#: A hung test run is stopped after twenty minutes, so that the other sessions still
#: run and report (the whole suite takes 5 to 8 minutes on CI's 2 cores, one
#: interpreter; a test that hangs is stopped sooner, by the suite's own guard).
PYTEST = (
    ["timeout", "--foreground", "--kill-after=10", "1200"] if shutil.which("timeout") else []
) + ["python", "-m", "pytest", "-p", "no:cacheprovider"]
#: The distributions whose versions a test session reports.
REPORTED = {"anyio", "exceptiongroup", "trio", "uvloop", "pytest", "hypothesis"}


def _put_pyenv_pythons_on_path() -> None:
    """Let nox find pyenv's interpreters: pyenv's shims hide those not selected."""
    if shutil.which("pyenv") is None:
        return
    found = [
        subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True)
        for version in PYTHONS
    ]
    bins = [str(Path(run.stdout.strip(), "bin")) for run in found if run.returncode == 0]
    os.environ["PATH"] = os.pathsep.join([*bins, os.environ["PATH"]])


_put_pyenv_pythons_on_path()


def group(name: str) -> tuple[str, ...]:
    """The requirements of one of pyproject.toml's dependency groups."""
    return nox.project.dependency_groups(PYPROJECT, name)


def run_tests(session: nox.Session, *install_options: str) -> None:
    """README's test command, measured for the combined coverage report."""
    session.install(*install_options, "-e", ".", *group("test"))
    session.install(*group("coverage"))
    installed = session.run("python", "-m", "pip", "list", "--format=freeze", silent=True)
    pins = [pin for pin in str(installed).split() if pin.split("==")[0].lower() in REPORTED]
    session.log("testing with " + ", ".join(pins))
    session.run(
        *PYTEST,
        "--cov",
        "--cov-report=",
        "--cov-fail-under=0",  # the gate is the combined figure, in the coverage session
        # Hypothesis would pick its `ci` profile by itself where CI is set: that long
        # run is the properties session's, once.
        "--hypothesis-profile=default",
        *session.posargs,
        env={"COVERAGE_FILE": f".coverage.{session.name}"},
        external=True,
    )


@nox.session(python=MAIN_PYTHON)
def lint(session: nox.Session) -> None:
    """ruff's lint rules and formatting."""
    session.install(*group("lint"))
    session.run("ruff", "check", *LINTED)
    session.run("ruff", "format", "--check", "--diff", *LINTED)


@nox.session(python=PYTHONS[0])
def typing(session: nox.Session) -> None:
    """mypy --strict and strict pyright on src/, and the inferred types of tests/typing/."""
    session.install("-e", ".[trio]", *group("typing"))
    session.run("mypy", "--strict", "src", "tests/typing")
    session.run("pyright", "src", "tests/typing", env={"PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"})


@nox.session(python=PYTHONS, venv_backend="venv")
def tests(session: nox.Session) -> None:
    """The whole suite, with the newest dependencies, on every backend."""
    run_tests(session)


@nox.session(python=PYTHONS[0], venv_backend="venv")
def lowest(session: nox.Session) -> None:
    """The whole suite with every dependency at the lowest version pyproject.toml allows."""
    floors = Path(session.create_tmp(), "lowest.txt")
    floors.write_text("".join(f"{pin}\n" for pin in declared_floors()))
    run_tests(session, "--constraint", str(floors))


def declared_floors() -> list[str]:
    """``name==floor`` for each runtime dependency and the ``trio`` extra."""
    project = PYPROJECT["project"]
    pins = []
    for line in [*project["dependencies"], *project["optional-dependencies"]["trio"]]:
        requirement = Requirement(line)
        floors = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        if len(floors) != 1:
            raise ValueError(f"{line!r} should declare its lowest version with one '>='")
        pins.append(f"{requirement.name}=={floors[0]}")
    return pins


@nox.session(python=MAIN_PYTHON, venv_backend="venv")
def properties(session: nox.Session) -> None:
    """The property-based tests, with Hypothesis's ``ci`` profile."""
    if not any(PROPERTIES.glob("**/test_*.py")):
        session.skip(f"{PROPERTIES} holds no tests yet")
    session.install("-e", ".", *group("test"))
    session.run(
        *PYTEST, str(PROPERTIES), "--hypothesis-profile=ci", *session.posargs, external=True
    )


@nox.session(python=MAIN_PYTHON)
def package(session: nox.Session) -> None:
    """Build the sdist and wheel, check them, and use the wheel without Trio or uvloop."""
    session.install(*group("package"))
    tmp = Path(session.create_tmp())
    dist = tmp / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist))
    session.run("twine", "check", "--strict", *map(str, dist.iterdir()))
    (wheel,) = dist.glob("*.whl")
    problems = wheel_problems(wheel)
    if problems:
        session.error(f"{wheel.name}: " + "; ".join(problems))
    session.log(f"{wheel.name}: py.typed, no tests, metadata complete")

    clean = tmp / "clean-venv"
    shutil.rmtree(clean, ignore_errors=True)
    session.run("python", "-m", "venv", str(clean))
    python = str(clean / "bin" / "python")
    session.run(python, "-m", "pip", "install", "--quiet", str(wheel), external=True)
    smoke_test = tmp / "use_the_wheel.py"
    smoke_test.write_text(WHEEL_SMOKE_TEST)
    with session.chdir(tmp):
        session.run(python, "-W", "error", smoke_test.name, external=True)


def wheel_problems(wheel: Path) -> list[str]:
    """What keeps *wheel* from being a clean, typed, well-described distribution."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata_name,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
    dist_info = metadata_name.split("/")[0]
    problems = []
    if "multi_await/py.typed" not in names:
        problems.append("no multi_await/py.typed")
    strays = [name for name in names if not name.startswith(("multi_await/", f"{dist_info}/"))]
    tests = [name for name in names if Path(name).name.startswith(("test_", "conftest"))]
    problems += [f"unexpected file {name}" for name in strays + tests]
    if f"{dist_info}/licenses/LICENSE" not in names:
        problems.append("no LICENSE file")
    if metadata["License-Expression"] != "MIT":
        problems.append(f"License-Expression is {metadata['License-Expression']!r}, not 'MIT'")
    classifiers = set(metadata.get_all("Classifier", []))
    wanted = {f"Programming Language :: Python :: {version}" for version in PYTHONS}
    wanted |= {"Framework :: AnyIO", "Framework :: AsyncIO", "Framework :: Trio"}
    wanted |= {"Typing :: Typed"}
    problems += [f"no classifier {name!r}" for name in sorted(wanted - classifiers)]
    tested = {f"Programming Language :: Python :: {version}" for version in PYTHONS}
    problems += [
        f"classifier {name!r} names a Python CI does not test"
        for name in sorted(classifiers - tested)
        if name.startswith("Programming Language :: Python :: 3.")
    ]
    problems += [
        f"classifier {name!r}: CI tests no free-threaded build"
        for name in sorted(classifiers)
        if name.startswith("Programming Language :: Python :: Free Threading")
    ]
    if metadata["Requires-Python"] != f">={PYTHONS[0]}":
        problems.append(f"Requires-Python is {metadata['Requires-Python']!r}")
    if not metadata.get_all("Project-URL"):
        problems.append("no Project-URL")
    for line in metadata.get_all("Requires-Dist", []):
        requirement = Requirement(line)
        optional = requirement.marker is not None and "extra" in str(requirement.marker)
        if requirement.name in {"trio", "uvloop"} and not optional:
            problems.append(f"{requirement.name} is a required dependency")
    return problems


#: Run in a fresh venv holding the wheel and what it requires, hence no Trio or uvloop.
WHEEL_SMOKE_TEST = """
import asyncio
import importlib.util
import sys

assert importlib.util.find_spec("trio") is None, "trio got installed"
assert importlib.util.find_spec("uvloop") is None, "uvloop got installed"

from multi_await import as_completed_or_abort, gather_or_abort, wait_or_abort

async def value(result, delay=0.0):
    await asyncio.sleep(delay)
    return result

async def main():
    assert await gather_or_abort(value(1, 0.02), value(2)) == [1, 2]
    assert [done.result() for done in await wait_or_abort([value(3)])] == [3]
    async with as_completed_or_abort([value(4, 0.05), value(5)]) as completed:
        assert [result async for result in completed] == [5, 4]

    cleaned_up = []

    async def slow():
        try:
            await asyncio.sleep(60)
        finally:
            cleaned_up.append("slow")

    async def failing():
        await asyncio.sleep(0.01)
        raise RuntimeError("failed")

    try:
        await gather_or_abort(slow(), failing())
    except RuntimeError:
        assert cleaned_up == ["slow"], cleaned_up
    else:
        raise AssertionError("the failure was not raised")

asyncio.run(main())
assert "trio" not in sys.modules
print("the wheel works on asyncio without Trio or uvloop")
"""


@nox.session(python=MAIN_PYTHON, venv_backend="venv")
def demo(session: nox.Session) -> None:
    """README's demonstration: ``python -m multi_await`` after ``pip install '.[trio]'``."""
    session.install(".[trio]")
    with session.chdir(session.create_tmp()):
        session.run("python", "-m", "multi_await")


@nox.session(python=MAIN_PYTHON)
def docs(session: nox.Session) -> None:
    """The documentation site, every cross-reference resolved and warnings as errors.

    The abort timeline's script still runs. The inventories of the projects the docs
    link to are read from docs/inventories/, so the build needs no network.
    """
    session.install("-e", ".[trio]", *group("docs"))
    tmp = Path(session.create_tmp())
    session.run("python", "docs/timeline.py", "--output", str(tmp / "abort-timeline.png"))
    shutil.rmtree(tmp / "html", ignore_errors=True)
    session.run("sphinx-build", "-n", "-W", "--keep-going", "-b", "html", "docs", str(tmp / "html"))


@nox.session(python=MAIN_PYTHON, venv_backend="venv")
def bench(session: nox.Session) -> None:
    """The benchmarks in their quick mode, plots included: proof that they still run.

    Their figures are printed, never judged: a shared machine is no place for that.
    """
    session.install("-e", ".", *group("bench"))
    output = Path(session.create_tmp(), "bench")
    session.run("python", "benchmarks/run.py", "--quick", "--output", str(output))


@nox.session(python=MAIN_PYTHON)
def coverage(session: nox.Session) -> None:
    """Branch coverage of src/ by the test sessions run before it, all Pythons combined."""
    session.install(*group("coverage"))
    session.run("coverage", "combine")
    session.run("coverage", "report")
