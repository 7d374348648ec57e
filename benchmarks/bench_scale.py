"""Scale benchmark: techfile on generated projects of 1x, 10x and 50x the sample (benchmarks/generate.py), each figure
paired with its baseline in the same run.

- check: `techfile check P` against the floor, one process that loads the same files with PyYAML's C loader and
  validates each against the same schema with jsonschema (`--floor P` runs that process).
- build (with --build, at --build-scales): an unchanged rebuild, a rebuild after one dataset's description is edited,
  and a fresh `--no-pdf` build, each paired with a full build into a fresh folder (no cache); the ratio is the share
  of the full build.

A and B alternate (the order flips every round), after one warm-up of each; figures are medians of --runs rounds.
Peak RSS is that of the largest single process of the command (the command or any child it waited for).
Prints a table and writes JSON (--json).

Usage: python benchmarks/bench_scale.py [--scales 1,10,50] [--runs 5] [--build] [--json bench_scale.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


# Python as installed: modules compiled once to bytecode (an environment that forbids writing it would make every
# run compile techfile from source, while the libraries come with bytecode from their installation).
ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], cache: Path | None = None) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (bytes) of the largest process in `command`'s tree that was waited for, and the CPU
    seconds (user + system) of the command and the children it waited for. `cache`: techfile's user cache folder
    (TECHFILE_CACHE_DIR) for the run."""
    environment = {**ENVIRONMENT, **({"TECHFILE_CACHE_DIR": str(cache)} if cache is not None else {})}
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}")
    return seconds, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime


def paired(a: list[str], b: list[str], runs: int, before_a: Callable[[], None] | None = None,
           before_b: Callable[[], None] | None = None, cache_a: Path | None = None,
           cache_b: Path | None = None) -> dict[str, Any]:
    """Medians of `a` and `b` run alternately (order flipped every round) after a warm-up of each; `before_a` and
    `before_b` run (untimed) before each run of theirs; `cache_a` and `cache_b` are their user cache folders."""
    commands = {"a": (a, before_a, cache_a), "b": (b, before_b, cache_b)}
    times: dict[str, list[float]] = {"a": [], "b": []}
    cpu: dict[str, list[float]] = {"a": [], "b": []}
    peaks: dict[str, int] = {"a": 0, "b": 0}
    for round_number in range(runs + 1):
        order = ("a", "b") if round_number % 2 == 0 else ("b", "a")
        for which in order:
            command, before, cache = commands[which]
            if before:
                before()
            seconds, peak, used = timed(command, cache)
            if round_number:  # round 0 is the warm-up
                times[which].append(seconds)
                cpu[which].append(used)
                peaks[which] = max(peaks[which], peak)
    return {"median_s": statistics.median(times["a"]), "baseline_median_s": statistics.median(times["b"]),
            "cpu_median_s": statistics.median(cpu["a"]), "baseline_cpu_median_s": statistics.median(cpu["b"]),
            "runs_s": times["a"], "baseline_runs_s": times["b"], "peak_rss": peaks["a"], "baseline_peak_rss": peaks["b"]}


def floor(project: Path) -> int:
    """The one-process jsonschema floor: load every source with PyYAML's C loader, validate it with jsonschema (with
    techfile's import-time guard: no rfc3987-syntax, whose grammar takes seconds to compile and no schema needs)."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    import yaml
    from jsonschema import Draft202012Validator

    from techfile.sources.kinds import SOURCE_KINDS

    problems = 0
    for kind in SOURCE_KINDS:
        location = project / kind.location
        if kind.folder:
            files = sorted(p for p in location.glob("*") if p.suffix in (".yaml", ".yml")) if location.is_dir() else []
        else:
            files = [location] if location.is_file() else []
        if not files:
            continue
        schema = json.loads((REPO / "schemas" / kind.schema_file).read_text(encoding="utf-8"))
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        for file in files:
            data = yaml.load(file.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
            problems += sum(1 for _ in validator.iter_errors(data))
    return problems


def source_files(project: Path) -> int:
    return sum(1 for p in project.rglob("*.yaml") if "build" not in p.relative_to(project).parts)


def bench_check(project: Path, runs: int) -> dict[str, Any]:
    techfile = str(Path(sys.executable).parent / "techfile")
    figures = paired([techfile, "check", str(project)], [sys.executable, __file__, "--floor", str(project)], runs)
    figures["ratio"] = figures["median_s"] / figures["baseline_median_s"]
    return figures


def bench_build(project: Path, runs: int) -> dict[str, dict[str, Any]]:
    """Unchanged rebuild, rebuild after one dataset edit, and a fresh `--no-pdf` build, each paired with a full build
    into a fresh folder (no cache)."""
    techfile = str(Path(sys.executable).parent / "techfile")
    out = project.parent / f"{project.name}-build"
    fresh = project.parent / f"{project.name}-fresh"

    kept, cold = project.parent / f"{project.name}-cache", project.parent / f"{project.name}-cold-cache"

    def clear_fresh() -> None:  # a fresh build: no output, no build cache, no user cache (charts, catalogues)
        for folder in (fresh, fresh.parent / f".{fresh.name}.cache", cold):
            shutil.rmtree(folder, ignore_errors=True)

    full = [techfile, "build", str(project), "--out", str(fresh)]
    rebuild = [techfile, "build", str(project), "--out", str(out)]
    subprocess.run(rebuild, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**ENVIRONMENT, "TECHFILE_CACHE_DIR": str(kept)})
    results: dict[str, dict[str, Any]] = {}
    both = {"cache_a": kept, "cache_b": cold}
    results["unchanged rebuild"] = paired(rebuild, full, runs, before_b=clear_fresh, **both)
    dataset = sorted((project / "datasets").glob("*.yaml"))[0]
    original = dataset.read_text(encoding="utf-8")
    counter = iter(range(1_000_000))

    def edit_dataset() -> None:
        edited = original.replace("description: >-\n", f"description: >-\n  Edit {next(counter)}.\n", 1)
        assert edited != original, f"{dataset} has no folded description to edit"
        dataset.write_text(edited, encoding="utf-8")

    try:
        results["one dataset edited"] = paired(rebuild, full, runs, before_a=edit_dataset, before_b=clear_fresh, **both)
    finally:
        dataset.write_text(original, encoding="utf-8")
    results["--no-pdf (fresh)"] = paired([*full, "--no-pdf"], full, runs, before_a=clear_fresh, before_b=clear_fresh,
                                         cache_a=cold, cache_b=cold)
    for figures in results.values():
        figures["ratio"] = figures["median_s"] / figures["baseline_median_s"]
    clear_fresh()
    return results


def table(results: dict[str, Any]) -> str:
    rows = ["| scale | source files | what | techfile | baseline | ratio | CPU: techfile / baseline | peak RSS |",
            "|---|---|---|---|---|---|---|---|"]

    def row(scale: str, files: int, what: str, figures: dict[str, Any], peak: int) -> str:
        return (f"| {scale}x | {files} | {what} | {figures['median_s']:.2f} s | {figures['baseline_median_s']:.2f} s | "
                f"{figures['ratio']:.2f} | {figures['cpu_median_s']:.2f} s / {figures['baseline_cpu_median_s']:.2f} s | "
                f"{peak / 2**20:.0f} MiB |")

    for scale, entry in results["scales"].items():
        check = entry["check"]
        rows.append(row(scale, entry["files"], "check vs jsonschema floor", check, check["peak_rss"]))
        for name, figures in entry.get("build", {}).items():
            rows.append(row(scale, entry["files"], f"{name} vs fresh full build", figures,
                            max(figures["peak_rss"], figures["baseline_peak_rss"])))
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--floor", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scales", default="1,10,50")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--build", action="store_true", help="also time builds (slow at 50x)")
    parser.add_argument("--build-scales", default="1,10", help="scales at which to time builds")
    parser.add_argument("--json", type=Path, default=Path("bench_scale.json"))
    args = parser.parse_args()
    if args.floor:
        floor(args.floor)
        return 0
    results: dict[str, Any] = {"runs": args.runs, "seed": args.seed, "cpus": os.cpu_count(),
                               "load_average_before": os.getloadavg(), "scales": {}}
    with tempfile.TemporaryDirectory(prefix="techfile-bench-") as work:
        for scale in (int(s) for s in args.scales.split(",")):
            project = generate(Path(work) / f"x{scale}", scale, args.seed).root
            entry: dict[str, Any] = {"files": source_files(project), "check": bench_check(project, args.runs)}
            if args.build and str(scale) in args.build_scales.split(","):
                entry["build"] = bench_build(project, args.runs)
            results["scales"][str(scale)] = entry
            args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")  # so far
            print(f"{scale}x done", file=sys.stderr)
    results["load_average_after"] = os.getloadavg()
    results["table"] = table(results)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(results["table"])
    print(f"load average before {results['load_average_before'][0]:.2f}, after {results['load_average_after'][0]:.2f}; "
          f"{args.runs} runs, medians; JSON in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
