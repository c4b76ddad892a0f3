"""Draw the abort timeline of docs/guarantee.rst from a real, traced call.

One ``gather_or_abort`` call runs four inputs: one returns, one fails, and two are
still working when it fails, one of them with a slow cleanup that shields itself
from the cancellation. Each input notes the monotonic time at which it started,
returned or failed, received its cancellation, and finished its cleanup; the caller
notes when its ``except`` runs. Each input gets a lane in the picture.

Regenerate the picture from the repository's root, with the docs dependencies
installed (``nox -s docs`` has them)::

    python docs/timeline.py                         # writes docs/_static/abort-timeline.png
    python docs/timeline.py --backend trio --output /tmp/trio-timeline.png
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from multi_await import gather_or_abort

PICTURE = Path(__file__).parent / "_static" / "abort-timeline.png"


@dataclass
class Lane:
    """What happened to one input, in seconds since the call began."""

    name: str
    events: dict[str, float] = field(default_factory=dict)


class Trace:
    """The lanes of one call, and the instant the caller's ``except`` ran."""

    def __init__(self) -> None:
        self.began = time.monotonic()
        self.lanes: dict[str, Lane] = {}
        self.caller_except = float("nan")

    def now(self) -> float:
        return time.monotonic() - self.began

    def mark(self, name: str, event: str) -> None:
        self.lanes.setdefault(name, Lane(name)).events[event] = self.now()


async def works(trace: Trace, name: str, seconds: float, cleanup: float = 0.0) -> str:
    """Work for *seconds*; when cancelled, clean up for *cleanup* seconds, shielded."""
    trace.mark(name, "started")
    try:
        await anyio.sleep(seconds)
    except anyio.get_cancelled_exc_class():
        trace.mark(name, "cancelled")
        with anyio.CancelScope(shield=True):
            await anyio.sleep(cleanup)
        trace.mark(name, "cleaned up")
        raise
    trace.mark(name, "returned")
    return name


async def fails(trace: Trace, name: str, seconds: float) -> None:
    trace.mark(name, "started")
    await anyio.sleep(seconds)
    trace.mark(name, "failed")
    raise RuntimeError(f"{name} failed")


async def traced_call() -> Trace:
    trace = Trace()
    for name in ("thumbnail", "checksum", "download", "upload"):
        trace.lanes[name] = Lane(name)  # lanes in input order, whoever starts first
    try:
        await gather_or_abort(
            works(trace, "thumbnail", 0.1),
            fails(trace, "checksum", 0.25),
            works(trace, "download", 10, cleanup=0.03),
            works(trace, "upload", 10, cleanup=0.3),
            timeout=5,
        )
    except RuntimeError:
        trace.caller_except = trace.now()
    return trace


def draw(trace: Trace, backend: str, output: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    lanes = list(trace.lanes.values())
    figure, axes = pyplot.subplots(figsize=(10, 3.6), dpi=100)
    for row, lane in enumerate(reversed(lanes)):
        events = lane.events
        started = events["started"]
        ended = events.get("returned", events.get("failed", events.get("cancelled")))
        axes.barh(row, ended - started, left=started, height=0.5, color="#4c72b0")
        if "cleaned up" in events:
            cleanup = events["cleaned up"] - events["cancelled"]
            axes.barh(
                row, max(cleanup, 0.004), left=events["cancelled"], height=0.5, color="#dd8452"
            )
            axes.plot(events["cancelled"], row, marker="v", color="black", markersize=8)
            axes.plot(events["cleaned up"], row, marker="|", color="black", markersize=16)
        if "returned" in events:
            axes.plot(events["returned"], row, marker="o", color="#55a868", markersize=8)
        if "failed" in events:
            axes.plot(events["failed"], row, marker="X", color="#c44e52", markersize=11)
    axes.axvline(trace.caller_except, color="black", linestyle="--", linewidth=1.2)
    axes.annotate(
        "caller's except",
        (trace.caller_except, len(lanes) - 0.5),
        xytext=(6, 0),
        textcoords="offset points",
        va="center",
    )
    axes.set_yticks(range(len(lanes)), [lane.name for lane in reversed(lanes)])
    axes.set_ylim(-0.6, len(lanes) - 0.2)
    axes.set_xlim(0, trace.caller_except * 1.25)
    axes.set_xlabel("seconds since gather_or_abort() was called")
    axes.set_title(f"gather_or_abort: one input fails, the rest are cancelled ({backend})")
    legend = [
        pyplot.Rectangle((0, 0), 1, 1, color="#4c72b0", label="working"),
        pyplot.Rectangle((0, 0), 1, 1, color="#dd8452", label="cleanup after cancellation"),
        pyplot.Line2D([], [], marker="o", color="#55a868", linestyle="", label="returned"),
        pyplot.Line2D([], [], marker="X", color="#c44e52", linestyle="", label="failed"),
        pyplot.Line2D([], [], marker="v", color="black", linestyle="", label="cancelled"),
    ]
    axes.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    figure.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, metadata={"Software": None})
    pyplot.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    parser.add_argument("--output", type=Path, default=PICTURE)
    args = parser.parse_args()
    trace = anyio.run(traced_call, backend=args.backend)
    for lane in trace.lanes.values():
        print(f"{lane.name:>10}: " + ", ".join(f"{e} {t:.3f} s" for e, t in lane.events.items()))
    print(f"{'caller':>10}: except {trace.caller_except:.3f} s")
    draw(trace, args.backend, args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
