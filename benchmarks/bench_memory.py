"""Peak memory at portfolio scale: the largest single process of `techfile build` (the build itself or a PDF worker) on
a generated project (benchmarks/generate.py), and, for each of the largest documents, the pages of its PDF and the
peak RSS of the one process that makes it (pandoc → Typst, as a build's PDF worker does).

Usage: python benchmarks/bench_memory.py [--scale 50] [--largest 10] [--limit 1024] [--json bench_memory.json]
       python benchmarks/bench_memory.py --out BUILD   (measure the PDFs of an existing `techfile build --no-pdf`)

Peak RSS is the kernel's high-water mark of the process and the children it waited for (pandoc), from wait4. Exits 1
when any process is over --limit (MiB).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate  # noqa: E402

# One PDF job in a process of its own: the document's Markdown (charts beside it) to a PDF, printing the page count.
# pandoc's time limit is lifted, so that a document too large for a build's limit is still measured.
PDF_JOB = (
    "import json, sys\n"
    "from techfile.publish import pdf\n"
    "pdf.PANDOC_TIMEOUT_SECONDS = 3600\n"
    "print(pdf.make_pdf(pdf.PdfJob(**json.loads(sys.argv[1]))))\n"
)


def measured(command: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (bytes) of the command or any child it waited for, and its standard output."""
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        stdout.seek(0), stderr.seek(0)
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:4])} … exited {process.returncode}: {stderr.read()[-2000:]}")
        return seconds, usage.ru_maxrss * 1024, stdout.read()


def pdf_job(markdown: Path, pdf: Path, epoch: int) -> dict[str, Any]:
    """A PdfJob (as plain data) for one built Markdown file, with cover facts of the same shape as a build's."""
    title = markdown.read_text(encoding="utf-8").split("\n", 1)[0].removeprefix("# ")
    cover = {"title": title, "docid": markdown.stem, "version": "1.0", "status": "draft", "date": "2026-01-01",
             "owner": "Owner", "approver": "Approver", "commit": "not in git", "confidentiality": "internal",
             "provider": "Provider", "system": "System 1.0", "lang": "en", "techfile": "bench", "draft": "true",
             "layout": "compact" if "declaration-of-conformity" in markdown.stem else "full",
             "approved_on": "not approved (draft)"}
    return {"document_id": markdown.stem, "markdown_path": str(markdown), "pdf_path": str(pdf), "epoch": epoch,
            "cover": cover}


def measure_pdfs(out: Path, largest: int, work: Path) -> list[dict[str, Any]]:
    """Pages and peak RSS of the PDF process of each of the `largest` Markdown files of a build."""
    markdown = sorted((out / "markdown").glob("*.md"), key=lambda p: (-p.stat().st_size, p.name))[:largest]
    figures = []
    for path in markdown:
        job = pdf_job(path, work / f"{path.stem}.pdf", 1767225600)
        seconds, peak, stdout = measured([sys.executable, "-c", PDF_JOB, json.dumps(job)])
        figures.append({"document": path.stem, "markdown_bytes": path.stat().st_size, "pages": int(stdout.split()[-1]),
                        "seconds": seconds, "peak_rss": peak})
        Path(job["pdf_path"]).unlink(missing_ok=True)
        print(f"  {path.stem}: {figures[-1]['pages']} pages, {peak / 2**20:.0f} MiB", file=sys.stderr)
    return figures


def table(builds: list[dict[str, Any]], pdfs: list[dict[str, Any]]) -> str:
    rows = ["| process | Markdown | pages | seconds | peak RSS |", "|---|---|---|---|---|"]
    rows += [f"| `techfile build` ({b['what']}), largest process | — | {b.get('pages', '—')} | {b['seconds']:.1f} | "
             f"{b['peak_rss'] / 2**20:.0f} MiB |" for b in builds]
    rows += [f"| PDF of {p['document']} | {p['markdown_bytes'] / 1024:.0f} KiB | {p['pages']} | {p['seconds']:.1f} | "
             f"{p['peak_rss'] / 2**20:.0f} MiB |" for p in pdfs]
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--largest", type=int, default=10, help="documents whose PDF process is measured alone")
    parser.add_argument("--limit", type=float, default=1024.0, help="MiB")
    parser.add_argument("--out", type=Path, help="an existing build (with markdown/) to measure instead of building")
    parser.add_argument("--full-build", action="store_true", help="also measure a build with PDFs (not only --no-pdf)")
    parser.add_argument("--json", type=Path, default=Path("bench_memory.json"))
    args = parser.parse_args()
    techfile = str(Path(sys.executable).parent / "techfile")
    results: dict[str, Any] = {"scale": args.scale, "seed": args.seed, "cpus": os.cpu_count(), "builds": []}
    with tempfile.TemporaryDirectory(prefix="techfile-bench-memory-") as scratch:
        work = Path(scratch)
        out = args.out
        if out is None:
            project = generate(work / f"x{args.scale}", args.scale, args.seed).root
            out = work / "build"
            seconds, peak, _ = measured([techfile, "build", str(project), "--out", str(out), "--no-pdf", "--no-docx"])
            results["builds"].append({"what": "--no-pdf --no-docx", "seconds": seconds, "peak_rss": peak})
            if args.full_build:
                full = work / "full"
                seconds, peak, _ = measured([techfile, "build", str(project), "--out", str(full), "--no-site",
                                             "--no-docx", "--no-xlsx"])
                from techfile.publish.pdf import count_pages

                pages = sum(count_pages(p) for p in (full / "pdf").glob("*.pdf"))
                results["builds"].append({"what": "PDFs only", "seconds": seconds, "peak_rss": peak, "pages": pages})
        results["pdfs"] = measure_pdfs(out, args.largest, work)
    processes = [*results["builds"], *results["pdfs"]]
    worst = max(p["peak_rss"] for p in processes)
    results["largest_peak_rss"] = worst
    results["table"] = table(results["builds"], results["pdfs"])
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(results["table"])
    verdict = "ok" if worst <= args.limit * 2**20 else "over"
    print(f"{args.scale}x: largest single process {worst / 2**20:.0f} MiB, limit {args.limit:.0f} MiB: {verdict}")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
