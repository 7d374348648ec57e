"""The deployer edition of the instructions for use: every Art. 13(3) point, plain names instead of entity ids and
slice keys, no links into internal documents, no commits, its own confidentiality marking, its own PDF and DOCX."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from techfile.loading import load_project
from techfile.publish.build import BuildResult, build

from conftest import SAMPLE

DEPLOYER = "thoravis-cxr-instructions-for-use-deployer"
INTERNAL = "thoravis-cxr-instructions-for-use"


@pytest.fixture(scope="module")
def editions(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(SAMPLE, tmp_path_factory.mktemp("ifu") / "build", only={"instructions-for-use"}, site=False)


def markdown(result: BuildResult, document_id: str) -> str:
    return (result.out / "markdown" / f"{document_id}.md").read_text(encoding="utf-8")


def test_deployer_edition_holds_no_entity_id_slice_key_commit_or_internal_link(editions: BuildResult) -> None:
    text = markdown(editions, DEPLOYER)
    project = load_project(SAMPLE).project
    ids = {e.id for e in project.entities()} - {project.system.id}
    # an id that is an ordinary word (a pipeline stage called "training") may stand as that word; others may not
    coined = [i for i in ids if re.search(r"[-_0-9]", i)]
    def pattern(entity_id: str) -> str:  # ids as written in Markdown, where _ may be escaped
        return r"(?<![\w-])" + re.escape(entity_id).replace("_", r"\\?_") + r"(?![\w-])"

    found = [i for i in coined if re.search(pattern(i), text)]
    assert len(coined) > 40 and not found, f"entity ids in the deployer edition: {found}"
    assert not [i for i in ids if f"`{i}`" in text], "an id as a code span"
    assert not re.search(r"\b\w+(\\_\w+)*=\S", text), "a raw slice key=value"
    assert ".md)" not in text and "thoravis-cxr-" not in text, "a link or id of an internal document"
    assert not re.search(r"\b[0-9a-f]{12}\b", text), "a commit hash"
    assert "| Sex: female |" in text and "| Age band: 75+; Sex: female |" in text
    assert "| Confidentiality | public |" in text


def test_the_internal_edition_keeps_its_ids_and_marking(editions: BuildResult) -> None:
    text = markdown(editions, INTERNAL)
    assert "sex=female" in text and "`risk-automation-bias`" in text and "| Confidentiality | confidential |" in text


def test_deployer_edition_answers_every_art_13_3_point(editions: BuildResult) -> None:
    def points(text: str) -> list[str]:
        return re.findall(r"^#{2,3} (Art\. 13\(3\)\S*):", text, re.MULTILINE)

    internal, deployer = points(markdown(editions, INTERNAL)), points(markdown(editions, DEPLOYER))
    assert deployer == internal and len(deployer) == 13  # (a), (b) and its (i)-(vii), (c)-(f)


def test_ids_in_prose_become_the_entities_names(editions: BuildResult) -> None:
    text = markdown(editions, DEPLOYER)
    project = load_project(SAMPLE).project
    risk = next(r for r in project.risks if r.id == "risk-automation-bias")
    assert f"({risk.title})" in text
    dataset = next(d for d in project.datasets if d.id == "cxr-external-test")
    assert dataset.name in text


def test_deployer_edition_has_its_own_pdf_and_docx_with_its_marking(editions: BuildResult) -> None:
    import docx

    pdf = editions.out / "pdf" / f"{DEPLOYER}.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "public" in text and "Sex: female" in text and "deployer edition" in text
    assert (editions.out / "pdf" / f"{INTERNAL}.pdf").is_file()
    header = docx.Document(str(editions.out / "docx" / f"{DEPLOYER}.docx")).sections[0].header.paragraphs[0].text
    assert header.endswith("\tpublic")


def test_without_a_deployer_marking_the_edition_says_not_stated(project_copy: Path, tmp_path: Path) -> None:
    settings = project_copy / "techfile.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("  deployer_confidentiality: public\n", ""), encoding="utf-8")
    result = build(project_copy, tmp_path / "out", only={"instructions-for-use"}, site=False, pdf=False, docx=False)
    assert "| Confidentiality | not stated |" in markdown(result, DEPLOYER)
    assert "| Confidentiality | confidential |" in markdown(result, INTERNAL)
