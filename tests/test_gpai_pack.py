"""The general-purpose AI model pack (gpai): a catalogue numbered as the Regulation numbers Annex XI, Annex XII,
Art. 53(1) and 55(1) (and the AI Office template its sections), mappings that name existing items, the gpai template
that checks clean and builds every GPAI document, and each required fact that, removed, makes its point missing and
a `check` finding name it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from techfile import load_project
from techfile.assess.grades import assess
from techfile.frameworks.catalogue import load_catalogue
from techfile.frameworks.gpai import GPAI_DOCUMENTS, point_ref
from techfile.frameworks.registry import builtin_framework
from techfile.publish.build import BuildResult, build

from conftest import REPO, SCHEMAS, run_cli

TEMPLATE = REPO / "project_templates" / "gpai"

# Regulation (EU) 2024/1689, OJ L, 12.7.2024: Annex XI Section 1 point 1(a)-(f) and 2(a)-(e), Section 2 points 1-3;
# Annex XII point 1(a)-(h) and 2(a)-(c); Art. 53(1)(a)-(d); Art. 55(1)(a)-(d).
ANNEX_XI = ([f"annex_xi.s1.1.{c}" for c in "abcdef"] + [f"annex_xi.s1.2.{c}" for c in "abcde"]
            + [f"annex_xi.s2.{n}" for n in (1, 2, 3)])
ANNEX_XII = [f"annex_xii.1.{c}" for c in "abcdefgh"] + [f"annex_xii.2.{c}" for c in "abc"]
ARTICLES = [f"art_53.1.{c}" for c in "abcd"] + [f"art_55.1.{c}" for c in "abcd"]
# The AI Office template for the public summary of training content (24 July 2025): sections 1.1-1.3, 2.1, 2.2.1,
# 2.2.2, 2.3-2.6, 3.1, 3.2 (3.3 is optional).
TEMPLATE_SECTIONS = ["1.1", "1.2", "1.3", "2.1", "2.2.1", "2.2.2", "2.3", "2.4", "2.5", "2.6", "3.1", "3.2"]


def _items() -> list[dict[str, Any]]:
    return load_catalogue("gpai")["items"]


# --- the catalogue --------------------------------------------------------------------------------------------------


def test_pack_is_written_in_the_custom_framework_format() -> None:
    schema = json.loads((SCHEMAS / "framework.schema.json").read_text(encoding="utf-8"))
    data = load_catalogue("gpai")
    assert sorted(e.message for e in Draft202012Validator(schema).iter_errors(data)) == []
    assert data["framework"]["id"] == "gpai" and data["framework"]["assessable"] == "point"
    ids = [i["id"] for i in data["items"]]
    assert len(ids) == len(set(ids))
    assert all(i["parent"] in ids for i in data["items"] if "parent" in i)


def test_points_equal_the_regulations_numbering() -> None:
    points = [i["id"] for i in _items() if i["kind"] == "point"]
    assert [p for p in points if p.startswith("annex_xi.")] == ANNEX_XI and len(ANNEX_XI) == 14
    assert [p for p in points if p.startswith("annex_xii.")] == ANNEX_XII and len(ANNEX_XII) == 11
    assert [p for p in points if p.startswith("art_")] == ARTICLES
    assert [p.removeprefix("summary.") for p in points if p.startswith("summary.")] == TEMPLATE_SECTIONS
    assert len(points) == 45 == len(builtin_framework("gpai").assessable_items())
    items = {i["id"]: i for i in _items()}
    for point in points:  # each lettered point sits under its numbered point, each point has its own summary
        assert items[point].get("summary"), point
        if point.startswith(("annex_xi.s1.", "annex_xii.", "summary.2.2.")):
            assert items[point]["parent"] == point.rsplit(".", 1)[0]
    assert [i["id"] for i in _items() if i["kind"] == "heading"] == [
        "annex_xi.s1.1", "annex_xi.s1.2", "annex_xii.1", "annex_xii.2", "summary.1", "summary.2", "summary.2.2", "summary.3"]
    assert point_ref("annex_xi.s1.2.c") == "Annex XI, Section 1, point 2(c)"
    assert point_ref("annex_xi.s2.3") == "Annex XI, Section 2, point 3"
    assert point_ref("annex_xii.1.h") == "Annex XII, point 1(h)" and point_ref("art_55.1.d") == "Art. 55(1)(d)"


def test_the_catalogue_says_what_was_read_second_hand() -> None:
    header = (REPO / "src" / "techfile" / "frameworks" / "gpai.yaml").read_text(encoding="utf-8").split("framework:", 1)[0]
    assert "24 July 2025" in header and "read second-hand" in header


def test_every_mapping_names_existing_ids_on_both_sides() -> None:
    known = {f: builtin_framework(f).ids for f in ("eu-ai-act", "gpai")}
    mappings = load_catalogue("gpai")["mappings"]
    assert mappings
    for mapping in mappings:
        for end in (mapping["from"], mapping["to"]):
            assert end["item"] in known[end["framework"]], mapping
        assert "gpai" in (mapping["from"]["framework"], mapping["to"]["framework"])
        assert mapping["authority"] in ("official", "derived") and mapping.get("source"), mapping
    mapped = {m["from"]["item"] for m in mappings}
    assert set(ANNEX_XI + ANNEX_XII + ARTICLES) <= mapped


def test_every_point_has_its_sources_and_its_document() -> None:
    from techfile.frameworks.gpai import point_document, point_sources

    fields = _schema_paths(json.loads((SCHEMAS / "gpai_model.schema.json").read_text(encoding="utf-8")))
    for point in builtin_framework("gpai").assessable_items():
        sources = point_sources(point.id)
        assert sources.get("needs"), point.id
        assert point_document(point.id) in GPAI_DOCUMENTS, point.id
        for fact in sources["needs"] + sources.get("shows", []):
            root, path = fact.split(".", 1)
            assert root == "settings" or path in fields, fact


def _schema_paths(schema: dict[str, Any]) -> set[str]:
    """Dotted paths of the schema's properties (through nested objects)."""
    found: set[str] = set()

    def walk(node: dict[str, Any], prefix: str) -> None:
        for name, prop in node.get("properties", {}).items():
            found.add(prefix + name)
            walk(prop, f"{prefix}{name}.")

    walk(schema, "")
    return found


# --- the template: checks clean, builds every GPAI document ---------------------------------------------------------


@pytest.fixture(scope="module")
def template_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(TEMPLATE, tmp_path_factory.mktemp("gpai") / "out")


def test_the_template_checks_clean() -> None:
    result = run_cli("check", str(TEMPLATE))
    assert result.exit_code == 0 and "ok: 0 errors, 0 warnings" in result.output, result.output


def test_the_template_builds_every_gpai_document(template_build: BuildResult) -> None:
    grades = assess(load_project(str(TEMPLATE)).project).framework("gpai")
    assert grades is not None
    for kind in GPAI_DOCUMENTS:
        document = next(d for d in template_build.documents if d.kind == kind)
        assert document.gaps == () and "MISSING" not in document.markdown
        pdf = template_build.out / "pdf" / f"lumen-1b-{kind}.pdf"
        assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")
        text = document.markdown.replace("\\", "")
        for item in grades.items:  # every point the document shows, with its grade
            if document.kind == _kind(item.id):
                assert f"### {item.ref}: {item.title}" in text, item.id
    summary = next(d for d in template_build.documents if d.kind == "training-content-summary").markdown.replace("\\", "")
    assert "AI Office template for the public summary of training content, as published on 24 July 2025" in summary
    assert "2025-07-24" in summary
    technical = next(d for d in template_build.documents if d.kind == "gpai-technical-documentation").markdown
    assert "Not applicable: applies only to general-purpose AI models with systemic risk" in technical
    assert "1,100,000,000" in technical and "1.4e+22" in technical


def _kind(item_id: str) -> str | None:
    from techfile.frameworks.gpai import point_document

    return point_document(item_id)


def test_the_pack_is_in_coverage_traceability_and_the_status_board(template_build: BuildResult) -> None:
    result = run_cli("coverage", str(TEMPLATE), "--format", "json")
    assert result.exit_code == 0, result.output
    coverage = {f["framework"]: f for f in json.loads(result.output)["frameworks"]}
    assert len(coverage["gpai"]["items"]) == 45
    assert "38 of 45 items apply" in coverage["gpai"]["summary"]  # Section 2 and Art. 55(1): no systemic risk
    grades = {i["id"]: i["grade"] for i in coverage["gpai"]["items"]}
    assert {grades[i] for i in ("annex_xi.s2.1", "art_55.1.a")} == {"not applicable"}
    assert grades["art_53.1.c"] == "evidenced"  # the opt-out control's audit
    eu = {i["id"]: i for i in coverage["eu-ai-act"]["items"]}
    assert eu["art_53.1.c"]["grade"] == "evidenced" and "gpai pack" in eu["art_53.1.c"]["reason"]
    traceability = next(d for d in template_build.documents if d.kind == "traceability").markdown
    assert coverage["gpai"]["summary"] in traceability
    home = next(d for d in template_build.documents if d.kind == "home").markdown
    assert f"- {coverage['gpai']['summary']}" in home
    for kind in GPAI_DOCUMENTS:
        document = next(d for d in template_build.documents if d.kind == kind)
        assert re.search(rf"^\| \[{re.escape(document.title)}\]\({document.id}\.md\) \| GPAI model \| {document.status} \| 0 \|$",
                         home, re.M), kind
    manifest = json.loads((template_build.out / "manifest.json").read_text(encoding="utf-8"))
    assert "gpai" in {f["id"] for f in manifest["assessment"]["frameworks"]}


def test_init_scaffolds_the_template(tmp_path: Path) -> None:
    assert run_cli("init", str(tmp_path / "model"), "--template", "gpai").exit_code == 0
    first = (tmp_path / "model" / "gpai_model.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=schemas/gpai_model.schema.json"
    assert (tmp_path / "model" / "schemas" / "gpai_model.schema.json").is_file()
    assert run_cli("check", str(tmp_path / "model")).exit_code == 0
    shutil.rmtree(tmp_path / "model")


# --- each required fact, removed, makes its point missing and a check finding names it ------------------------------


def _required_facts() -> list[tuple[str, str]]:
    """(point, fact of gpai_model.yaml) for every fact a point of the template needs."""
    from techfile.frameworks.gpai import point_sources

    grades = assess(load_project(str(TEMPLATE)).project).framework("gpai")
    assert grades is not None
    return [(item.id, fact) for item in grades.items if item.applicable
            for fact in point_sources(item.id).get("needs", []) if fact.startswith("gpai_model.")]


def _remove(data: dict[str, Any], path: list[str]) -> None:
    for name in path[:-1]:
        data = data[name]
    del data[path[-1]]


@pytest.fixture
def template_copy(tmp_path: Path) -> Path:
    target = tmp_path / "gpai"
    shutil.copytree(TEMPLATE, target)
    return target


@pytest.mark.parametrize(("point", "fact"), _required_facts(), ids=lambda v: v)
def test_removing_a_required_fact_makes_its_point_missing(template_copy: Path, point: str, fact: str) -> None:
    source = template_copy / "gpai_model.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    path = fact.split(".")[1:]
    _remove(data, path)
    source.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    grades = assess(load_project(str(template_copy)).project).framework("gpai")
    assert grades is not None
    graded = grades.item(point)
    assert graded is not None and graded.grade == "missing"
    written = f"gpai_model.yaml `{'.'.join(path)}`"
    assert written in graded.reason
    result = run_cli("check", str(template_copy), "--format", "json")
    assert result.exit_code == 1
    findings = [d for d in json.loads(result.output)["diagnostics"] if d["code"] == "TF991"]
    named = [d for d in findings if d["message"].startswith(f"{graded.ref} ({graded.title}) is missing from the ")]
    assert named and written in named[0]["message"], [d["message"] for d in findings]
    assert named[0]["path"].endswith("gpai_model.yaml") and named[0]["line"] >= 1


def test_a_missing_point_is_shown_missing_in_its_document(template_copy: Path) -> None:
    source = template_copy / "gpai_model.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    del data["development"]["energy"]
    source.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    result = build(template_copy, template_copy / "build", only={"gpai-technical-documentation"}, site=False, pdf=False)
    document = next(d for d in result.documents if d.kind == "gpai-technical-documentation")
    assert document.status == "draft"
    text = document.markdown.replace("\\", "")
    assert "**MISSING:** add gpai_model.yaml `development.energy.kwh`; gpai_model.yaml `development.energy.method`" in text
    assert "Art. 53(1)(a) | Technical documentation for the AI Office | **MISSING**" in text  # it rests on Annex XI
    assert {g.code for g in document.gaps} == {"TF991"}


def test_the_missing_fact_is_located_at_its_section(template_copy: Path) -> None:
    source = template_copy / "gpai_model.yaml"
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace("  context_window: 4096\n", ""), encoding="utf-8")
    found = next(d for d in json.loads(run_cli("check", str(template_copy), "--format", "json").output)["diagnostics"]
                 if d["code"] == "TF991")
    line = next(n for n, row in enumerate(source.read_text(encoding="utf-8").splitlines(), 1) if row == "development:")
    assert found["message"].startswith("Annex XII, point 2(b)") and found["line"] == line


@pytest.mark.parametrize(("edit", "code", "message"), [
    ("no-facts-file", "TF990", "the project provides a general-purpose AI model but has no gpai_model.yaml"),
    ("no-model", "TF992", "techfile.yaml asks for the copyright-policy document, but the project provides no general-purpose AI model"),
    ("no-model", "TF993", "gpai_model.yaml is not read"),
    ("compute", "TF994", "gpai_model.yaml documents 2e+22 FLOPs of training compute, but system.yaml"),
])
def test_mistakes_in_using_the_pack_are_reported(template_copy: Path, edit: str, code: str, message: str) -> None:
    if edit == "no-facts-file":
        (template_copy / "gpai_model.yaml").unlink()
    elif edit == "no-model":
        system = template_copy / "system.yaml"
        text = system.read_text(encoding="utf-8")
        system.write_text(re.sub(r"  gpai_model:\n(    .*\n)+", "", text), encoding="utf-8")
        settings = template_copy / "techfile.yaml"
        settings.write_text(settings.read_text(encoding="utf-8").replace("role: gpai-model-provider", "role: provider"),
                            encoding="utf-8")
    else:
        source = template_copy / "gpai_model.yaml"
        source.write_text(source.read_text(encoding="utf-8").replace("    flops: 1.4e+22", "    flops: 2.0e+22"), encoding="utf-8")
    diagnostics = json.loads(run_cli("check", str(template_copy), "--format", "json").output)["diagnostics"]
    assert any(d["code"] == code and d["message"].startswith(message) for d in diagnostics), [d["message"] for d in diagnostics]


def test_systemic_risk_brings_in_section_2_and_art_55(template_copy: Path) -> None:
    system = template_copy / "system.yaml"
    system.write_text(system.read_text(encoding="utf-8").replace("    systemic_risk: false\n", "    systemic_risk: true\n"),
                      encoding="utf-8")
    grades = assess(load_project(str(template_copy)).project).framework("gpai")
    assert grades is not None
    for point in ("annex_xi.s2.1", "annex_xi.s2.2", "annex_xi.s2.3", "art_55.1.a", "art_55.1.b", "art_55.1.c", "art_55.1.d"):
        graded = grades.item(point)
        assert graded is not None and graded.grade == "missing", point
    assert grades.item("annex_xi.s2.1").gate == "evidenced"  # type: ignore[union-attr]
    messages = [d["message"] for d in json.loads(run_cli("check", str(template_copy), "--format", "json").output)["diagnostics"]
                if d["code"] == "TF991"]
    assert any(m.startswith("Art. 55(1)(d) (Cybersecurity of the model and its infrastructure) is missing") for m in messages)


def test_an_open_source_model_without_systemic_risk_is_free_of_annex_xi_and_xii(template_copy: Path) -> None:
    system = template_copy / "system.yaml"
    system.write_text(system.read_text(encoding="utf-8").replace("    open_source: false\n", "    open_source: true\n"),
                      encoding="utf-8")
    grades = assess(load_project(str(template_copy)).project).framework("gpai")
    assert grades is not None
    for item in grades.items:
        expected = item.id.startswith(("annex_xi.", "annex_xii.", "art_53.1.a", "art_53.1.b", "art_55."))
        assert (item.grade == "not applicable") == expected, item.id
    assert grades.item("annex_xii.1.a").reason.startswith("Art. 53(2)")  # type: ignore[union-attr]
