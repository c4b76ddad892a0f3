"""Run the benchmarks: interleaved contenders, medians, ratios, table, JSON and plots.

    python benchmarks/run.py              # N up to 10^5 (10^4 for the slow workloads)
    python benchmarks/run.py --quick      # N = 10^2, 10^3, 3 rounds: proves they still run
    python benchmarks/run.py --full       # adds N = 10^6 to spawn, 10^5 to the others
    python benchmarks/run.py --clock cpu  # the process's CPU time, on a shared machine

See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import loops
import targets
from harness import Result, interleave, set_ratios, use_clock
from machine import one_line
from report import OTHER_PROCESS, machine, plot, rst_tables, table, write_json
from workloads import MODES, Mode, Workload, all_workloads

HERE = Path(__file__).resolve().parent
LEGACY_SCRIPT = HERE / "legacy_v1.py"
LEGACY_ENV = "MULTI_AWAIT_V1_PYTHON"


def measure(workload: Workload, backend: str, mode: Mode) -> list[Result]:
    """Every size of *workload* on *backend*, in one event loop."""

    async def main(loop: loops.Loop) -> list[Result]:
        results: list[Result] = []
        for n in workload.sizes[mode.name]:
            started = time.perf_counter()
            contenders = workload.contenders(loop, n, mode)
            repeats = min(mode.repeats_for(n), workload.max_repeats or mode.repeats)
            samples = await interleave(contenders, repeats)
            group = [
                Result(workload.name, backend, n, name, workload.unit, values)
                for name, values in samples.items()
            ]
            set_ratios(group, workload.baseline(loop))
            results += group
            print(
                f"  {workload.name:13} {backend:15} {n:>8}  {time.perf_counter() - started:6.1f} s",
                file=sys.stderr,
            )
        return results

    result: list[Result] = loops.run(backend, main)
    return result


def measure_legacy(
    python: str, mode: Mode, names: list[str], clock: str
) -> tuple[list[Result], str]:
    """multi-await 1.0.4's figures, measured by *python* (3.9) in a process of its own."""
    completed = subprocess.run(
        [python, str(LEGACY_SCRIPT), "--mode", mode.name, "--clock", clock, "--workload", *names],
        stdout=subprocess.PIPE,  # its progress and errors go to our stderr
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        return [], f"multi-await 1.0.4 not measured: {python} exited with {completed.returncode}"
    document = json.loads(completed.stdout)
    results = [Result.from_json(data) for data in document["results"]]
    return results, f"{OTHER_PROCESS} multi-await 1.0.4: {one_line(document['machine'])}"


def load(paths: list[Path]) -> tuple[dict[str, Any], list[str], list[Result]]:
    """The machine, notes and figures of earlier runs; later figures win."""
    figures: dict[tuple[str, str, int, str], Result] = {}
    notes: list[str] = []
    info: dict[str, Any] = {}
    for path in paths:
        document = json.loads(path.read_text(encoding="utf-8"))
        info = info or document["machine"]
        notes += [note for note in document["notes"] if note not in notes]
        for data in document["results"]:
            result = Result.from_json(data)
            key = (result.workload, result.backend, result.n, result.implementation)
            figures[key] = result
    return info, notes, list(figures.values())


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes, 3 rounds (< 2 min)")
    size.add_argument("--full", action="store_true", help="add N = 10^6 to spawn-and-gather")
    parser.add_argument(
        "--workload", nargs="+", metavar="NAME", help="only these workloads (default: all)"
    )
    parser.add_argument(
        "--backend", nargs="+", choices=loops.BACKENDS, help="only these event loops"
    )
    parser.add_argument(
        "--legacy-python",
        default=os.environ.get(LEGACY_ENV),
        help=f"a Python 3.9 with multi-await 1.0.4 and aiotk installed (or ${LEGACY_ENV})",
    )
    parser.add_argument(
        "--from-json",
        nargs="+",
        type=Path,
        metavar="RESULTS",
        help="measure nothing: redraw table, plots and tables.rst from results.json files"
        " (a figure of a later file replaces the same figure of an earlier one)",
    )
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="time with perf_counter (wall, the default) or this process's CPU time"
        " (cpu: far less disturbed by other work on a shared machine)",
    )
    parser.add_argument("--output", type=Path, help="where JSON and plots go")
    parser.add_argument("--no-plots", action="store_true", help="write no PNG")
    return parser.parse_args(argv)


def measure_all(
    workloads: list[Workload],
    backends: list[str],
    mode: Mode,
    legacy_python: str | None,
    clock: str,
) -> tuple[dict[str, Any], list[str], list[Result]]:
    """Measure every workload on every backend, and 1.0.4 if a Python 3.9 is given."""
    use_clock(clock)
    info = machine()
    info["clock"] = clock
    notes: list[str] = []
    results: list[Result] = []
    if legacy_python:
        names = sorted(w.name for w in workloads)
        legacy, note = measure_legacy(legacy_python, mode, names, clock)
        results += legacy
        notes.append(note)
    else:
        notes.append(f"multi-await 1.0.4 not measured: pass --legacy-python or set {LEGACY_ENV}")
    for workload in workloads:
        reason = workload.skip_reason()
        if reason is not None:
            notes.append(f"{workload.name} skipped: {reason}")
            continue
        for backend in (b for b in backends if b in workload.backends):
            results += measure(workload, backend, mode)
    info["load_average_after"] = os.getloadavg()
    return info, notes, results


def write_all(
    workloads: list[Workload],
    results: list[Result],
    info: dict[str, Any],
    notes: list[str],
    output: Path,
    *,
    mode: str,
    plots: bool,
) -> None:
    """Print the tables, write results.json, tables.rst and the plots."""
    tables: list[tuple[Workload, list[Result]]] = []
    for workload in workloads:
        # The other process's figures come last, below the ones they are compared with.
        mine = sorted(
            (r for r in results if r.workload == workload.name), key=lambda r: bool(r.process)
        )
        if not mine:
            continue
        tables.append((workload, mine))
        print(table(workload, mine) + "\n")
        if plots:
            plot(output / f"{workload.name}.png", workload, mine, info)
    verdicts = targets.verdicts(results)
    print(targets.text(verdicts) + "\n")
    for note in notes:
        print(note)
    print(one_line(info))
    (output / "targets.rst").write_text(targets.rst(verdicts), encoding="utf-8")
    path = output / "results.json"
    write_json(path, info, mode, [r for _, mine in tables for r in mine], notes)
    (output / "tables.rst").write_text(rst_tables(tables, info), encoding="utf-8")
    print(f"{sum(len(mine) for _, mine in tables)} figures in {path}")


def main(argv: list[str]) -> int:
    args = parse(argv)
    mode = MODES["quick" if args.quick else "full" if args.full else "default"]
    output: Path = args.output or HERE / "results" / ("quick" if args.quick else "")
    output.mkdir(parents=True, exist_ok=True)
    unknown = set(args.workload or ()) - {w.name for w in all_workloads()}
    if unknown:
        print(f"unknown workload(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    workloads = [w for w in all_workloads() if not args.workload or w.name in args.workload]
    began = time.perf_counter()
    if args.from_json:
        info, notes, results = load(args.from_json)
    else:
        backends = [b for b in args.backend or loops.BACKENDS if loops.available(b)]
        info, notes, results = measure_all(
            workloads, backends, mode, args.legacy_python, args.clock
        )
    write_all(workloads, results, info, notes, output, mode=mode.name, plots=not args.no_plots)
    print(f"in {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
