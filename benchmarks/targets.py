"""The performance targets of docs/performance.rst, checked against the figures of a run.

Each target gives, per event loop, the figures it rests on and a verdict: ``met``,
``missed`` or ``n/a`` (figures missing). The thresholds are the page's (raised on
2026-12-01): spawn at most 1.0x ``asyncio.TaskGroup`` and 1.05x the eager TaskGroup
and a Trio nursery, abort latency at most 1.0x, memory per pending input at most
1.1x, spawn below ``anyio.gather``; "linear" and "O(1)" are read as "grows with N no
faster than the native structure, within 1.5x", since the native structures
themselves get slower per input as the heap grows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harness import Result
from loops import EAGER, TRIO

TITLE = "The targets, measured"
OURS = "gather_or_abort"
#: Spawn's bound on the eager factory and on Trio; 1.0 on the other loops.
SPAWN_ELSEWHERE = {EAGER: 1.05, TRIO: 1.05}
#: How much faster than the baseline's a cost per input may grow over the sizes.
GROWTH = 1.5


@dataclass(frozen=True)
class Verdict:
    target: str
    backend: str
    figures: str
    met: bool | None


def _median(results: list[Result], workload: str, backend: str, name: str) -> dict[int, float]:
    return {
        r.n: r.median
        for r in results
        if r.workload == workload
        and r.backend == backend
        and r.implementation == name
        and r.process is None
    }


def _ratios(results: list[Result], workload: str, backend: str, name: str) -> dict[int, float]:
    return {
        r.n: r.ratio
        for r in results
        if r.workload == workload
        and r.backend == backend
        and r.implementation == name
        and r.process is None
        and r.ratio is not None
    }


def _show(values: dict[int, float], unit: str = "x") -> str:
    return ", ".join(f"{v:.2f}{unit}" for _, v in sorted(values.items()))


def _baseline(results: list[Result], workload: str, backend: str) -> str | None:
    for r in results:
        if r.workload == workload and r.backend == backend and r.process is None:
            return r.baseline
    return None


def within(
    workload: str, target: str, at_most: float, elsewhere: dict[str, float] | None = None
) -> Callable[..., list[Verdict]]:
    """Ratio of ours to the baseline at most *at_most* at every N (*elsewhere* per loop)."""

    def check(results: list[Result], backends: list[str]) -> list[Verdict]:
        verdicts = []
        for backend in backends:
            bound = (elsewhere or {}).get(backend, at_most)
            ratios = _ratios(results, workload, backend, OURS)
            met = all(r <= bound for r in ratios.values()) if ratios else None
            baseline = _baseline(results, workload, backend)
            figures = f"{OURS} / {baseline}: {_show(ratios)}"
            verdicts.append(Verdict(f"{target}: ≤ {bound}x", backend, figures, met))
        return verdicts

    return check


def below_anyio(results: list[Result], backends: list[str]) -> list[Verdict]:
    verdicts = []
    for backend in backends:
        ours = _median(results, "spawn", backend, OURS)
        theirs = _median(results, "spawn", backend, "anyio.gather")
        ratios = {n: ours[n] / theirs[n] for n in ours.keys() & theirs.keys()}
        met = all(r < 1 for r in ratios.values()) if ratios else None
        figures = f"{OURS} / anyio.gather: {_show(ratios)}"
        verdicts.append(Verdict("spawn: below anyio.gather", backend, figures, met))
    return verdicts


def grows_like_baseline(workload: str, target: str, name: str) -> Callable[..., list[Verdict]]:
    """Cost per input (or per pending input) from the smallest to the largest N."""

    def check(results: list[Result], backends: list[str]) -> list[Verdict]:
        verdicts = []
        for backend in backends:
            baseline = _baseline(results, workload, backend)
            ours = _per_unit(workload, _median(results, workload, backend, name))
            native = _per_unit(workload, _median(results, workload, backend, baseline or ""))
            sizes = sorted(ours.keys() & native.keys())
            if len(sizes) < 2:
                verdicts.append(Verdict(target, backend, "", None))
                continue
            small, large = sizes[0], sizes[-1]
            growth = ours[large] / ours[small]
            native_growth = native[large] / native[small]
            figures = (
                f"{name}: x{growth:.2f} per unit from size {small:,} to {large:,} "
                f"({baseline}: x{native_growth:.2f})"
            )
            verdicts.append(Verdict(target, backend, figures, growth <= GROWTH * native_growth))
        return verdicts

    return check


def flat(workload: str, target: str, name: str, at_most: float) -> Callable[..., list[Verdict]]:
    """A figure that must not grow with N (within 1.5x), and stay below *at_most*."""

    def check(results: list[Result], backends: list[str]) -> list[Verdict]:
        verdicts = []
        for backend in backends:
            medians = _median(results, workload, backend, name)
            if len(medians) < 2:
                verdicts.append(Verdict(target, backend, "", None))
                continue
            sizes = sorted(medians)
            growth = medians[sizes[-1]] / medians[sizes[0]]
            figures = f"{name}: {_show(medians, ' KiB')} from N = {sizes[0]:,} to {sizes[-1]:,}"
            met = growth <= GROWTH and max(medians.values()) <= at_most
            verdicts.append(Verdict(target, backend, figures, met))
        return verdicts

    return check


def _per_unit(workload: str, medians: dict[int, float]) -> dict[int, float]:
    """Latency per pending input for the abort; the other figures are per unit already."""
    if workload == "abort":
        return {n: value / n for n, value in medians.items()}
    return medians


CHECKS = [
    within("spawn", "spawn, x the native structure", 1.0, SPAWN_ELSEWHERE),
    within("spawn_suspending", "spawn, inputs that suspend once, x native", 1.0, SPAWN_ELSEWHERE),
    below_anyio,
    within("abort", "abort latency, x the native structure", 1.0),
    grows_like_baseline("abort", "abort latency: linear in N", OURS),
    within("memory", "memory per pending input, x the native structure", 1.1),
    grows_like_baseline(
        "as_completed", "as_completed_or_abort: O(1) per item", "as_completed_or_abort"
    ),
    grows_like_baseline("select_all", "MultiAwait.get: O(1) per item, bursts", "MultiAwait.get"),
    grows_like_baseline(
        "select_one", "MultiAwait.get: O(1) per item, one at a time", "MultiAwait.get"
    ),
    flat("map_memory", "map_or_abort: peak memory flat in N, below 8 MiB", "map_or_abort", 8192),
]


def verdicts(results: list[Result]) -> list[Verdict]:
    backends = list(dict.fromkeys(r.backend for r in results if r.process is None))
    found = [verdict for check in CHECKS for verdict in check(results, backends)]
    return [verdict for verdict in found if verdict.met is not None]


def text(found: list[Verdict]) -> str:
    lines = [TITLE]
    for verdict in found:
        mark = {True: "met", False: "MISSED", None: "n/a"}[verdict.met]
        lines.append(f"  {mark:6} {verdict.target} [{verdict.backend}]  {verdict.figures}")
    return "\n".join(lines)


def rst(found: list[Verdict]) -> str:
    out = [
        ".. Written by benchmarks/run.py; do not edit by hand.",
        "",
        f".. list-table:: {TITLE}",
        "   :header-rows: 1",
        "   :widths: 30 12 46 12",
        "",
        "   * - target",
        "     - loop",
        "     - figures (ratios at N = 10^2, 10^3, ...)",
        "     - verdict",
    ]
    for verdict in found:
        mark = {True: "met", False: "**missed**", None: "n/a"}[verdict.met]
        out += [
            f"   * - {verdict.target}",
            f"     - {verdict.backend}",
            f"     - {verdict.figures or '-'}",
            f"     - {mark}",
        ]
    return "\n".join(out) + "\n"
