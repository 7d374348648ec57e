"""The medical-device framework packs (mdr, iso-13485, iso-14971): catalogues numbered as the Regulation and the
standards number them, mappings that name existing items, the GSPR checklist graded by the one assessment, the index
of the single technical documentation, and the packs in coverage, the traceability matrix and the status board."""

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
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.frameworks.registry import builtin_framework
from techfile.publish.build import BuildResult, build

from conftest import SAMPLE, SCHEMAS, run_cli

PACKS = {"mdr": "mdr", "iso-13485": "iso_13485", "iso-14971": "iso_14971"}
SAMPLE_ID = "thoravis-cxr"

# MDR (EU) 2017/745 Annex I as the Regulation numbers it (OJ L 117, 5.5.2017): Chapter I Sections 1-9; Chapter II
# Sections 10-22 with their numbered sub-sections (10.4 in turn has 10.4.1-10.4.5); Chapter III Section 23.
SUBSECTIONS = {10: None, 11: 8, 12: 2, 13: 3, 14: 7, 15: 2, 16: 4, 17: 4, 18: 8, 19: 4, 20: 6, 21: 3, 22: 3, 23: 4}
SECTION_10 = ["10.1", "10.2", "10.3", "10.4.1", "10.4.2", "10.4.3", "10.4.4", "10.4.5", "10.5", "10.6"]
CHAPTER_I = [str(n) for n in range(1, 10)]
CHAPTER_II = SECTION_10 + [f"{s}.{n}" for s in range(11, 23) for n in range(1, SUBSECTIONS[s] + 1)]
CHAPTER_III = ["23.1", "23.2", "23.3", "23.4"]
ANNEX_II = ["1", "1.1", "1.2", "2", "3", "4", "5", "6", "6.1", "6.2"]
ANNEX_III = ["1.1", "1.2"]

# ISO 13485:2016 clauses 4-8 and ISO 14971:2019 clauses 4-10: the clauses that carry requirements (leaves) and the
# clauses that only group them (headings).
ISO_13485_LEAVES = (
    [f"4.1.{n}" for n in range(1, 7)] + [f"4.2.{n}" for n in range(1, 6)]
    + ["5.1", "5.2", "5.3", "5.4.1", "5.4.2", "5.5.1", "5.5.2", "5.5.3", "5.6.1", "5.6.2", "5.6.3"]
    + ["6.1", "6.2", "6.3", "6.4.1", "6.4.2", "7.1", "7.2.1", "7.2.2", "7.2.3"] + [f"7.3.{n}" for n in range(1, 11)]
    + ["7.4.1", "7.4.2", "7.4.3"] + [f"7.5.{n}" for n in range(1, 9)] + ["7.5.9.1", "7.5.9.2", "7.5.10", "7.5.11", "7.6"]
    + ["8.1"] + [f"8.2.{n}" for n in range(1, 7)] + [f"8.3.{n}" for n in range(1, 5)] + ["8.4", "8.5.1", "8.5.2", "8.5.3"])
ISO_13485_HEADINGS = ["4", "4.1", "4.2", "5", "5.4", "5.5", "5.6", "6", "6.4", "7", "7.2", "7.3", "7.4", "7.5", "7.5.9", "8",
                      "8.2", "8.3", "8.5"]
ISO_14971_LEAVES = ([f"4.{n}" for n in range(1, 6)] + [f"5.{n}" for n in range(1, 6)] + ["6"]
                    + [f"7.{n}" for n in range(1, 7)] + ["8", "9"] + [f"10.{n}" for n in range(1, 5)])
ISO_14971_HEADINGS = ["4", "5", "7", "10"]


def _items(pack: str) -> list[dict[str, Any]]:
    return load_catalogue(PACKS[pack])["items"]


def _eu_ids() -> set[str]:
    return set(builtin_framework("eu-ai-act").ids)


# --- catalogues -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pack", PACKS)
def test_pack_is_written_in_the_custom_framework_format(pack: str) -> None:
    schema = json.loads((SCHEMAS / "framework.schema.json").read_text(encoding="utf-8"))
    data = load_catalogue(PACKS[pack])
    errors = sorted(e.message for e in Draft202012Validator(schema).iter_errors(data))
    assert errors == []
    assert data["framework"]["id"] == pack
    ids = [i["id"] for i in data["items"]]
    assert len(ids) == len(set(ids))
    assert all(i["parent"] in ids for i in data["items"] if "parent" in i)


def test_gspr_ids_and_counts_equal_the_regulation() -> None:
    items = {i["id"]: i for i in _items("mdr")}
    requirements = [i for i in _items("mdr") if i["kind"] == "requirement"]

    def chapter(item_id: str) -> str:
        parent = items[item_id]["parent"]
        while items[parent]["kind"] != "chapter":
            parent = items[parent]["parent"]
        return parent

    by_chapter = {c: [r["id"].removeprefix("annex_i.") for r in requirements if chapter(r["id"]) == f"annex_i.{c}"]
                  for c in ("chapter_i", "chapter_ii", "chapter_iii")}
    assert by_chapter == {"chapter_i": CHAPTER_I, "chapter_ii": CHAPTER_II, "chapter_iii": CHAPTER_III}
    assert [len(v) for v in by_chapter.values()] == [9, 64, 4] and len(requirements) == 77
    # Sections 10-23 (and 10.4) are the headings of their numbered sub-sections; Sections 1-9 are requirements
    headings = sorted((i["id"] for i in _items("mdr") if i["kind"] == "section"), key=lambda s: [int(p) for p in s.split(".")[1:]])
    assert headings == ["annex_i.10", "annex_i.10.4", *(f"annex_i.{s}" for s in range(11, 24))]
    for requirement in requirements:
        number = requirement["id"].removeprefix("annex_i.")
        if "." in number:
            assert items[requirement["parent"]]["id"] == "annex_i." + number.rsplit(".", 1)[0]
        assert requirement.get("summary"), requirement["id"]
    annex_ii = [i["id"].removeprefix("annex_ii.") for i in _items("mdr") if i["id"].startswith("annex_ii.")]
    annex_iii = [i["id"].removeprefix("annex_iii.") for i in _items("mdr") if i["id"].startswith("annex_iii.")]
    assert (annex_ii, annex_iii) == (ANNEX_II, ANNEX_III)
    assert builtin_framework("mdr").assessable == "requirement"


@pytest.mark.parametrize(("pack", "leaves", "headings"), [("iso-13485", ISO_13485_LEAVES, ISO_13485_HEADINGS),
                                                          ("iso-14971", ISO_14971_LEAVES, ISO_14971_HEADINGS)])
def test_iso_clauses_as_the_standards_number_them(pack: str, leaves: list[str], headings: list[str]) -> None:
    items = _items(pack)
    assert [i["id"] for i in items if i["kind"] == "clause"] == leaves
    assert [i["id"] for i in items if i["kind"] == "heading"] == headings
    assert len(leaves) == {"iso-13485": 72, "iso-14971": 23}[pack]
    for item in items:
        parent = item["id"].rsplit(".", 1)[0] if "." in item["id"] else None
        assert item.get("parent") == parent, item
        assert "summary" not in item  # titles only, in our own words: no standard text


@pytest.mark.parametrize("pack", PACKS)
def test_every_mapping_names_existing_ids_on_both_sides(pack: str) -> None:
    known = {"eu-ai-act": _eu_ids(), **{f: builtin_framework(f).ids for f in ("iso-42001", "nist-ai-rmf", "soc2", *PACKS)}}
    mappings = load_catalogue(PACKS[pack]).get("mappings", [])
    assert mappings
    for mapping in mappings:
        for end in (mapping["from"], mapping["to"]):
            assert end["item"] in known[end["framework"]], mapping
        assert pack in (mapping["from"]["framework"], mapping["to"]["framework"])
        assert mapping["authority"] in ("official", "listed", "institutional", "community", "derived")
        assert mapping.get("source"), mapping
        if "MDCG 2025-6" in mapping["source"]:  # a mapping credited to MDCG 2025-6 carries its authority
            assert mapping["authority"] == "official"


def test_mdr_maps_every_annex_iv_point_and_the_ai_act_requirements() -> None:
    mappings = load_catalogue("mdr")["mappings"]
    points = [i.id for i in builtin_framework("eu-ai-act").items if i.id.startswith("annex_iv.")]
    leaves = [p for p in points if not any(q.startswith(p + ".") for q in points)]
    placed = {m["from"]["item"] for m in mappings if m["to"]["item"].startswith(("annex_ii.", "annex_iii."))}
    assert set(leaves) <= placed
    targets = {m["from"]["item"] for m in mappings}
    for article in range(9, 16):
        assert any(t.startswith(f"art_{article}.") for t in targets), article
    assert any(t.startswith("art_17.1.") for t in targets)


# --- the sample: GSPR checklist, index, coverage, matrix, status board ----------------------------------------------


@pytest.fixture(scope="module")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(SAMPLE, tmp_path_factory.mktemp("mdr") / "out", pdf=False)


@pytest.fixture(scope="module")
def coverage() -> dict[str, Any]:
    result = run_cli("coverage", str(SAMPLE), "--format", "json")
    assert result.exit_code == 0, result.output
    return {f["framework"]: f for f in json.loads(result.output)["frameworks"]}


def _rows(markdown: str, start: str, end: str | None = None) -> list[list[str]]:
    body = markdown[markdown.index(start):markdown.index(end) if end else None]
    rows = [[c.strip() for c in line.strip("|").split(" | ")] for line in body.splitlines()
            if line.startswith("| ") and not re.match(r"^\|[\s:|-]+\|$", line)]
    return [r for r in rows if r[0] not in ("GSPR", "Annex IV point", "MDR section", "Requirement")]


def _document(result: BuildResult, kind: str) -> str:
    return next(d for d in result.documents if d.kind == kind).markdown.replace("\\", "")


def test_sample_gspr_checklist_grades_every_requirement(sample_build: BuildResult, coverage: dict[str, Any]) -> None:
    markdown = _document(sample_build, "gspr-checklist")
    rows = _rows(markdown, "## Chapter I", "## Gaps" if "## Gaps" in markdown else None)
    grades = {i["id"]: i["grade"] for i in coverage["mdr"]["items"]}
    assert len(rows) == len(grades) == 77
    assert [f"annex_i.{r[0]}" for r in rows] == list(grades)
    for number, _title, applies, _means, _controls, evidence, grade, _required in rows:
        assert grade.strip("*").lower() == grades[f"annex_i.{number}"]
        if grade == "not applicable":
            assert applies.startswith("no: ") and len(applies) > 15 and evidence == "—"
        else:
            assert applies == "yes" and evidence
    # the sample decides every requirement: 21 apply to a standalone software device, the rest with a justification
    assert sum(r[6] != "not applicable" for r in rows) == 21 and "21 of 77 items apply" in coverage["mdr"]["summary"]
    # evidence the sample does not have is shown as such, not invented
    assert "| 14.1 | Combinations with other devices or equipment | yes |" in markdown
    row_14_1 = next(r for r in rows if r[0] == "14.1")
    assert row_14_1[5] == "none current" and row_14_1[6] == "described"
    assert "## Chapter II" in markdown and "### Section 17: Electronic programmable systems" in markdown and "## Chapter III" in markdown
    import openpyxl  # the spreadsheet edition holds the same rows

    sheet = openpyxl.load_workbook(sample_build.out / "xlsx" / f"{SAMPLE_ID}-gspr-checklist.xlsx")["GSPR checklist"]
    cells = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(f"annex_i.{c[2]}", c[9]) for c in cells] == list(grades.items())


def test_sample_index_places_every_annex_iv_point_in_the_mdr_structure(sample_build: BuildResult) -> None:
    markdown = _document(sample_build, "mdr-index")
    rows = _rows(markdown, "## AI Act Annex IV points", "## The MDR technical documentation structure")
    points = eu_ai_act().section("annex_iv")
    leaves = [p for p in points if not any(q.parent == p.id for q in points)]
    assert [r[0] for r in rows] == [p.ref for p in leaves] and len(rows) == 23
    for ref, _asks, place, basis, _grade, filled in rows:
        assert re.search(r"\*\*Annex (II|III) \d", place), (ref, place)
        assert "MISSING" not in place and basis.startswith("derived (")
        assert "technical-file.md" in filled
    structure = _rows(markdown, "## The MDR technical documentation structure", "## Gaps" if "## Gaps" in markdown else None)
    assert [r[0] for r in structure] == [f"Annex II {n}" for n in ANNEX_II] + [f"Annex III {n}" for n in ANNEX_III]
    assert "gspr-checklist.md" in next(r for r in structure if r[0] == "Annex II 4")[4]


def test_packs_in_coverage_traceability_and_status_board(sample_build: BuildResult, coverage: dict[str, Any]) -> None:
    assert [f for f in coverage if f in PACKS] == list(PACKS)
    assert {f: len(coverage[f]["items"]) for f in PACKS} == {"mdr": 77, "iso-13485": 72, "iso-14971": 23}
    traceability = _document(sample_build, "traceability")
    for pack in PACKS:
        assert f"## {coverage[pack]['title']}" in traceability and coverage[pack]["summary"] in traceability
    home = next(d for d in sample_build.documents if d.kind == "home").markdown
    for pack in PACKS:
        assert f"- {coverage[pack]['summary']}" in home
    for kind, title in (("gspr-checklist", "GSPR checklist (MDR Annex I)"), ("mdr-index", "Technical documentation index")):
        document = next(d for d in sample_build.documents if d.kind == kind)
        assert re.search(rf"^\| \[{re.escape(document.title)}\]\({document.id}\.md\) \| MDR \| {document.status} \| "
                         rf"{len(document.gaps)} \|$", home, re.M), title
    manifest = json.loads((sample_build.out / "manifest.json").read_text(encoding="utf-8"))
    assert {f["id"] for f in manifest["assessment"]["frameworks"]} >= set(PACKS)
    # procedures describe ISO clauses: the migrated sample lists sub-clauses, and the hand-written catalogue is gone
    assert not (SAMPLE / "frameworks" / "iso-13485.yaml").exists()
    assert coverage["iso-13485"]["items"][0]["id"] == "4.1.1"
    graded = {i["id"]: i for i in coverage["iso-13485"]["items"]}
    assert "sop-design-development" in graded["7.3.2"]["procedures"]
    assert graded["7.5.5"]["grade"] == "not applicable"


def test_sample_checks_clean_and_lists_what_the_iso_packs_lack() -> None:
    result = run_cli("check", str(SAMPLE))
    assert result.exit_code == 0 and "ok: 0 errors, 0 warnings" in result.output
    text = run_cli("coverage", str(SAMPLE)).output
    assert re.search(r"^ISO 13485:2016 .*: 67 of 72 items apply .*7 missing; 5 not applicable\.$", text, re.M)
    assert "  missing: 4.1.3, 4.1.4, 4.2.2, 7.5.3, 7.5.6, 7.6, 8.3.4" in text


# --- grading and findings -------------------------------------------------------------------------------------------


def _set(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (old, path)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _findings(project: Path, *args: str) -> list[dict[str, Any]]:
    return json.loads(run_cli("check", str(project), "--format", "json", *args).output)["diagnostics"]


def _remove_decision(project: Path, requirement: str) -> None:
    path = project / "gspr.yaml"
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"^  - requirement: {re.escape(requirement)}\n(?:    .*\n|      .*\n)*", re.M)
    assert pattern.search(text)
    path.write_text(pattern.sub("", text, count=1), encoding="utf-8")


def test_an_undecided_requirement_is_a_gap_and_missing_unless_a_control_claims_it(project_copy: Path) -> None:
    _remove_decision(project_copy, "annex_i.14.5")
    _remove_decision(project_copy, "annex_i.18.8")  # ctl-api-security claims 18.8
    found = {(d["code"], d["message"]) for d in _findings(project_copy)}
    assert ("TF981", "MDR annex_i.14.5 (Interoperability and compatibility) is not decided in the GSPR checklist") in found
    assert ("TF981", "MDR annex_i.18.8 (Unauthorised access) is not decided in the GSPR checklist") in found
    assert any(c == "TF920" and m.startswith("mdr annex_i.14.5 (Interoperability and compatibility) is missing (no decision "
                                             "in gspr.yaml and no control claims it)") for c, m in found)
    grades = assess(load_project(str(project_copy)).project).framework("mdr")
    assert grades is not None
    assert grades.item("annex_i.14.5").grade == "missing"
    assert grades.item("annex_i.18.8").grade == "evidenced" and grades.item("annex_i.18.8").controls == ("ctl-api-security",)
    result = build(project_copy, project_copy / "build", only={"gspr-checklist"}, site=False, pdf=False)
    checklist = next(d for d in result.documents if d.kind == "gspr-checklist")
    assert checklist.status == "draft"
    assert "| 14.5 | Interoperability and compatibility | **MISSING:** no decision in gspr.yaml |" in checklist.markdown
    shown = {g.message for g in checklist.gaps}
    assert {m for c, m in found if c in ("TF981", "TF920") and "mdr" in m.lower()} <= shown


def test_the_grade_follows_the_decision_and_its_evidence(project_copy: Path) -> None:
    gspr = project_copy / "gspr.yaml"
    # the means of meeting 14.5 removed: nothing says how it is met
    _set(gspr, "  - requirement: annex_i.14.5\n    applicable: true\n    standards: [\"NEMA PS3 / ISO 12052 (DICOM)\"]\n",
         "  - requirement: annex_i.14.5\n    applicable: true\n")
    text = gspr.read_text(encoding="utf-8")
    gspr.write_text(re.sub(r"(  - requirement: annex_i\.14\.5\n    applicable: true\n)    solutions: >-\n(      .*\n)+", r"\1", text),
                    encoding="utf-8")
    # 14.4 gets current evidence; 2 loses its approved evidence and gains evidence without approval
    _set(gspr, "  - requirement: annex_i.14.4\n    applicable: true\n", "  - requirement: annex_i.14.4\n    applicable: true\n"
         "    evidence: [ev-verification-report]\n")
    _set(gspr, "    evidence: [ev-risk-management-report]\n  - requirement: annex_i.3", "    evidence: [ev-drift-report]\n"
         "  - requirement: annex_i.3")
    grades = assess(load_project(str(project_copy)).project).framework("mdr")
    assert grades is not None
    assert grades.item("annex_i.14.5").grade == "missing"
    assert "gspr.yaml names no standard" in grades.item("annex_i.14.5").reason
    assert grades.item("annex_i.14.4").grade == "approved"
    assert grades.item("annex_i.2").grade == "evidenced"
    assert grades.item("annex_i.10.1").grade == "not applicable"
    assert grades.item("annex_i.10.1").reason.startswith("not applicable (gspr.yaml): CXR Assist is standalone software")


def test_a_gate_of_evidenced_makes_requirements_without_evidence_errors(project_copy: Path) -> None:
    _set(project_copy / "techfile.yaml", "gates:\n", "gates:\n  mdr: evidenced\n")
    below = sorted(d["message"].split(" (", 1)[0] for d in _findings(project_copy) if d["code"] == "TF920")
    assert below == ["mdr annex_i.14.1", "mdr annex_i.14.4", "mdr annex_i.14.5", "mdr annex_i.17.4"]


@pytest.mark.parametrize(("edit", "code", "message"), [
    ("no-checklist", "TF980", "MDR is in scope but the project has no gspr.yaml (GSPR checklist)"),
    ("no-justification", "TF982", "MDR annex_i.9 is excluded from the GSPR checklist without a justification"),
    ("duplicate", "TF983", "MDR annex_i.1 is decided more than once in the GSPR checklist"),
    ("unlisted-standard", "TF984", "the GSPR checklist applies 'IEC 62304:2006' to annex_i.17.2, but system.yaml "
                                   "`standards_applied` does not list it"),
    ("unknown-requirement", "TF606", "the GSPR checklist names 'annex_i.16.5', which is not an item of mdr"),
    ("pack-and-own-catalogue", "TF986", "frameworks/ declares 'iso-13485', the id of techfile's framework pack that "
                                        "techfile.yaml selects; this catalogue is not used"),
    ("heading-claim", "TF987", "control 'ctl-verification-validation' names iso-13485 '7.3', a heading, which is not graded"),
    ("unknown-clause", "TF606", "procedure 'sop-post-market' names '8.2.7', which is not an item of iso-13485"),
    ("unknown-not-applicable", "TF606", "`not_applicable` names '7.5.12', which is not an item of iso-13485"),
])
def test_mistakes_in_using_the_packs_are_reported(project_copy: Path, edit: str, code: str, message: str) -> None:
    gspr = project_copy / "gspr.yaml"
    if edit == "no-checklist":
        gspr.unlink()
    elif edit == "no-justification":
        text = gspr.read_text(encoding="utf-8")
        gspr.write_text(re.sub(r"(  - requirement: annex_i\.9\n    applicable: false\n)    justification: .*\n", r"\1", text),
                        encoding="utf-8")
    elif edit == "duplicate":
        _set(gspr, "decisions:\n", "decisions:\n  - requirement: annex_i.1\n    applicable: true\n")
    elif edit == "unlisted-standard":
        _set(gspr, 'standards: ["EN 62304:2006 + A1:2015", "IEC 81001-5-1:2021"', 'standards: ["IEC 62304:2006", "IEC 81001-5-1:2021"')
    elif edit == "unknown-requirement":
        _set(gspr, "requirement: annex_i.16.4", "requirement: annex_i.16.5")
    elif edit == "pack-and-own-catalogue":
        (project_copy / "frameworks").mkdir(exist_ok=True)
        (project_copy / "frameworks" / "iso-13485.yaml").write_text(
            "framework: {id: iso-13485, title: Our ISO 13485, assessable: clause}\nitems:\n  - {id: '7.3', kind: clause, title: Design}\n",
            encoding="utf-8")
    elif edit == "heading-claim":
        _set(project_copy / "controls" / "ctl-verification-validation.yaml", 'iso_13485: ["7.3.6"', 'iso_13485: ["7.3", "7.3.6"')
    elif edit == "unknown-clause":
        _set(project_copy / "qms" / "sop-post-market.yaml", '"8.2.1",', '"8.2.7",')
    elif edit == "unknown-not-applicable":
        _set(project_copy / "system.yaml", 'point: "7.5.5"', 'point: "7.5.12"')
    diagnostics = _findings(project_copy)
    assert any(d["code"] == code and d["message"].startswith(message) for d in diagnostics), [d["message"] for d in diagnostics]
    result = run_cli("check", str(project_copy), "--strict")
    assert result.exit_code == 1


def test_procedure_clauses_are_located_at_their_field(project_copy: Path) -> None:
    _set(project_copy / "qms" / "sop-post-market.yaml", '"8.2.1",', '"8.2.7",')
    found = next(d for d in _findings(project_copy) if d["code"] == "TF606")
    line = next(n for n, text in enumerate((project_copy / "qms" / "sop-post-market.yaml").read_text().splitlines(), 1)
                if text.startswith("iso_13485_clauses:"))
    assert found["path"].endswith("qms/sop-post-market.yaml") and found["line"] == line


def test_mdr_documents_need_mdr_in_scope_and_gspr_yaml_needs_a_reader(project_copy: Path) -> None:
    _set(project_copy / "techfile.yaml", "  - mdr\n", "")
    diagnostics = {(d["code"], d["message"]) for d in _findings(project_copy)}
    assert ("TF985", "techfile.yaml asks for the gspr-checklist document, but `mdr` is not in `frameworks`") in diagnostics
    assert ("TF985", "techfile.yaml asks for the mdr-index document, but `mdr` is not in `frameworks`") in diagnostics
    assert ("TF988", "gspr.yaml is not read: `mdr` is not in techfile.yaml `frameworks`") in diagnostics
    assert assess(load_project(str(project_copy)).project).framework("mdr") is None


def test_a_project_without_named_documents_gets_the_mdr_documents(project_copy: Path) -> None:
    text = (project_copy / "techfile.yaml").read_text(encoding="utf-8")
    (project_copy / "techfile.yaml").write_text(re.sub(r"  documents:\n(    - .*\n)+", "", text), encoding="utf-8")
    from techfile.assess.gaps import requested_documents

    requested = requested_documents(load_project(str(project_copy)).project)
    assert requested[-2:] == ["gspr-checklist", "mdr-index"]


def test_a_pack_id_under_custom_counts_for_the_pack(project_copy: Path) -> None:
    """Claims written the old way (`satisfies.custom.iso-13485`) still count once the project selects the pack."""
    control = project_copy / "controls" / "ctl-staff-competence.yaml"
    _set(control, '  iso_13485: ["6.2"]\n', '  custom:\n    iso-13485: ["6.2", "8.3.4"]\n')
    grades = assess(load_project(str(project_copy)).project).framework("iso-13485")
    assert grades is not None
    assert "ctl-staff-competence" in grades.item("6.2").controls
    assert grades.item("8.3.4").grade != "missing"


def test_the_sample_template_carries_the_checklist(tmp_path: Path) -> None:
    assert run_cli("init", str(tmp_path / "med"), "--template", "medical").exit_code == 0
    assert (tmp_path / "med" / "gspr.yaml").is_file() and (tmp_path / "med" / "schemas" / "gspr.schema.json").is_file()
    first = (tmp_path / "med" / "gspr.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=schemas/gspr.schema.json"
    data = yaml.safe_load((tmp_path / "med" / "gspr.yaml").read_text(encoding="utf-8"))
    assert len(data["decisions"]) == 77
    shutil.rmtree(tmp_path / "med")
