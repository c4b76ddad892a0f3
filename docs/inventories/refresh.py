"""Fetch again the object inventories the documentation links to.

The docs build has no network, so Sphinx's intersphinx reads the inventories of
Python, AnyIO and Trio from this folder (``docs/conf.py``). This script, which does
need the network, replaces them with those of the newest releases::

    python docs/inventories/refresh.py

Python's inventory ships in Debian's ``python3.13-doc`` package, fetched with
``apt-get download`` into a private apt state (nothing is installed, no system file
is touched). AnyIO and Trio publish theirs only on their documentation sites, so it
is built here: each one's sdist is downloaded, its documentation requirements are
installed into a throwaway virtual environment, and Sphinx builds its docs. It needs
``apt-get`` and ``dpkg-deb`` on PATH, and runs on Python 3.11 or later (AnyIO's
docs require it). ``SOURCES.txt`` records what each inventory was taken from.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: The newest Python the project supports, and the Debian release that packages its docs.
PYTHON = "3.13"
DEBIAN_SUITE = "trixie"
PYTHON_DOCS_URL = f"https://docs.python.org/{PYTHON}/"


@dataclass(frozen=True)
class Project:
    """A project whose inventory is built from the documentation in its sdist."""

    name: str
    #: The folder of its sdist holding Sphinx's conf.py.
    docs: str
    #: pip arguments installing what its docs build needs, relative to the sdist's root.
    requirements: tuple[str, ...]


PROJECTS = [
    Project("anyio", "docs", ("--group", "pyproject.toml:doc")),
    Project("trio", "docs/source", ("-r", "docs-requirements.in")),
]


def main() -> None:
    if sys.version_info < (3, 11):
        sys.exit("refresh.py needs Python 3.11 or later: AnyIO's docs build does")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        python_inventory, python_source = fetch_python_inventory(work / "debian")
        shutil.copyfile(python_inventory, HERE / "python.inv")
        sources = [f"python.inv: Debian's {python_source}"]
        for project in PROJECTS:
            version = build_inventory(project, work / project.name, python_inventory)
            sources.append(f"{project.name}.inv: {project.name} {version}, its sdist's docs")
    (HERE / "SOURCES.txt").write_text("".join(f"{line}\n" for line in sources))
    print("\n".join(sources))


def fetch_python_inventory(work: Path) -> tuple[Path, str]:
    """Python's ``objects.inv`` from Debian's doc package, and the package it came from."""
    lists = work / "lists"
    (lists / "partial").mkdir(parents=True)
    (work / "sources").mkdir()
    (work / "sources" / f"{DEBIAN_SUITE}.sources").write_text(
        "Types: deb\n"
        "URIs: http://deb.debian.org/debian\n"
        f"Suites: {DEBIAN_SUITE}\n"
        "Components: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )
    private_state = [
        "-o",
        "Dir::Etc::SourceList=/dev/null",
        "-o",
        f"Dir::Etc::SourceParts={work / 'sources'}",
        "-o",
        f"Dir::State::Lists={lists}",
        "-o",
        f"Dir::Cache={work / 'cache'}",
    ]
    run("apt-get", "-q", *private_state, "update")
    run("apt-get", "-q", *private_state, "download", f"python{PYTHON}-doc", cwd=work)
    (package,) = work.glob("*.deb")
    run("dpkg-deb", "-x", str(package), str(work / "root"))
    return work / f"root/usr/share/doc/python{PYTHON}/html/objects.inv", package.name


def build_inventory(project: Project, work: Path, python_inventory: Path) -> str:
    """Build *project*'s docs from its newest sdist into its inventory; its version."""
    work.mkdir()
    run(
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-binary",
        ":all:",
        "--no-deps",
        "--dest",
        str(work),
        project.name,
    )
    (sdist,) = work.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(work, filter="data")
    source = sdist.name.removesuffix(".tar.gz")
    root = work / source
    version = source.rpartition("-")[2]

    venv = work / "venv"
    run(sys.executable, "-m", "venv", str(venv))
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    run(*pip, "--upgrade", "pip")  # dependency groups need pip 25.1 or later
    run(*pip, str(root), *project.requirements, cwd=root)

    conf = root / project.docs / "conf.py"
    # Its intersphinx would fetch inventories over the network: Python's is at hand.
    local_python = {"python": (PYTHON_DOCS_URL, str(python_inventory))}
    conf.write_text(f"{conf.read_text()}\nintersphinx_mapping = {local_python!r}\n")
    html = work / "html"
    run(str(venv / "bin" / "sphinx-build"), "-q", "-b", "html", str(conf.parent), str(html))
    shutil.copyfile(html / "objects.inv", HERE / f"{project.name}.inv")
    return version


def run(*command: str, cwd: Path | None = None) -> None:
    print("+", *command, flush=True)
    subprocess.run(command, check=True, cwd=cwd)


if __name__ == "__main__":
    main()
