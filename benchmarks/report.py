"""What a run leaves behind: a table on the terminal, the raw figures as JSON, PNG plots."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness import Result
from machine import describe_machine, one_line
from workloads import Workload

LIBRARIES = (
    "multi-await",
    "anyio",
    "trio",
    "uvloop",
    "quattro",
    "aiotools",
    "aiometer",
    "aiostream",
    "matplotlib",
)
#: The implementations of multi_await, drawn thicker.
OURS = {
    "gather_or_abort",
    "wait_or_abort",
    "as_completed_or_abort",
    "MultiAwait.get",
    "map_or_abort",
}
#: Marks figures measured in another process, on another Python (multi-await 1.0.4).
OTHER_PROCESS = "†"


def machine() -> dict[str, Any]:
    return describe_machine(LIBRARIES)


# -- the table -----------------------------------------------------------------------


def label(result: Result) -> str:
    if result.process is None:
        return result.implementation
    return f"{result.implementation} {OTHER_PROCESS}"


def table(workload: Workload, results: list[Result]) -> str:
    """The medians of one workload, one block per backend: value and ratio per size."""
    lines = [f"{workload.title} ({workload.name}): {workload.unit}, median; ratio to baseline"]
    for backend in dict.fromkeys(r.backend for r in results):
        mine = [r for r in results if r.backend == backend]
        sizes = sorted({r.n for r in mine})
        names = list(dict.fromkeys(label(r) for r in mine))
        width = max(len(name) for name in names) + 2
        baselines = {r.baseline for r in mine if r.process is None and r.baseline}
        lines.append(f"  {backend} (baseline: {', '.join(sorted(baselines)) or '-'})")
        size_name = workload.size_label.split()[0]
        header = "".join(f"{size_name + '=' + _count(n):>20}" for n in sizes)
        lines.append(f"    {'':{width}}{header}")
        for name in names:
            cells = []
            for n in sizes:
                found = [r for r in mine if r.n == n and label(r) == name]
                cells.append(_cell(found[0]) if found else f"{'-':>20}")
            lines.append(f"    {name:{width}}{''.join(cells)}")
    others = [r for r in results if r.process is not None]
    if others:
        process = others[0].process or {}
        lines.append(
            f"  {OTHER_PROCESS} measured in another process, on {process.get('python')}; "
            f"its ratio is to {others[0].baseline} in that process"
        )
    return "\n".join(lines)


def _count(n: int) -> str:
    exponent = len(str(n)) - 1
    return f"10^{exponent}" if n == 10**exponent else str(n)


def _cell(result: Result) -> str:
    value = f"{result.median:.3g}" if result.median < 1000 else f"{result.median:,.0f}"
    ratio = f"{result.ratio:.2f}x" if result.ratio is not None else ""
    return f"{value:>12} {ratio:>7}"


# -- JSON ----------------------------------------------------------------------------


def write_json(
    path: Path, info: dict[str, Any], mode: str, results: Iterable[Result], notes: list[str]
) -> None:
    document = {
        "machine": info,
        "mode": mode,
        "notes": notes,
        "results": [result.as_json() for result in results],
    }
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# -- plots ---------------------------------------------------------------------------


def plot(path: Path, workload: Workload, results: list[Result], info: dict[str, Any]) -> None:
    """Log-log figure against N, one panel per backend, one line per implementation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    backends = list(dict.fromkeys(r.backend for r in results))
    names = list(dict.fromkeys(label(r) for r in results))
    legend_width = 0.6 + 0.065 * max(len(name) for name in names)  # inches, at 7.5 pt
    width = 4.6 * len(backends) + legend_width
    figure, axes = plt.subplots(1, len(backends), figsize=(width, 4.4), squeeze=False, sharey=True)
    palette = plt.get_cmap("tab10")
    colours = {name: palette(i % 10) for i, name in enumerate(names)}
    colours.update({r.baseline: "black" for r in results if r.baseline and not r.process})
    plain = matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}")
    for axis, backend in zip(axes[0], backends, strict=True):
        mine = [r for r in results if r.backend == backend]
        for name in dict.fromkeys(label(r) for r in mine):
            points = sorted((r.n, r.median) for r in mine if label(r) == name)
            axis.plot(
                [n for n, _ in points],
                [value for _, value in points],
                marker="o",
                markersize=3.5,
                linestyle="--" if name.endswith(OTHER_PROCESS) else "-",
                linewidth=2.4 if name in OURS else 1.2,
                color=colours[name],
                zorder=3 if colours[name] == "black" else 2,  # the baseline on top
                label=name,
            )
        axis.set_xscale("log")
        if workload.log_y:
            axis.set_yscale("log")
            axis.yaxis.set_major_formatter(plain)
            values = [r.median for r in results if r.median > 0]
            if max(values) / min(values) < 30:  # under two decades: label the minor ticks too
                axis.yaxis.set_minor_formatter(plain)
                axis.tick_params(axis="y", which="minor", labelsize=6)
            else:
                axis.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        else:
            axis.set_ylim(bottom=0, top=max(r.median for r in results) * 1.08)
        axis.set_title(backend)
        axis.set_xlabel(workload.size_label)
        axis.grid(True, which="both", alpha=0.25)
    axes[0][0].set_ylabel(workload.unit)
    handles = {}
    for axis in axes[0]:
        for handle, name in zip(*axis.get_legend_handles_labels(), strict=True):
            handles.setdefault(name, handle)
    figure.legend(handles.values(), handles.keys(), loc="center right", fontsize=7.5)
    figure.suptitle(f"{workload.title}: {workload.unit}, median")
    footer = f"{one_line(info)}; clock: {info.get('clock', 'wall')}"
    others = [r.process for r in results if r.process]
    if others:
        python = others[0].get("python")
        footer += f"\n{OTHER_PROCESS} dashed: measured in another process, on {python}"
    figure.text(0.01, 0.01, footer, fontsize=6.5, wrap=True)
    figure.tight_layout(rect=(0, 0.07, 1 - legend_width / width, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)


# -- reStructuredText, included by docs/performance.rst -----------------------------


def rst_tables(tables: list[tuple[Workload, list[Result]]], info: dict[str, Any]) -> str:
    """One list-table per workload: a row per backend and implementation, a column per N."""
    out = [
        ".. Written by benchmarks/run.py; do not edit by hand.",
        "",
        f"Measured on {one_line(info)}, {info['date']}.",
        "",
    ]
    for workload, results in tables:
        sizes = sorted({r.n for r in results})
        size_name = workload.size_label.split()[0]
        out += [
            f".. list-table:: {workload.title} (``{workload.name}``): {workload.unit},"
            " median (ratio to the baseline)",
            "   :header-rows: 1",
            "",
            "   * - loop",
            "     - implementation",
            *(f"     - {size_name} = {_count(n)}" for n in sizes),
        ]
        for backend in dict.fromkeys(r.backend for r in results):
            mine = [r for r in results if r.backend == backend]
            for name in dict.fromkeys(label(r) for r in mine):
                base = any(r.implementation == r.baseline for r in mine if label(r) == name)
                shown = f"**{name}**" if base else name
                out += [f"   * - {backend}", f"     - {shown}"]
                for n in sizes:
                    found = [r for r in mine if r.n == n and label(r) == name]
                    out.append(f"     - {_rst_cell(found[0])}" if found else "     - ")
        out.append("")
    out.append(
        f"The baseline is in bold. {OTHER_PROCESS} Measured in another process, on another"
        " Python; the ratio is to the baseline of that process."
    )
    return "\n".join(out) + "\n"


def _rst_cell(result: Result) -> str:
    value = f"{result.median:.3g}" if result.median < 1000 else f"{result.median:,.0f}"
    return f"{value} ({result.ratio:.2f}x)" if result.ratio is not None else value
