"""The PDF step: Typst warnings are errors, and a failing run names the document."""

from __future__ import annotations

from pathlib import Path

import pytest

from techfile.publish.pdf import PdfError, PdfJob, typst_to_pdf


def job(tmp_path: Path) -> PdfJob:
    return PdfJob("acme-model-card-x", str(tmp_path / "x.md"), str(tmp_path / "x.pdf"), 1767225600, {"title": "x"})


def test_typst_warning_is_an_error(tmp_path: Path) -> None:
    source = tmp_path / "x.typ"
    source.write_text('#set text(font: "No Such Font Family")\nHello\n', encoding="utf-8")
    with pytest.raises(PdfError, match=r"acme-model-card-x: Typst warned: .*unknown font family"):
        typst_to_pdf(job(tmp_path), source)


def test_typst_failure_names_the_document(tmp_path: Path) -> None:
    source = tmp_path / "x.typ"
    source.write_text("#let x = (\n", encoding="utf-8")
    with pytest.raises(PdfError, match=r"^acme-model-card-x: Typst failed: "):
        typst_to_pdf(job(tmp_path), source)


def test_clean_typst_compiles_deterministically(tmp_path: Path) -> None:
    source = tmp_path / "x.typ"
    source.write_text('#set text(font: "DejaVu Serif")\nHello\n', encoding="utf-8")
    assert typst_to_pdf(job(tmp_path), source) == 1
    first = (tmp_path / "x.pdf").read_bytes()
    typst_to_pdf(job(tmp_path), source)
    assert (tmp_path / "x.pdf").read_bytes() == first
