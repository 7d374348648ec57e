"""The Word edition (DOCX) of every document: the same Markdown as the PDF, through pandoc's docx writer with a
shipped reference document (styles, A4, header and footer), sandboxed, then made byte-deterministic."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from techfile.publish.pdf import PANDOC_FORMAT, embedded_charts, pandoc_path
from techfile.resources import doc_templates_dir
from techfile.validation.files import sha256_of

PANDOC_TIMEOUT_SECONDS = 60
CHART_PPI = 200
PROJECT_REFERENCE = Path("templates") / "docx" / "reference.docx"
_HEADER_PART = re.compile(r"^word/(header|footer)\d*\.xml$")
_DATED = re.compile(r"(<dcterms:(?:created|modified)[^>]*>)([^<]*)(</dcterms:(?:created|modified)>)")
_PLACEHOLDER = re.compile(r"\{\{(docid|title|version|status|confidentiality|draft|date|owner|approver)\}\}")


class DocxError(Exception):
    """pandoc failed or warned on a document, or a chart could not be rendered."""


@dataclass(frozen=True)
class DocxJob:
    """Everything needed to make one DOCX (plain data)."""

    document_id: str
    markdown_path: str
    docx_path: str
    charts_dir: str
    reference: str
    epoch: int
    cover: dict[str, str]


def reference_document(project_root: Path) -> Path:
    """The project's own reference document (templates/docx/reference.docx) if it has one, else techfile's."""
    own = project_root / PROJECT_REFERENCE
    return own if own.is_file() else doc_templates_dir() / "docx" / "reference.docx"


def docx_toolchain(reference: Path, tools: str, pandoc_version: str) -> str:
    """A digest of what shapes every DOCX alike: the reference document's bytes, the pandoc version, the chart
    resolution and `tools` (techfile's code and templates, the tool versions, as the build key has them)."""
    facts = {"reference": sha256_of(reference), "tools": tools, "pandoc": pandoc_version, "chart_ppi": CHART_PPI}
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def docx_key(job: DocxJob, toolchain: str) -> str:
    """A digest of everything that shapes one DOCX: its Markdown, the charts it embeds, its cover facts and date, and
    the `toolchain` (see docx_toolchain)."""
    digest = hashlib.sha256()
    markdown = Path(job.markdown_path)
    digest.update(markdown.read_bytes())
    for chart in embedded_charts(markdown):
        digest.update(chart.encode() + (markdown.parent / chart).read_bytes())
    digest.update(json.dumps({"cover": job.cover, "epoch": job.epoch, "toolchain": toolchain}, sort_keys=True).encode())
    return digest.hexdigest()


def render_chart_pngs(svg_dir: Path, png_dir: Path, names: Iterable[str]) -> None:
    """A PNG of each named chart SVG in `svg_dir` (`<name>.svg`), made with Typst and the shipped fonts (so Word
    versions without SVG support show the charts too, and the bytes do not depend on the machine)."""
    import typst

    svgs = sorted({svg_dir / f"{name}.svg" for name in names})
    if not svgs:
        return
    png_dir.mkdir(parents=True, exist_ok=True)
    fonts = doc_templates_dir() / "pdf" / "fonts"
    page = png_dir / "_chart.typ"
    page.write_text('#set page(width: auto, height: auto, margin: 0pt, fill: white)\n#image(sys.inputs.chart)\n', encoding="utf-8")
    copies = []
    try:
        for svg in svgs:
            local = png_dir / svg.name  # Typst reads files under its root only
            local.write_bytes(svg.read_bytes())
            copies.append(local)
            try:
                png = typst.compile(str(page), format="png", ppi=CHART_PPI, root=str(png_dir), font_paths=[str(fonts)],
                                    ignore_system_fonts=True, sys_inputs={"chart": svg.name})
            except typst.TypstError as err:
                raise DocxError(f"chart {svg.name}: Typst could not render it: {err.message}") from None
            (png_dir / f"{svg.stem}.png").write_bytes(png)
    finally:
        page.unlink(missing_ok=True)
        for copy in copies:
            copy.unlink(missing_ok=True)


def make_docx(job: DocxJob) -> None:
    """One document from Markdown to DOCX."""
    from techfile.publish.ooxml import normalised_package

    templates = doc_templates_dir() / "docx"
    markdown = Path(job.markdown_path).resolve()  # pandoc runs in the Markdown's folder: every path absolute
    with tempfile.TemporaryDirectory(prefix="techfile-docx-") as scratch:
        raw = Path(scratch) / "out.docx"
        command = [
            pandoc_path(), str(markdown), "--from", PANDOC_FORMAT, "--to", "docx", "--sandbox",
            f"--reference-doc={Path(job.reference).resolve()}", f"--lua-filter={templates.resolve() / 'docx.lua'}",
            "--shift-heading-level-by=-1",
            "--metadata", f"lang={job.cover.get('lang', 'en')}", "--output", str(raw),
        ]
        environment = {**os.environ, "SOURCE_DATE_EPOCH": str(job.epoch), "TECHFILE_DOCX_CHARTS": str(Path(job.charts_dir).resolve())}
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=PANDOC_TIMEOUT_SECONDS, check=False,
                                  env=environment, cwd=str(markdown.parent))
        except subprocess.TimeoutExpired:
            raise DocxError(f"{job.document_id}: pandoc did not finish within {PANDOC_TIMEOUT_SECONDS} s") from None
        if done.returncode != 0:
            raise DocxError(f"{job.document_id}: pandoc failed: {done.stderr.strip()}")
        if done.stderr.strip():
            raise DocxError(f"{job.document_id}: pandoc warned: {done.stderr.strip()}")
        data = raw.read_bytes()
    stamp = dt.datetime.fromtimestamp(job.epoch, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    Path(job.docx_path).write_bytes(normalised_package(data, job.epoch, lambda name, part: _fill(name, part, job.cover, stamp)))


def _fill(name: str, part: bytes, cover: dict[str, str], stamp: str) -> bytes:
    """Put the document's own facts into the reference document's header and footer placeholders, and its owner into
    the package properties; every value XML-escaped."""
    if _HEADER_PART.match(name):
        values = {**cover, "draft": "DRAFT — " if cover.get("draft") == "true" else "",
                  "status": cover.get("status", "").upper()}
        text = part.decode("utf-8")
        return _PLACEHOLDER.sub(lambda m: escape(values.get(m.group(1), "")), text).encode("utf-8")
    if name == "docProps/core.xml":  # pandoc's sandbox has no clock: it dates the package 1970-01-01
        text = part.decode("utf-8").replace("<dc:creator></dc:creator>", f"<dc:creator>{escape(cover.get('owner', ''))}</dc:creator>")
        return _DATED.sub(lambda m: m.group(1) + stamp + m.group(3), text).encode("utf-8")
    return part
