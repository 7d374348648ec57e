"""Scale benchmark: techfile on generated projects of 1x, 10x and 50x the sample (benchmarks/generate.py), each figure
paired with its baseline in the same run.

- check: `techfile check P` against the floor, one process that loads the same files with PyYAML's C loader and
  validates each against the same schema with jsonschema (`--floor P` runs that process).
- build (with --build, at --build-scales): a full build into a fresh folder (no output, no build cache, no user
  cache), an unchanged rebuild, a rebuild after one dataset's description is edited, and a fresh `--no-pdf` build,
  each against the toolchain floor on the same generated Markdown. The PDF floor runs pandoc → Typst for every
  document on all cores (`--pdf-floor`), the DOCX floor renders the charts to PNG and runs pandoc → DOCX for every
  document on all cores (`--docx-floor`), the site floor is `mkdocs build` of the same pages with the same theme,
  plugins and Markdown extensions. A build makes all of these editions on the same two cores, so it is compared with
  the floors run at once (`--editions-floor`): PDF + DOCX + site for a full build, DOCX + site for `--no-pdf`. The
  full build is also compared with max(PDF floor, site floor), the floor issue 18 names, which leaves out the DOCX
  edition. Each row also gives its share of the full build.

check pairs A and B alternately (the order flips every round); the builds and floors run once per round, in an order
rotated every round. Both after one warm-up round (none when there is one round only); figures are medians of --runs (builds: --build-runs) rounds.
Peak RSS is that of the largest single process of the command (the command or any child it waited for), and the
CPU time is the command's and its children's (user + system). Prints a table and writes JSON (--json).

Usage: python benchmarks/bench_scale.py [--scales 1,10,50] [--runs 5] [--build] [--build-scales 1,10]
       [--build-runs 5,3] [--no-check] [--json bench_scale.json]
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
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=environment)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            errors.seek(0)
            said = errors.read().decode("utf-8", "replace")[-2000:]
            raise RuntimeError(f"{' '.join(command)} exited {process.returncode}: {said}")
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


COVER = {key: key for key in ("title", "docid", "version", "status", "date", "owner", "approver", "commit",
                                "confidentiality", "provider", "system", "techfile", "approved_on")}
COVER.update({"lang": "en", "draft": "false", "layout": "full"})  # what techfile's Typst template reads


def pdf_floor(markdown: Path, out: Path) -> None:
    """The PDF floor: pandoc → Typst → PDF of every document's Markdown, on all cores, longest first (the commands
    techfile runs for a PDF, with none of its own work before or after)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from techfile.publish.pdf import PdfJob, make_pdf

    out.mkdir(parents=True, exist_ok=True)
    files = sorted(markdown.glob("*.md"), key=lambda path: -path.stat().st_size)
    jobs = [PdfJob(f.stem, str(f), str(out / f"{f.stem}.pdf"), 0, {**COVER, "docid": f.stem}) for f in files]
    with ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(make_pdf, jobs))


def docx_floor(markdown: Path, out: Path) -> None:
    """The DOCX floor: a PNG of every chart (Typst), then pandoc → DOCX of every document's Markdown on all cores."""
    from concurrent.futures import ThreadPoolExecutor

    from techfile.publish.docx import DocxJob, make_docx, render_chart_pngs
    from techfile.resources import doc_templates_dir

    out.mkdir(parents=True, exist_ok=True)
    charts = out / "charts"
    render_chart_pngs(markdown / "charts", charts, [p.stem for p in (markdown / "charts").glob("*.svg")])
    reference = str(doc_templates_dir() / "docx" / "reference.docx")
    files = sorted(markdown.glob("*.md"), key=lambda path: -path.stat().st_size)
    jobs = [DocxJob(f.stem, str(f), str(out / f"{f.stem}.docx"), str(charts), reference, 0, {**COVER, "docid": f.stem})
            for f in files]
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        list(pool.map(make_docx, jobs))


def editions_floor(markdown: Path, out: Path, config: Path, editions: list[str]) -> None:
    """The floors of `editions` (pdf, docx, site) run at once, as a build makes them: each in a thread of its own
    (the PDF floor's process pool, the DOCX floor's pandoc processes, `mkdocs build`)."""
    from concurrent.futures import ThreadPoolExecutor

    mkdocs = str(Path(sys.executable).parent / "mkdocs")
    work: dict[str, Callable[[], object]] = {
        "pdf": lambda: pdf_floor(markdown, out / "pdf"),
        "docx": lambda: docx_floor(markdown, out / "docx"),
        "site": lambda: subprocess.run([mkdocs, "build", "-q", "-f", str(config), "-d", str(out / "site")], check=True),
    }
    with ThreadPoolExecutor(max_workers=len(editions)) as pool:
        for done in [pool.submit(work[edition]) for edition in editions]:
            done.result()  # a floor that fails fails the run


def site_sources(markdown: Path, folder: Path) -> Path:
    """A MkDocs project of the same pages (each document's Markdown, its charts and images) with techfile's theme,
    plugins and Markdown extensions; returns its mkdocs.yml."""
    import yaml

    docs = folder / "docs"
    shutil.copytree(markdown, docs)
    pages = sorted(p.name for p in docs.glob("*.md"))
    shutil.copyfile(docs / pages[0], docs / "index.md")
    config = {"site_name": "floor", "docs_dir": str(docs), "site_dir": str(folder / "site"), "use_directory_urls": False,
              "nav": ["index.md", *pages], "theme": {"name": "material", "font": False},
              "plugins": ["search", "offline"],
              "markdown_extensions": ["tables", "toc", "pymdownx.escapeall", "pymdownx.superfences"]}
    (folder / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return folder / "mkdocs.yml"


def interleaved(commands: dict[str, tuple[list[str], Callable[[], None] | None, Path | None]], runs: int,
                warm_up: bool) -> dict[str, dict[str, Any]]:
    """Each command (argv, what to do untimed before each run, its user cache folder) run once per round, in an order
    rotated every round, after a warm-up round (unless `warm_up` is false): medians of wall and CPU, peak RSS of the
    largest single process."""
    names = list(commands)
    figures: dict[str, dict[str, Any]] = {name: {"runs_s": [], "cpu_s": [], "peak_rss": 0} for name in names}
    for round_number in range(runs + warm_up):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            command, before, cache = commands[name]
            if before:
                before()
            seconds, peak, used = timed(command, cache)
            if round_number or not warm_up:
                figures[name]["runs_s"].append(seconds)
                figures[name]["cpu_s"].append(used)
                figures[name]["peak_rss"] = max(figures[name]["peak_rss"], peak)
        print(f"  round {round_number + 1} of {runs + warm_up} done", file=sys.stderr)
    for entry in figures.values():
        entry["median_s"] = statistics.median(entry["runs_s"])
        entry["cpu_median_s"] = statistics.median(entry["cpu_s"])
    return figures


BUILDS = {  # row → (what is measured, the floors it is compared with: the slowest of them)
    "full build (fresh)": ("full", ("pdf+docx+site floor",)),
    "full build (fresh), issue's floor": ("full", ("pdf floor", "site floor")),
    "unchanged rebuild": ("unchanged", ("pdf+docx+site floor",)),
    "one dataset edited": ("edited", ("pdf+docx+site floor",)),
    "--no-pdf (fresh)": ("no_pdf", ("docx+site floor",)),
}
FLOORS = ("pdf floor", "docx floor", "site floor", "pdf+docx+site floor", "docx+site floor")


def bench_build(project: Path, runs: int, warm_up: bool = True) -> dict[str, dict[str, Any]]:
    """A full build into a fresh folder (no output, no build cache, no user cache), an unchanged rebuild, a rebuild
    after one dataset's description is edited, and a fresh `--no-pdf` build, interleaved with the toolchain floors on
    the same generated Markdown: the PDF floor (pandoc → Typst on all cores), the DOCX floor (chart PNGs, pandoc →
    DOCX on all cores) and the site floor (`mkdocs build` of the same pages)."""
    techfile = str(Path(sys.executable).parent / "techfile")
    mkdocs = str(Path(sys.executable).parent / "mkdocs")
    work = project.parent / f"{project.name}-bench"
    out, fresh = work / "build", work / "fresh"
    kept, cold = work / "cache", work / "cold-cache"

    def clear_fresh() -> None:
        for folder in (fresh, fresh.parent / f".{fresh.name}.cache", cold):
            shutil.rmtree(folder, ignore_errors=True)

    def build_kept() -> None:  # untimed: the build the rebuilds start from
        done = subprocess.run([techfile, "build", str(project), "--out", str(out)], capture_output=True, text=True,
                              env={**ENVIRONMENT, "TECHFILE_CACHE_DIR": str(kept)}, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"techfile build exited {done.returncode}: {done.stderr[-2000:]}")

    build_kept()
    markdown = work / "markdown"
    shutil.copytree(out / "markdown", markdown)  # the floors' input: the Markdown, charts and images techfile wrote
    config = site_sources(markdown, work / "site-floor")
    dataset = next(p for p in sorted((project / "datasets").glob("*.yaml"))
                   if "description: >-\n" in p.read_text(encoding="utf-8"))  # a description to edit
    original = dataset.read_text(encoding="utf-8")
    counter = iter(range(1_000_000))

    def edit_dataset() -> None:
        edited = original.replace("description: >-\n", f"description: >-\n  Edit {next(counter)}.\n", 1)
        assert edited != original, f"{dataset} has no folded description to edit"
        dataset.write_text(edited, encoding="utf-8")

    def restore_dataset() -> None:  # so that the next unchanged rebuild follows a build of the same sources
        if dataset.read_text(encoding="utf-8") != original:
            dataset.write_text(original, encoding="utf-8")
            build_kept()

    def clear(folder: Path) -> Callable[[], None]:
        return lambda: shutil.rmtree(folder, ignore_errors=True)

    build = [techfile, "build", str(project)]
    commands: dict[str, tuple[list[str], Callable[[], None] | None, Path | None]] = {
        "full": ([*build, "--out", str(fresh)], clear_fresh, cold),
        "unchanged": ([*build, "--out", str(out)], restore_dataset, kept),
        "edited": ([*build, "--out", str(out)], edit_dataset, kept),
        "no_pdf": ([*build, "--out", str(fresh), "--no-pdf"], clear_fresh, cold),
        "pdf floor": ([sys.executable, __file__, "--pdf-floor", str(markdown), str(work / "pdf-floor")],
                      clear(work / "pdf-floor"), None),
        "docx floor": ([sys.executable, __file__, "--docx-floor", str(markdown), str(work / "docx-floor")],
                       clear(work / "docx-floor"), None),
        "site floor": ([mkdocs, "build", "-q", "-f", str(config)], clear(work / "site-floor" / "site"), None),
        "pdf+docx+site floor": ([sys.executable, __file__, "--editions-floor", str(markdown), str(work / "all-floor"),
                                 str(config), "pdf,docx,site"], clear(work / "all-floor"), None),
        "docx+site floor": ([sys.executable, __file__, "--editions-floor", str(markdown), str(work / "all-floor"),
                             str(config), "docx,site"], clear(work / "all-floor"), None),
    }
    try:
        figures = interleaved(commands, runs, warm_up)
    finally:
        dataset.write_text(original, encoding="utf-8")
    results: dict[str, dict[str, Any]] = {}
    for row, (name, floors) in BUILDS.items():
        measured = figures[name]
        floor_name = max(floors, key=lambda f: figures[f]["median_s"])
        results[row] = {**measured, "baseline": floor_name, "baseline_median_s": figures[floor_name]["median_s"],
                        "baseline_cpu_median_s": figures[floor_name]["cpu_median_s"],
                        "baseline_peak_rss": figures[floor_name]["peak_rss"],
                        "ratio": measured["median_s"] / figures[floor_name]["median_s"],
                        "share_of_full": measured["median_s"] / figures["full"]["median_s"]}
    results["floors"] = {f: figures[f] for f in FLOORS}
    shutil.rmtree(work, ignore_errors=True)
    return results


def table(results: dict[str, Any]) -> str:
    rows = ["| scale | source files | what | techfile | baseline | ratio | CPU: techfile / baseline | peak RSS |",
            "|---|---|---|---|---|---|---|---|"]

    def row(scale: str, files: int, what: str, figures: dict[str, Any], peak: int) -> str:
        return (f"| {scale}x | {files} | {what} | {figures['median_s']:.2f} s | {figures['baseline_median_s']:.2f} s | "
                f"{figures['ratio']:.2f} | {figures['cpu_median_s']:.2f} s / {figures['baseline_cpu_median_s']:.2f} s | "
                f"{peak / 2**20:.0f} MiB |")

    for scale, entry in results["scales"].items():
        if "check" in entry:
            check = entry["check"]
            rows.append(row(scale, entry["files"], "check vs jsonschema floor", check, check["peak_rss"]))
        for name, figures in entry.get("build", {}).items():
            if name == "floors":
                continue
            share = "" if name.startswith("full") else f" ({figures['share_of_full']:.0%} of full)"
            rows.append(row(scale, entry["files"], f"{name}{share} vs {figures['baseline']}", figures, figures["peak_rss"]))
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--floor", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--pdf-floor", type=Path, nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--docx-floor", type=Path, nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--editions-floor", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--scales", default="1,10,50")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--build", action="store_true", help="also time builds (slow at 50x)")
    parser.add_argument("--build-scales", default="1,10", help="scales at which to time builds")
    parser.add_argument("--build-runs", help="rounds of builds per scale (default --runs), e.g. 5,3,1")
    parser.add_argument("--no-check", action="store_true", help="time builds only")
    parser.add_argument("--json", type=Path, default=Path("bench_scale.json"))
    args = parser.parse_args()
    if args.floor:
        floor(args.floor)
        return 0
    if args.pdf_floor:
        pdf_floor(*args.pdf_floor)
        return 0
    if args.docx_floor:
        docx_floor(*args.docx_floor)
        return 0
    if args.editions_floor:
        markdown, out, config, editions = args.editions_floor
        editions_floor(Path(markdown), Path(out), Path(config), editions.split(","))
        return 0
    results: dict[str, Any] = {"runs": args.runs, "seed": args.seed, "cpus": os.cpu_count(),
                               "load_average_before": os.getloadavg(), "code_before": code_digest(), "scales": {}}
    with tempfile.TemporaryDirectory(prefix="techfile-bench-") as work:
        for scale in (int(s) for s in args.scales.split(",")):
            project = generate(Path(work) / f"x{scale}", scale, args.seed).root
            entry: dict[str, Any] = {"files": source_files(project)}
            if not args.no_check:
                entry["check"] = bench_check(project, args.runs)
            build_scales = args.build_scales.split(",")
            if args.build and str(scale) in build_scales:
                rounds = dict(zip(build_scales, (int(r) for r in args.build_runs.split(",")), strict=True)) \
                    if args.build_runs else {}
                runs = rounds.get(str(scale), args.runs)
                entry["build"] = bench_build(project, runs, warm_up=runs > 1)
            results["scales"][str(scale)] = entry
            args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")  # so far
            print(f"{scale}x done", file=sys.stderr)
    results["load_average_after"] = os.getloadavg()
    results["code_after"] = code_digest()
    results["table"] = table(results)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(results["table"])
    print(f"load average before {results['load_average_before'][0]:.2f}, after {results['load_average_after'][0]:.2f}; "
          f"check: {args.runs} runs; builds: {args.build_runs or args.runs} rounds; medians; JSON in {args.json}")
    if results["code_before"] != results["code_after"]:
        print("warning: techfile's code, templates or schemas changed during the run: the figures mix two versions, and "
              "an unchanged rebuild after the change rightly rebuilt everything", file=sys.stderr)
        return 1
    return 0


def code_digest() -> str:
    """The digest of techfile's code, templates and schemas, as the build cache keys it (see `tool_facts`)."""
    from techfile.publish.cache import FileHashes, tool_facts

    return str(tool_facts(FileHashes())["code"])


if __name__ == "__main__":
    sys.exit(main())
