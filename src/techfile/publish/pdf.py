"""PDFs: generated Markdown → pandoc (Typst writer, raw pass-through off) → Typst → PDF/A-2b, fonts shipped."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from techfile.resources import doc_templates_dir

PANDOC_TIMEOUT_SECONDS = 60
# Markdown as both MkDocs and pandoc read it, with every extension that could run source text as code,
# markup or metadata switched off.
PANDOC_FORMAT = "markdown" + "".join(f"-{ext}" for ext in (
    "raw_html", "raw_attribute", "raw_tex", "tex_math_dollars", "tex_math_single_backslash",
    "tex_math_double_backslash", "latex_macros", "citations", "smart", "yaml_metadata_block",
    "pandoc_title_block", "fenced_divs", "bracketed_spans", "native_divs", "native_spans", "implicit_figures",
))
PDF_STANDARDS = ["a-2b"]
_PAGE_OBJECT = re.compile(rb"/Type\s*/Page\b")


class PdfError(Exception):
    """pandoc or Typst failed on a document, or Typst warned."""


@dataclass(frozen=True)
class PdfJob:
    """Everything one worker needs to make one PDF (plain data, so it crosses process boundaries)."""

    document_id: str
    markdown_path: str
    pdf_path: str
    epoch: int
    cover: dict[str, str]
    signed_by: str = ""  # sha256 of the signing certificate when the PDF is signed after it is made


def job_key(job: PdfJob) -> str:
    """A digest of everything that shapes the PDF: Markdown, cover facts, date, template, fonts and tool versions."""
    digest = hashlib.sha256()
    markdown = Path(job.markdown_path)
    digest.update(markdown.read_bytes())
    for chart in embedded_charts(markdown):
        digest.update(chart.encode() + (markdown.parent / chart).read_bytes())
    facts = {"cover": job.cover, "epoch": job.epoch, "tools": _tool_fingerprint(), "signed_by": job.signed_by}
    digest.update(json.dumps(facts, sort_keys=True).encode())
    return digest.hexdigest()


def embedded_charts(markdown: Path) -> list[str]:
    """The charts a document's Markdown embeds (`charts/<name>.svg`, relative to the Markdown), sorted, each once."""
    return sorted({m.decode() for m in re.findall(rb"\]\((charts/[\w.-]+\.svg)\)", markdown.read_bytes())})


@cache
def _tool_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted((doc_templates_dir() / "pdf").rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    for package in ("pypandoc-binary", "typst", "techfile"):
        digest.update(metadata.version(package).encode())
    digest.update(PANDOC_FORMAT.encode() + repr(PDF_STANDARDS).encode())
    return digest.hexdigest()


def pandoc_path() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def markdown_to_typst(job: PdfJob) -> Path:
    """Convert the document's Markdown to a standalone Typst file next to it."""
    templates = doc_templates_dir() / "pdf"
    typst_path = Path(job.markdown_path).with_suffix(".typ")  # beside the Markdown, so charts/ resolves
    command = [
        pandoc_path(), job.markdown_path, "--from", PANDOC_FORMAT, "--to", "typst", "--standalone", "--sandbox",
        f"--template={templates / 'techfile.typ'}", f"--lua-filter={templates / 'links.lua'}",
        f"--lua-filter={templates / 'tables.lua'}", "--shift-heading-level-by=-1", "--columns=100", "--output", str(typst_path),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PANDOC_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise PdfError(f"{job.document_id}: pandoc did not finish within {PANDOC_TIMEOUT_SECONDS} s") from None
    if done.returncode != 0:
        raise PdfError(f"{job.document_id}: pandoc failed: {done.stderr.strip()}")
    return typst_path


def typst_to_pdf(job: PdfJob, typst_path: Path) -> int:
    """Compile the Typst file to PDF/A-2b with the shipped fonts only; warnings are errors. Returns the page count."""
    import typst

    fonts = doc_templates_dir() / "pdf" / "fonts"
    try:
        _, warnings = typst.compile_with_warnings(
            str(typst_path), output=job.pdf_path, root=str(typst_path.parent), font_paths=[str(fonts)],
            ignore_system_fonts=True, timestamp=job.epoch, pdf_standards=PDF_STANDARDS, sys_inputs=job.cover,
        )
    except typst.TypstError as err:
        raise PdfError(f"{job.document_id}: Typst failed: {err.message}") from None
    if warnings:
        raise PdfError(f"{job.document_id}: Typst warned: " + "; ".join(w.message for w in warnings))
    return count_pages(Path(job.pdf_path))


def count_pages(pdf: Path) -> int:
    """Pages in a Typst-written PDF (its page objects are not compressed)."""
    return len(_PAGE_OBJECT.findall(pdf.read_bytes()))


PR_SET_PDEATHSIG = 1
WATCHDOG_SECONDS = 1.0


_IN_POOL_WORKER = False  # set in a PDF pool worker, the only process this module forks from


def worker_init(parent_pid: int) -> None:
    """Run first in every PDF worker: the worker dies with the build that started it, even when that build is killed
    with SIGKILL. On Linux the kernel sends it SIGKILL (prctl PR_SET_PDEATHSIG); elsewhere a watchdog thread ends it
    within a second of its parent's death."""
    import signal
    import sys

    global _IN_POOL_WORKER
    _IN_POOL_WORKER = True
    armed = False
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            armed = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (AttributeError, OSError):
            armed = False
    if os.getppid() != parent_pid:  # the parent died before the line above ran
        os._exit(1)
    if not armed:
        watch_parent(parent_pid)


def watch_parent(parent_pid: int, interval: float = WATCHDOG_SECONDS) -> threading.Thread:
    """A daemon thread that ends this process as soon as its parent is no longer `parent_pid`."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(1)

    thread = threading.Thread(target=watch, name="techfile-parent-watchdog", daemon=True)
    thread.start()
    return thread


def make_pdf(job: PdfJob) -> int:
    """One document from Markdown to PDF; the intermediate Typst file is removed. Returns the page count.

    Typst keeps what it memoises for the life of its process, so a worker that typeset document after document would
    hold all of them (1.5 GiB at 50x the sample); in a pool worker, where the system can fork, each document is
    typeset in a child of its own, whose memory goes with it."""
    typst_path = markdown_to_typst(job)
    try:
        return typst_in_child(job, typst_path) if _may_fork() else typst_to_pdf(job, typst_path)
    finally:
        typst_path.unlink(missing_ok=True)


def _may_fork() -> bool:
    """Forking is safe only in a single-threaded PDF pool worker: a child forked from a process with other threads
    (a server, a test runner, a build's own PDF thread) can wait forever on a lock one of them held."""
    import threading

    return _IN_POOL_WORKER and hasattr(os, "fork") and threading.active_count() == 1


def typst_in_child(job: PdfJob, typst_path: Path) -> int:
    """`typst_to_pdf` in a forked child that dies with this process; its page count or error comes back on a pipe."""
    parent = os.getpid()
    readable, writable = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(readable)
        try:
            worker_init(parent)
            outcome: dict[str, object] = {"pages": typst_to_pdf(job, typst_path)}
        except PdfError as err:
            outcome = {"error": str(err)}
        except BaseException as err:  # whatever happens, the parent gets a message, never a hang
            outcome = {"error": f"{job.document_id}: Typst failed: {err!r}"}
        with os.fdopen(writable, "w", encoding="utf-8") as stream:
            json.dump(outcome, stream)
        os._exit(0)
    os.close(writable)
    with os.fdopen(readable, encoding="utf-8") as stream:
        reply = stream.read()
    _, status = os.waitpid(child, 0)
    if not reply:
        raise PdfError(f"{job.document_id}: Typst ended without a result (wait status {status})")
    outcome = json.loads(reply)
    if "error" in outcome:
        raise PdfError(str(outcome["error"]))
    return int(outcome["pages"])
