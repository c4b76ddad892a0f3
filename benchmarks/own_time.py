"""Where multi_await spends its time per input: cProfile, its own functions only.

    python benchmarks/own_time.py                       # gather_or_abort, asyncio, N = 10^4
    python benchmarks/own_time.py --backend trio --contender as_completed_or_abort

Runs one contender of a workload a few times under :mod:`cProfile` and prints, per
input, the time spent in the body of each function of multi_await (not in what it
calls), beside the whole cost per input under the profiler. The profiler slows
everything, small functions most, so read shares, not absolute figures.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from pathlib import Path

import loops
from workloads import MODES, all_workloads

import multi_await

PACKAGE = str(Path(multi_await.__file__).resolve().parent)


def profile(workload_name: str, contender: str, backend: str, n: int, calls: int) -> None:
    workload = next(w for w in all_workloads() if w.name == workload_name)
    mode = MODES["quick"]

    async def main(loop: loops.Loop) -> float:
        measure = workload.contenders(loop, n, mode)[contender]
        await measure()  # warm up outside the profile
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        for _ in range(calls):
            await measure()
        profiler.disable()
        elapsed = time.perf_counter() - start
        report(profiler, elapsed, n * calls * mode_calls(workload_name, n))
        return elapsed

    loops.run(backend, main)


def mode_calls(workload_name: str, n: int) -> int:
    """How many calls of N inputs one measurement of the quick mode makes."""
    from harness import repetitions

    per_sample = MODES["quick"].inputs_per_sample
    if workload_name == "abort":
        per_sample //= 10
    return repetitions(n, per_sample)


def report(profiler: cProfile.Profile, elapsed: float, inputs: int) -> None:
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, name), (_, calls, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        if str(Path(filename).resolve()).startswith(PACKAGE):
            where = Path(filename).resolve().relative_to(Path(PACKAGE).parent)
            rows.append((own, calls, f"{where}:{line}({name})"))
    rows.sort(reverse=True)
    ours = sum(own for own, _, _ in rows)
    print(f"under the profiler: {elapsed / inputs * 1e6:.2f} µs per input in all")
    print(f"in multi_await's own function bodies: {ours / inputs * 1e6:.2f} µs per input")
    print(f"{'µs/input':>9} {'calls/input':>12}  function")
    for own, calls, where in rows[:15]:
        print(f"{own / inputs * 1e6:9.3f} {calls / inputs:12.2f}  {where}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workload", default="spawn")
    parser.add_argument("--contender", default="gather_or_abort")
    parser.add_argument("--backend", default=loops.ASYNCIO, choices=loops.BACKENDS)
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=5, help="measurements profiled")
    args = parser.parse_args()
    profile(args.workload, args.contender, args.backend, args.n, args.calls)


if __name__ == "__main__":
    main()
