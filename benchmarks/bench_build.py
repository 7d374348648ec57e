"""Time `techfile build sample_project` as a whole process: a full build (fresh output) and an unchanged rebuild.

Usage: python benchmarks/bench_build.py [--runs 5] [--target 10] [PROJECT]
Each figure is the median of N runs; the baseline is `techfile --version` (interpreter + CLI start-up) in the same run.
Exits 1 when the full build's median is over the target.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("project", nargs="?", default=str(REPO / "sample_project"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--target", type=float, default=10.0, help="seconds, full build")
    args = parser.parse_args()
    techfile = str(Path(sys.executable).parent / "techfile")
    scratch = Path(tempfile.mkdtemp(prefix="techfile-bench-"))
    try:
        out = scratch / "build"
        baseline = statistics.median(timed([techfile, "--version"]) for _ in range(args.runs))
        full = []
        for _ in range(args.runs):
            shutil.rmtree(out, ignore_errors=True)
            full.append(timed([techfile, "build", args.project, "--out", str(out)]))
        again = statistics.median(timed([techfile, "build", args.project, "--out", str(out)]) for _ in range(args.runs))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    full_median = statistics.median(full)
    print(f"techfile --version (baseline): median {baseline:.3f} s over {args.runs} runs")
    print(f"full build:                    median {full_median:.2f} s over {args.runs} runs "
          f"({full_median / baseline:.0f}x baseline; target {args.target:.0f} s)")
    print(f"unchanged rebuild:             median {again:.2f} s over {args.runs} runs")
    return 0 if full_median <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
