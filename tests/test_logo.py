"""The project's logo: checked as a PNG or JPEG inside the project, printed on every PDF cover, part of each PDF's key."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from techfile.publish.build import build

from conftest import run_cli


def images_on_page(pdf: Path, page: int) -> list[str]:
    listing = subprocess.run(["pdfimages", "-list", "-f", str(page), "-l", str(page), str(pdf)], capture_output=True,
                             text=True, check=True).stdout.splitlines()[2:]
    return [line.split()[2] for line in listing]  # the image type column: image, smask, ...


def test_the_logo_is_on_the_cover_and_a_changed_logo_makes_new_pdfs(project_copy: Path) -> None:
    out = project_copy / "build"
    first = build(project_copy, out, only={"qms-manual", "declaration-of-conformity"}, site=False, docx=False)
    for document in (d for d in first.documents if d.in_pdf):
        assert "image" in images_on_page(out / "pdf" / f"{document.id}.pdf", 1), document.id
    assert "image" not in images_on_page(out / "pdf" / "thoravis-cxr-qms-manual.pdf", 3)  # only the cover carries it
    from PIL import Image

    Image.new("RGB", (300, 100), "#aa3300").save(project_copy / "docs" / "assets" / "logo.png")
    second = build(project_copy, out, only={"qms-manual", "declaration-of-conformity"}, site=False, docx=False)
    assert second.reused_pdfs == []


@pytest.mark.parametrize("name, content, reason", [
    ("logo.gif", None, "has the extension '.gif'"),
    ("logo.png", b"not an image", "cannot be read as an image"),
    ("logo.jpg", "png", "is not a JPEG file (its content is PNG)"),
])
def test_a_logo_that_is_not_a_png_or_jpeg_is_an_error(project_copy: Path, name: str, content: bytes | str | None,
                                                       reason: str) -> None:
    target = project_copy / "docs" / "assets" / name
    if content == "png":
        target.write_bytes((project_copy / "docs" / "assets" / "logo.png").read_bytes())
    elif content is None:
        from PIL import Image

        Image.new("RGB", (10, 10)).save(target, format="GIF")
    else:
        target.write_bytes(content)
    settings = project_copy / "techfile.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("logo: docs/assets/logo.png", f"logo: docs/assets/{name}"),
                        encoding="utf-8")
    result = run_cli("check", str(project_copy))
    assert result.exit_code == 1, result.output
    line = next(line for line in result.output.splitlines() if "TF406" in line)
    assert line.startswith(f"{project_copy.as_posix()}/techfile.yaml:") and reason in line, line
