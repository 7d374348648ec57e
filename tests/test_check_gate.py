"""`check` is the gate for `build`: what would make a document fail to render is reported by `check`, located, so
that `build` of a project `check` accepts never fails for a reason in the sources. Each crash the issue found, and
each bound, is shown here against the real renderers."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from techfile.loading import load_project
from techfile.publish.pdf import PdfError, PdfJob, make_pdf
from techfile.validation.prose import MAX_NESTING
from techfile.validation.renderable import MAX_PROSE, MAX_TEXT, MAX_WORD, text_problem

from conftest import SAMPLE, run_cli

COVER = {k: "x" for k in ("title", "docid", "version", "status", "date", "owner", "approver", "commit",
                          "confidentiality", "provider", "system", "techfile")} | {"lang": "en", "draft": "false"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(SAMPLE, copy, ignore=shutil.ignore_patterns("build"))
    return copy


def _logbook_entry(project: Path) -> Path:
    return sorted((project / "logbook").glob("*.yaml"))[-1]  # the last entry: changing it breaks no chain


def _set(path: Path, key: str, value: object) -> int:
    """Set a top-level key of a source file; return the line it is written on."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[key] = value
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1 << 16)
    path.write_text(text, encoding="utf-8")
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(f"{key}:"))


def _diagnostics(project: Path, code: str) -> list[str]:
    return [f"{d.path}:{d.line}" for d in load_project(project).diagnostics if d.code == code]


@pytest.mark.parametrize(("value", "code"), [
    ("Thoravis\x00 CXR", "TF120"),  # Typst PDF/A refuses NUL
    ("Thoravis\x07 CXR", "TF120"),
    ("Thoravis \ud800", "TF102"),  # a lone surrogate cannot even be written to a UTF-8 file: YAML refuses the escape
    ("Thoravis 文字", "TF121"),  # no shipped font has the glyph
    ("x" * (MAX_WORD + 1), "TF124"),  # a PDF string holds at most 32,767 characters; Typst takes minutes first
    ("word " * (MAX_TEXT // 5 + 1), "TF123"),
])
def test_text_that_breaks_the_pdf_is_reported_and_build_refuses(project: Path, value: str, code: str) -> None:
    system = project / "system.yaml"
    data = yaml.safe_load(system.read_text(encoding="utf-8"))
    data["name"] = value
    system.write_text(yaml.safe_dump(data, allow_unicode=False, sort_keys=False, width=1 << 16), encoding="utf-8")
    line = next(i for i, text in enumerate(system.read_text(encoding="utf-8").splitlines(), 1) if text.startswith("name:"))
    assert _diagnostics(project, code) == [f"system.yaml:{line}"]
    if code == "TF120":  # build refuses what check reports (exit 1 with the finding), instead of failing in Typst (exit 3)
        result = run_cli("build", str(project), "--no-site")
        assert result.exit_code == 1 and re.search(rf"system.yaml:{line}:\d+: {code} error", result.output), result.output


def test_blockquotes_and_lists_nested_too_deep_are_reported(project: Path) -> None:
    entry = _logbook_entry(project)
    line = _set(entry, "notes", "> " * 1000 + "deep")  # 1,000 blockquotes: Typst stops at "maximum parsing depth"
    assert _diagnostics(project, "TF125") == [f"{entry.relative_to(project)}:{line}"]
    _set(entry, "notes", "".join("  " * i + "- item\n" for i in range(500)))  # Python-Markdown: RecursionError
    assert len(_diagnostics(project, "TF125")) == 1
    _set(entry, "notes", "".join("  " * i + "- item\n" for i in range(MAX_NESTING)))
    assert _diagnostics(project, "TF125") == []


def test_prose_over_the_size_bound_is_reported(project: Path) -> None:
    entry = _logbook_entry(project)
    line = _set(entry, "notes", "A sentence of prose. " * (1_000_000 // 21))  # 1 MB: pandoc timed out
    assert _diagnostics(project, "TF123") == [f"{entry.relative_to(project)}:{line}"]
    _set(entry, "notes", "A sentence of prose. " * (MAX_PROSE // 21))
    assert _diagnostics(project, "TF123") == []


def test_non_finite_numbers_are_reported(project: Path) -> None:
    entry = _logbook_entry(project)
    data = yaml.safe_load(entry.read_text(encoding="utf-8"))
    metric = sorted(data["metrics"])[0]
    data["metrics"][metric] = float("inf")
    entry.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert [d.message for d in load_project(project).errors if d.code == "TF112"] == ["number '.inf' is not a finite number"]


def _png(path: Path, colour: tuple[int, int, int]) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 20), colour).save(path, format="PNG")


def test_prose_that_renders_within_the_bounds_builds_site_and_pdf(project: Path) -> None:
    """Everything check lets through, at its bounds: dropped links and images, a project image, a link to another
    document, the deepest nesting and the largest prose allowed, a regional language tag. The build succeeds; the
    dropped links are text, the image is copied into both outputs."""
    _png(project / "docs" / "images" / "flow.png", (30, 90, 200))
    notes = "\n".join([
        "Run notes. See [the script](javascript:alert(1)), [the annex](annex.md), [the register](thoravis-cxr-risk-register.md)",
        "and [the web](https://example.com/a_(b)?c=1&d=2).", "",
        "![the flow](docs/images/flow.png) ![remote](https://example.com/x.png) ![passwd](file:/etc/passwd)", "",
        "> " * MAX_NESTING + "deep quote", "",
        "".join("  " * i + "- level\n" for i in range(MAX_NESTING)),
        "Long part. " * ((MAX_PROSE - 2000) // 11),
    ])
    _set(_logbook_entry(project), "notes", notes)
    settings = project / "techfile.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("language: en", "language: fr-BE"), encoding="utf-8")
    check = run_cli("check", str(project))
    assert check.exit_code == 0, check.output
    assert {"TF126", "TF127", "TF128"} <= {d.code for d in load_project(project).warnings}
    result = run_cli("build", str(project), "--only", "logbook,risk-register")
    assert result.exit_code == 0, result.output
    out = project / "build"
    html = (out / "site" / "thoravis-cxr-logbook.html").read_text(encoding="utf-8")
    assert 'href="thoravis-cxr-risk-register.html"' in html and 'href="https://example.com/a_%28b%29?c=1&amp;d=2"' in html
    assert "javascript:" not in html and "annex.md" not in html and "file:/etc" not in html
    images = sorted(p.name for p in (out / "site" / "images").iterdir())
    assert len(images) == 1 and f'src="images/{images[0]}"' in html
    assert (out / "markdown" / "images" / images[0]).read_bytes() == (project / "docs/images/flow.png").read_bytes()
    pdf = (out / "pdf" / "thoravis-cxr-logbook.pdf").read_bytes()
    assert re.search(rb"/Subtype\s*/Image", pdf)
    uris = set(re.findall(rb"/URI\s*\(([^)]*)\)", pdf))
    assert b"thoravis-cxr-risk-register.pdf" in uris and not any(b"javascript" in u or b"annex" in u for u in uris)


def test_only_drops_site_links_to_documents_it_leaves_out(project: Path) -> None:
    """A model card links to its datasheets; building model cards alone must not abort the site on those links."""
    entry = _logbook_entry(project)
    _set(entry, "notes", "Trained on the data of [the training datasheet](thoravis-cxr-datasheet-cxr-train.md).")
    result = run_cli("build", str(project), "--only", "model-cards,logbook", "--no-pdf")
    assert result.exit_code == 0, result.output
    site = project / "build" / "site"
    built = {p.name for p in site.glob("*.html")}
    assert "thoravis-cxr-datasheet-cxr-train.html" not in built
    for page in site.glob("*.html"):
        hrefs = re.findall(r'href="([^"#]+\.html)', page.read_text(encoding="utf-8"))
        assert all(h in built or h.startswith("http") or "/" in h for h in hrefs), (page.name, set(hrefs) - built)
    card = (site / "thoravis-cxr-model-card-nodule-detector.html").read_text(encoding="utf-8")
    logbook = (site / "thoravis-cxr-logbook.html").read_text(encoding="utf-8")
    assert "datasheet-cxr-train" not in card and "the training datasheet" in logbook


def test_every_character_check_accepts_prints_in_a_pdf(tmp_path: Path) -> None:
    """The font check is the PDF renderer's: one document holding every character `check` lets through, in every
    face a document uses (body, bold, italic, heading, table, code, cover), compiles to PDF/A; characters it
    refuses (one with no glyph at all, one only some faces have) do not."""
    from techfile.documents.markdown import inline

    characters = [chr(c) for c in range(0x20, 0x110000) if not 0xD800 <= c <= 0xDFFF and chr(c) not in "\\`*_{}[]<>|&$@~^!#"
                  and text_problem(chr(c), MAX_TEXT, pdf=True) is None]
    assert len(characters) > 2000
    rows = ["".join(characters[i:i + 50]) for i in range(0, len(characters), 50)]
    parts = ["# Every character"]
    for row in rows:
        text = inline(row)
        parts += [f"## {text}", f"{text}", f"**{text}** *{text}* ***{text}***", f"| {text} |\n|---|\n| **{text}** |",
                  f"```\n{row}\n```"]
    markdown = tmp_path / "all.md"
    markdown.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    cover = COVER | {"title": "".join(characters[:400]), "system": "".join(characters[-400:])}
    assert make_pdf(PdfJob("all", str(markdown), str(tmp_path / "all.pdf"), 0, cover)) > 0
    for refused in ("\u6587", "\u2056"):  # no face has U+6587; only the sans faces have U+2056
        assert text_problem(refused, MAX_TEXT, pdf=True)[0] == "TF121"
        markdown.write_text(f"# Refused\n\nA character: {refused}\n", encoding="utf-8")
        with pytest.raises(PdfError, match="could not be displayed"):
            make_pdf(PdfJob("refused", str(markdown), str(tmp_path / "refused.pdf"), 0, COVER))


def test_pdf_text_of_the_bounds_test_shows_the_dropped_link_text(project: Path) -> None:
    _set(_logbook_entry(project), "notes", "See [the script](javascript:alert(1)) and <script>alert(2)</script>.")
    assert run_cli("build", str(project), "--only", "logbook", "--no-site").exit_code == 0
    pdf = project / "build" / "pdf" / "thoravis-cxr-logbook.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "See the script and <script>alert(2)</script>." in " ".join(text.split())
