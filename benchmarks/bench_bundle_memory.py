"""Peak memory of `techfile bundle` and `techfile verify` with a large evidence file, against the same project
without it (the baseline, in the same run).

Usage: python benchmarks/bench_bundle_memory.py [--runs 3] [--gib 2] [--limit 300]
The evidence file is sparse (no disk used). Each figure is the median over N runs of the peak resident set of the
command and every process it started. Exits 1 when the large bundle's or verify's median peak is over the limit (MB).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CLI = "import sys; from techfile.cli import main; sys.exit(main())"


# A small go-between measures techfile: a child's peak includes what it shared with its parent before exec.
MEASURE = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n"
)


def peak_mb(*args: str) -> float:
    done = subprocess.run([sys.executable, "-c", MEASURE, sys.executable, "-c", CLI, *args], capture_output=True,
                          text=True, check=True)
    code, kilobytes = done.stdout.split()
    if code != "0":
        raise SystemExit(f"techfile {' '.join(args)} failed")
    return int(kilobytes) / 1024


def make_project(folder: Path, big_bytes: int) -> Path:
    subprocess.run([sys.executable, "-c", CLI, "init", str(folder), "--template", "minimal"], check=True,
                   stdout=subprocess.DEVNULL)
    if big_bytes:
        big = folder / "evidence" / "files" / "inference-log.bin"
        with big.open("wb") as stream:
            stream.truncate(big_bytes)
        digest, block = hashlib.sha256(), bytes(1 << 20)
        for _ in range(big_bytes // len(block)):
            digest.update(block)
        (folder / "evidence" / "ev-inference-log.yaml").write_text(
            f"id: ev-inference-log\ntitle: Inference log\ntype: log\nfile: evidence/files/{big.name}\n"
            f"sha256: {digest.hexdigest()}\ncollected: \"2026-10-31\"\nowner: Jane Doe\n", encoding="utf-8")
        control = folder / "controls" / "ctl-agent-review.yaml"
        control.write_text(control.read_text(encoding="utf-8").replace(
            "  - ev-monthly-accuracy-check\n", "  - ev-monthly-accuracy-check\n  - ev-inference-log\n"), encoding="utf-8")
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gib", type=float, default=2.0)
    parser.add_argument("--limit", type=float, default=300.0, help="MB")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="techfile-bench-bundle-"))
    try:
        small = make_project(scratch / "small", 0)
        large = make_project(scratch / "large", int(args.gib * (1 << 30)))
        figures = {}
        for label, project in (("baseline (no large file)", small), (f"{args.gib:g} GiB evidence file", large)):
            target = scratch / f"{project.name}.zip"
            bundles = [peak_mb("bundle", str(project), "--out", str(target)) for _ in range(args.runs)]
            verifies = [peak_mb("verify", str(target)) for _ in range(args.runs)]
            figures[label] = (statistics.median(bundles), statistics.median(verifies))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for label, (bundle_peak, verify_peak) in figures.items():
        print(f"{label:26} bundle: median peak {bundle_peak:6.0f} MB   verify: median peak {verify_peak:6.0f} MB "
              f"(over {args.runs} runs)")
    worst = max(figures[f"{args.gib:g} GiB evidence file"])
    print(f"limit {args.limit:.0f} MB: {'ok' if worst <= args.limit else 'over'}")
    return 0 if worst <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
