"""Time `techfile check sample_project` as a whole process: median of N runs, each paired with a run of the
bare-interpreter baseline (`python -c pass`) in the same loop, so both see the same machine load.

Usage: python benchmarks/bench_check.py [--runs 10] [--target 0.5] [PROJECT]
Prints the figures and exits 1 when the median is over the target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


# Python as installed: modules compiled once to bytecode (without it every run compiles techfile from source).
ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENVIRONMENT)
    return time.perf_counter() - started


def paired_medians(command: list[str], baseline: list[str], runs: int) -> tuple[float, float]:
    """Medians of `command` and `baseline`, run alternately (after one warm-up of each)."""
    seconds(command), seconds(baseline)
    measured, base = [], []
    for _ in range(runs):
        base.append(seconds(baseline))
        measured.append(seconds(command))
    return statistics.median(measured), statistics.median(base)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("project", nargs="?", default=str(REPO / "sample_project"))
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--target", type=float, default=0.5, help="seconds")
    args = parser.parse_args()
    techfile = Path(sys.executable).parent / "techfile"
    check = [str(techfile), "check", args.project]
    if subprocess.run(check, stdout=subprocess.DEVNULL).returncode != 0:
        print("the project does not check clean; benchmark aborted", file=sys.stderr)
        return 2
    measured, baseline = paired_medians(check, [sys.executable, "-c", "pass"], args.runs)
    print(f"python startup (baseline): median {baseline:.3f} s over {args.runs} runs")
    print(f"techfile check:            median {measured:.3f} s over {args.runs} runs "
          f"({measured / baseline:.1f}x baseline; target {args.target:.1f} s)")
    return 0 if measured <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
