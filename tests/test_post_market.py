"""After the market: the fundamental rights impact assessment (Art. 27), the post-market monitoring plan and its
reviews (Art. 72), serious incidents and their reporting clocks (Art. 3(49), Art. 73), and the EU database
registration (Art. 49, Annex VIII) with `techfile export eu-database`.

Dates are relative to the assessment date (the copies are outside git, so it is techfile.yaml's
document_control.date), never to the clock."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from techfile import load_project
from techfile.assess.evidence import assessment_date
from techfile.assess.incidents import reporting_route
from techfile.assess.monitoring import add_interval
from techfile.assess.operators import fria_requirement, registration_sections
from techfile.frameworks.catalogue import load_catalogue
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.publish.build import build

from conftest import REPO, SAMPLE, SCHEMAS, run_cli

CREDIT = REPO / "project_templates" / "credit"


@pytest.fixture(autouse=True)
def _no_source_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


def _copy(source: Path, tmp_path: Path, name: str = "project") -> Path:
    target = tmp_path / name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("build"))
    return target


def _set(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _remove_key(path: Path, key: str, indent: str = "") -> None:
    """Remove `key` (a mapping key at `indent`) and its value from a YAML file."""
    text = path.read_text(encoding="utf-8")
    pattern = rf"^{indent}{re.escape(key)}:.*?\n(?=^ {{0,{len(indent)}}}\S|\Z)"  # up to a line indented no deeper
    changed = re.sub(pattern, "", text, count=1, flags=re.MULTILINE | re.DOTALL)
    assert changed != text, f"{key} not in {path}"
    path.write_text(changed, encoding="utf-8")


def _diagnostics(project: Path) -> list[dict[str, object]]:
    return json.loads(run_cli("check", str(project), "--format", "json").output)["diagnostics"]


def _codes(project: Path, code: str) -> list[str]:
    return [str(d["message"]) for d in _diagnostics(project) if d["code"] == code]


def _markdown(project: Path, tmp_path: Path, kind: str, entity: str | None = None) -> str:
    """The Markdown of the document of output kind `kind` (for one per entity, the one of `entity`)."""
    result = build(project, tmp_path / "out", only={kind}, site=False, pdf=False)
    return next(d.markdown for d in result.documents[1:] if entity is None or d.id.endswith(f"-{entity}"))


def _section(markdown: str, heading: str) -> str:
    """The text under the heading that starts with `heading` (any level), up to the next heading of its level or higher."""
    match = re.search(rf"^(#+) {re.escape(heading)}.*$", markdown, re.MULTILINE)
    assert match, f"no heading {heading!r}"
    rest = markdown[match.end():]
    following = re.search(rf"^#{{1,{len(match.group(1))}}} ", rest, re.MULTILINE)
    return rest[:following.start() if following else None].strip()


def _today(project: Path) -> dt.date:
    loaded = load_project(project)
    return dt.date.fromisoformat(assessment_date(loaded.project))


# --- the fundamental rights impact assessment (Art. 27) ---------------------------------------------------------------


FRIA_POINTS = [i for i, entry in load_catalogue("fria_sources").items() if not entry.get("heading")]
FRIA_FACTS = [(i, fact) for i in FRIA_POINTS for fact in load_catalogue("fria_sources")[i]["needs"]]


def test_every_fria_element_is_filled_in_the_credit_template(tmp_path: Path) -> None:
    project = _copy(CREDIT, tmp_path)
    markdown = _markdown(project, tmp_path, "fria")
    act = eu_ai_act()
    assert [i for i in FRIA_POINTS] == [*(f"art_27.1.{letter}" for letter in "abcdef"), "art_27.3"]
    for item in FRIA_POINTS:
        body = _section(markdown, f"{act.ref(item)}:")
        assert body and "MISSING" not in body, item
    assert "A fundamental rights impact assessment is required before first use (Art. 27(1))" in markdown
    assert "[the instructions for use of Nordbank ConsumerScore 2.0.0](nordbank-consumerscore-instructions-for-use.md)" in markdown
    assert "(`risk-indirect-discrimination`)" in markdown and "age\\_band=65+" in markdown  # reused risks and results


@pytest.mark.parametrize(("item", "fact"), FRIA_FACTS, ids=[f"{i}-{f}" for i, f in FRIA_FACTS])
def test_a_fria_fact_removed_is_missing_and_check_names_it(item: str, fact: str, tmp_path: Path) -> None:
    project = _copy(CREDIT, tmp_path)
    key = fact.split(".", 1)[1]
    _remove_key(project / "fria.yaml", key)
    ref = eu_ai_act().ref(item)
    findings = _codes(project, "TF960")
    assert len(findings) == 1, findings
    assert f"{ref} is missing from the fundamental rights impact assessment" in findings[0]
    assert f"fria.yaml `{key}`" in findings[0]
    markdown = _markdown(project, tmp_path, "fria")
    assert _section(markdown, f"{ref}:").startswith("**MISSING:**")
    assert findings[0].replace("`", "\\`") in markdown.replace("\\_", "_")  # the gap list says the same
    assert run_cli("check", str(project)).exit_code == 1


@pytest.mark.parametrize(("use_case", "kind", "required"), [
    ("5.b", "private", True),  # Art. 27(1): every deployer of a 5(b) system
    ("5.c", "private", True),
    ("4.a", "private", False),
    ("4.a", "body-governed-by-public-law", True),
    ("4.a", "private-entity-providing-public-services", True),
    ("5.a", "public-authority", True),
    ("2", "body-governed-by-public-law", False),  # point 2 is left out
])
def test_fria_requirement_follows_role_and_class(use_case: str, kind: str, required: bool, tmp_path: Path) -> None:
    project = _copy(CREDIT, tmp_path)
    _set(project / "system.yaml", 'use_case: "5.b"', f'use_case: "{use_case}"')
    _set(project / "techfile.yaml", "  kind: private", f"  kind: {kind}")
    decision = fria_requirement(load_project(project).project)
    assert decision.applies is required, decision.reason
    assert decision.ref == "Art. 27(1)"


def test_no_fria_without_a_deployer_or_for_an_annex_i_product(tmp_path: Path) -> None:
    credit = _copy(CREDIT, tmp_path, "credit")
    _set(credit / "techfile.yaml", "role: [provider, deployer]", "role: provider")
    decision = fria_requirement(load_project(credit).project)
    assert not decision.applies and "it binds deployer" in decision.reason
    medical = _copy(SAMPLE, tmp_path, "medical")
    _set(medical / "techfile.yaml", "role: provider\neu_ai_act:\n", "role: [provider, deployer]\neu_ai_act:\n"
         "  deployer:\n    kind: public-authority\n")
    decision = fria_requirement(load_project(medical).project)
    assert not decision.applies and "annex-iii" in decision.reason


def test_a_required_fria_that_is_absent_fails_check_before_first_use(tmp_path: Path) -> None:
    project = _copy(CREDIT, tmp_path)
    (project / "fria.yaml").unlink()
    findings = [d for d in _diagnostics(project) if d["code"] == "TF953"]
    assert len(findings) == 1 and findings[0]["severity"] == "error"
    assert "before the system's first use on 2027-01-11 (Art. 27(1)" in str(findings[0]["message"])
    assert findings[0]["path"].endswith("techfile.yaml") and findings[0]["line"] > 1  # at `eu_ai_act`
    markdown = _markdown(project, tmp_path, "fria")
    assert markdown.count("**MISSING:**") == len(FRIA_POINTS)
    _set(project / "techfile.yaml", 'first_use: "2027-01-11"', 'first_use: "2026-11-02"')  # before the assessment date
    assert "which techfile.yaml dates 2026-11-02, already past" in _codes(project, "TF953")[0]


def test_a_fria_older_than_a_substantial_modification_warns(tmp_path: Path) -> None:
    project = _copy(CREDIT, tmp_path)
    change = (project / "changes" / "chg-2.0.0.yaml").read_text(encoding="utf-8")
    later = change.replace("id: chg-2.0.0", "id: chg-2.1.0").replace('version: "2.0.0"', 'version: "2.1.0"') \
        .replace('date: "2026-10-01"', 'date: "2026-11-10"')
    (project / "changes" / "chg-2.1.0.yaml").write_text(later, encoding="utf-8")
    findings = [d for d in _diagnostics(project) if d["code"] == "TF954"]
    assert len(findings) == 1 and findings[0]["severity"] == "warning"
    assert "predates change 'chg-2.1.0' of 2026-11-10" in str(findings[0]["message"])
    assert "(Art. 27(2))" in str(findings[0]["message"])
    _set(project / "changes" / "chg-2.1.0.yaml", "substantial_modification: true", "substantial_modification: false")
    assert not _codes(project, "TF954")


# --- the EU database registration (Art. 49, Annex VIII) -------------------------------------------------------------


def _points(markdown: str, letter: str) -> dict[str, str]:
    section = markdown[markdown.index(f"## Annex VIII, Section {letter}"):]
    section = section[:section.find("\n## ", 10) if section.find("\n## ", 10) != -1 else None]
    return {m.group(1): _section(section, f"Point {m.group(1)}:") for m in re.finditer(r"^### Point (\d+):", section, re.M)}


def test_credit_registers_under_section_a_with_every_point(tmp_path: Path) -> None:
    project = _copy(CREDIT, tmp_path)
    decision = registration_sections(load_project(project).project)
    assert decision.sections == ("a",) and "Art. 49(1)" in decision.reasons[0]
    points = _points(_markdown(project, tmp_path, "eu-database-registration"), "A")
    assert list(points) == [str(n) for n in range(1, 14)]
    for number, body in points.items():
        assert "MISSING" not in body, number
    for number in ("3", "8", "9"):
        assert points[number].startswith("Not applicable:"), number
    assert "Nordbank AG" in points["1"] and "https://www.nordbank.example/ai/consumerscore/instructions-for-use" in points["12"]


# (point, how to remove its source fact, what the finding names)
SECTION_A_REMOVALS = [
    ("2", ("registration.yaml", "submitted_by"), "registration.yaml `submitted_by`"),
    ("3", ("techfile.yaml", "established_in_union"), "techfile.yaml `provider.authorised_representative`"),
    ("6", ("registration.yaml", "operating_logic"), "registration.yaml `operating_logic`"),
    ("10", ("registration.yaml", "member_states"), "registration.yaml `member_states`"),
    ("11", ("system.yaml", "declaration"), "the declaration of conformity, Annex V"),
    ("12", ("registration.yaml", "instructions_for_use_url"), "registration.yaml `instructions_for_use_url`"),
]


@pytest.mark.parametrize(("point", "removal", "names"), SECTION_A_REMOVALS, ids=[p for p, _, _ in SECTION_A_REMOVALS])
def test_a_section_a_fact_removed_is_missing_and_check_names_it(point: str, removal: tuple[str, str], names: str,
                                                              tmp_path: Path) -> None:
    project = _copy(CREDIT, tmp_path)
    file, key = removal
    _remove_key(project / file, key, "  " if key in ("declaration", "established_in_union") else "")
    ref = f"Annex VIII, Section A, point {point}"
    findings = [m for m in _codes(project, "TF955") if m.startswith(f"{ref} is missing")]
    assert len(findings) == 1 and names in findings[0], findings
    assert _points(_markdown(project, tmp_path, "eu-database-registration"), "A")[point].startswith("**MISSING:**")


@pytest.mark.parametrize(("file", "key", "property_"), [
    ("techfile.yaml", "provider", "provider"),  # points 1 and 3 (with the authorised representative)
    ("system.yaml", "name", "name"),  # point 4
    ("system.yaml", "intended_purpose", "intended_purpose"),  # point 5
    ("system.yaml", "software", "software"),  # point 5
    ("registration.yaml", "status", "status"),  # point 7
])
def test_section_a_facts_the_schemas_require_are_named_when_removed(file: str, key: str, property_: str,
                                                                    tmp_path: Path) -> None:
    project = _copy(CREDIT, tmp_path)
    _remove_key(project / file, key)
    found = [d for d in _diagnostics(project) if d["code"] == "TF201" and d["path"].endswith(file)]
    assert found and property_ in str(found[0]["message"])


def test_notified_body_points_apply_with_a_notified_body(tmp_path: Path) -> None:
    project = _copy(CREDIT, tmp_path)
    _set(project / "system.yaml", "procedure: annex-vi-internal-control", "procedure: annex-vii-notified-body")
    findings = _codes(project, "TF955")
    assert any("point 8 is missing" in m and "registration.yaml `certificate`" in m for m in findings)
    assert any("point 9 is missing" in m and "registration.yaml `certificate.copy`" in m for m in findings)
    (project / "registration.yaml").write_text((project / "registration.yaml").read_text(encoding="utf-8") + (
        "certificate:\n  type: EU technical documentation assessment certificate\n  number: NB-0001\n"
        '  expires: "2030-11-01"\n  notified_body: Example Notified Body, number 9999\n'), encoding="utf-8")
    findings = _codes(project, "TF955")
    assert not any("point 8 is missing" in m for m in findings) and any("point 9 is missing" in m for m in findings)


def test_point_13_is_optional(tmp_path: Path) -> None:
    project = _copy(CREDIT, tmp_path)
    _remove_key(project / "registration.yaml", "information_url")
    assert not _codes(project, "TF955")
    points = _points(_markdown(project, tmp_path, "eu-database-registration"), "A")
    assert points["13"].startswith("Not applicable: optional point")


def _section_b(tmp_path: Path) -> Path:
    project = _copy(CREDIT, tmp_path)
    system = project / "system.yaml"
    _set(system, 'use_case: "5.b"', 'use_case: "4.a"')
    _set(system, "    claimed: false\n    profiling: true", "    claimed: true\n    condition: a\n    profiling: false")
    return project


def test_an_art_6_3_system_registers_under_section_b(tmp_path: Path) -> None:
    project = _section_b(tmp_path)
    loaded = load_project(project)
    assert registration_sections(loaded.project).sections == ("b",)
    points = _points(_markdown(project, tmp_path, "eu-database-registration"), "B")
    assert list(points) == [str(n) for n in range(1, 10)]
    assert all("MISSING" not in body for body in points.values())
    assert "Art. 6(3)(a)" in points["6"]
    _remove_key(project / "system.yaml", "justification", "    ")
    findings = _codes(project, "TF955")
    assert len(findings) == 1 and findings[0].startswith("Annex VIII, Section B, point 7 is missing")
    assert "`classification.derogation_art_6_3.justification`" in findings[0]


def _section_c(tmp_path: Path) -> Path:
    project = _copy(CREDIT, tmp_path)
    _set(project / "system.yaml", 'use_case: "5.b"', 'use_case: "5.a"')
    _set(project / "techfile.yaml", "    kind: private\n", "    kind: public-authority\n    name: Stadt Musterheim, Sozialamt\n"
         "    address: Rathausplatz 1, 12345 Musterheim, Germany\n    contact: ki@musterheim.example\n")
    (project / "registration.yaml").write_text((project / "registration.yaml").read_text(encoding="utf-8")
                                               + "provider_entry_url: https://ai-database.example/entry/123\n",
                                               encoding="utf-8")
    return project


def test_a_public_authority_deployer_registers_under_section_c(tmp_path: Path) -> None:
    project = _section_c(tmp_path)
    assert registration_sections(load_project(project).project).sections == ("a", "c")
    markdown = _markdown(project, tmp_path, "eu-database-registration")
    points = _points(markdown, "C")
    assert list(points) == ["1", "2", "3", "4", "5"]
    assert all("MISSING" not in body for body in points.values())
    assert "Stadt Musterheim" in points["1"] and "older applicants" in points["4"]


@pytest.mark.parametrize(("point", "file", "key", "indent", "names"), [
    ("1", "techfile.yaml", "contact", "  ", "techfile.yaml `eu_ai_act.deployer.contact`"),
    ("3", "registration.yaml", "provider_entry_url", "", "registration.yaml `provider_entry_url`"),
    ("4", "fria.yaml", "findings_summary", "", "fria.yaml `findings_summary`"),
    ("5", "fria.yaml", "dpia", "", "fria.yaml `dpia`"),
])
def test_a_section_c_fact_removed_is_missing_and_check_names_it(point: str, file: str, key: str, indent: str,
                                                              names: str, tmp_path: Path) -> None:
    project = _section_c(tmp_path)
    if file == "techfile.yaml":  # the deployer's contact, not the provider's
        _set(project / file, "    contact: ki@musterheim.example\n", "")
    else:
        _remove_key(project / file, key, indent)
    findings = [m for m in _codes(project, "TF955") if m.startswith(f"Annex VIII, Section C, point {point} is missing")]
    assert len(findings) == 1 and names in findings[0], findings


# --- techfile export eu-database ---------------------------------------------------------------------------------


def _export(project: Path) -> dict[str, object]:
    result = run_cli("export", "eu-database", str(project))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_export_validates_and_carries_every_section_a_field(tmp_path: Path) -> None:
    project = _copy(CREDIT, tmp_path)
    data = _export(project)
    schema = json.loads((SCHEMAS / "eu-database-export.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert not list(Draft202012Validator(schema).iter_errors(data))
    (tmp_path / "export.json").write_text(json.dumps(data), encoding="utf-8")
    tool = Path(sys.executable).parent / "check-jsonschema"  # an independent validator
    checked = subprocess.run([str(tool), "--schemafile", str(SCHEMAS / "eu-database-export.schema.json"),
                              str(tmp_path / "export.json")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert data["registration"]["sections"] == ["A"] and data["assessed_on"] == "2026-11-20"
    (section,) = data["sections"]
    table = load_catalogue("registration_sources")
    assert [p["point"] for p in section["points"]] == [str(n) for n in range(1, 14)]
    for point in section["points"]:
        entry = table[point["id"]]
        assert [f["source"] for f in point["fields"]][:len(entry["needs"])] == [
            _source(f) for f in entry["needs"]]
        if point["status"] == "filled":
            assert all(f["status"] == "given" and f["value"] not in (None, "") for f in point["fields"][:len(entry["needs"])])
    statuses = {p["point"]: p["status"] for p in section["points"]}
    assert statuses == {**{str(n): "filled" for n in range(1, 14)}, "3": "not applicable", "8": "not applicable",
                        "9": "not applicable"}
    provider = section["points"][0]["fields"][0]["value"]
    assert provider["name"] == "Nordbank AG" and provider["contact"] == "ai-compliance@nordbank.example"
    assert run_cli("export", "eu-database", str(project)).output == run_cli("export", "eu-database", str(project)).output


def _source(fact: str) -> str:
    from techfile.assess.completeness import fact_source

    return fact_source(load_project(CREDIT).project, fact)


def test_the_export_marks_unknown_fields_missing(tmp_path: Path) -> None:
    project = _copy(CREDIT, tmp_path)
    _remove_key(project / "registration.yaml", "operating_logic")
    point = next(p for p in _export(project)["sections"][0]["points"] if p["point"] == "6")  # type: ignore[index]
    assert point["status"] == "missing"
    assert point["fields"][0] == {"source": "registration.yaml `operating_logic`", "status": "missing", "value": None}


def test_the_sample_registers_nothing(tmp_path: Path) -> None:
    data = _export(_copy(SAMPLE, tmp_path))
    assert data["registration"]["required"] is False and data["sections"] == []
    assert "Annex I product (Art. 6(1))" in data["registration"]["reasons"][0]


# --- serious incidents and their clocks (Art. 73) -----------------------------------------------------------------


CATEGORIES = [  # (category, widespread infringement, days, provision)
    ("death", False, 10, "Art. 73(4)"),
    ("health", False, 15, "Art. 73(2)"),
    ("critical-infrastructure", False, 2, "Art. 73(3)"),
    ("fundamental-rights", False, 15, "Art. 73(2)"),
    ("property-or-environment", False, 15, "Art. 73(2)"),
    ("health", True, 2, "Art. 73(3)"),  # a widespread infringement
]
# (case, deadline relative to the assessment date, expected code)
WHEN = [("past", -1, "TF950"), ("today", 0, "TF951"), ("within-48-hours", 2, "TF951"), ("later", 3, None)]


def _incident(project: Path, category: str, aware: dt.date, widespread: bool = False, reports: str = "") -> None:
    (project / "incidents").mkdir(exist_ok=True)
    (project / "incidents" / "inc-test.yaml").write_text(
        f'id: inc-test\ntitle: Test incident\naware_on: "{aware}"\ncategory: {category}\nstatus: open\n'
        + ("widespread_infringement: true\n" if widespread else "") + reports, encoding="utf-8")


@pytest.mark.parametrize(("category", "widespread", "days", "provision"), CATEGORIES,
                         ids=[f"{c}{'-widespread' if w else ''}" for c, w, _, _ in CATEGORIES])
@pytest.mark.parametrize(("case", "offset", "code"), WHEN, ids=[w[0] for w in WHEN])
def test_incident_clocks(category: str, widespread: bool, days: int, provision: str, case: str, offset: int,
                         code: str | None, tmp_path: Path) -> None:
    project = _copy(CREDIT, tmp_path)
    today = _today(project)
    deadline = today + dt.timedelta(days=offset)
    aware = deadline - dt.timedelta(days=days)
    _incident(project, category, aware, widespread)
    found = [d for d in _diagnostics(project) if d["code"] in ("TF950", "TF951")]
    if code is None:
        assert found == []
        return
    assert [d["code"] for d in found] == [code]
    message = str(found[0]["message"])
    assert f"the report under {provision} " in message and f"due on {deadline}, {days} days after awareness on {aware}" in message
    assert found[0]["severity"] == ("error" if code == "TF950" else "warning")
    assert found[0]["path"].endswith("incidents/inc-test.yaml")


def test_a_reported_incident_has_no_clock_finding(tmp_path: Path) -> None:
    project = _copy(CREDIT, tmp_path)
    aware = _today(project) - dt.timedelta(days=30)
    _incident(project, "death", aware, reports=f'reports:\n  - {{kind: initial, authority: BaFin, date: "{aware}"}}\n')
    assert not [d for d in _diagnostics(project) if d["code"] in ("TF950", "TF951")]


def test_medical_devices_report_only_fundamental_rights_incidents_under_the_ai_act(tmp_path: Path) -> None:
    """Art. 73(10): the other serious incidents of an MDR device go through MDR vigilance (the sectoral report)."""
    project = _copy(SAMPLE, tmp_path)
    assert reporting_route(load_project(project).project).provision == "art_73.10"
    aware = _today(project) - dt.timedelta(days=40)
    _incident(project, "death", aware)
    diagnostics = _diagnostics(project)
    assert not [d for d in diagnostics if d["code"] in ("TF950", "TF951")]
    sectoral = [d for d in diagnostics if d["code"] == "TF958" and "sectoral report is not recorded" in str(d["message"])]
    assert len(sectoral) == 1 and "Regulation (EU) 2017/745" in str(sectoral[0]["message"])
    _incident(project, "fundamental-rights", aware)
    overdue = [d for d in _diagnostics(project) if d["code"] == "TF950"]
    assert len(overdue) == 1 and "national competent authority" in str(overdue[0]["hint"])
    assert f"due on {aware + dt.timedelta(days=15)}" in str(overdue[0]["message"])


def test_equivalent_sectoral_reporting_limits_ai_act_reports(tmp_path: Path) -> None:
    """Art. 73(9): an Annex III provider under equivalent Union reporting obligations (declared in monitoring.yaml)."""
    project = _copy(CREDIT, tmp_path)
    (project / "monitoring.yaml").write_text((project / "monitoring.yaml").read_text(encoding="utf-8") + (
        "sectoral_reporting:\n  legislation: Regulation (EU) 2022/2554 (DORA)\n"
        "  justification: Major ICT-related incidents are reported to BaFin under DORA.\n"), encoding="utf-8")
    assert reporting_route(load_project(project).project).provision == "art_73.9"
    aware = _today(project) - dt.timedelta(days=40)
    _incident(project, "health", aware)
    assert not _codes(project, "TF950")
    _incident(project, "fundamental-rights", aware)
    assert len(_codes(project, "TF950")) == 1


def test_the_sample_has_a_monitoring_plan_two_reviews_and_a_closed_mdr_incident() -> None:
    loaded = load_project(SAMPLE)
    project = loaded.project
    assert project.monitoring is not None and len(project.monitoring_reviews) == 2
    (incident,) = project.incidents
    assert incident.status == "closed" and [r.regime for r in incident.reports] == ["mdr", "mdr"]
    assert reporting_route(project).provision == "art_73.10"
    assert not [d for d in loaded.diagnostics if d.code.startswith("TF95")]


def test_the_incident_report_follows_the_draft_template(tmp_path: Path) -> None:
    project = _copy(SAMPLE, tmp_path)
    markdown = _markdown(project, tmp_path, "incident-reports", "inc-2026-001")
    headings = re.findall(r"^#{2,4} ((?:Section|Field) [\d.]+):", markdown, re.MULTILINE)
    assert headings == ["Section 1", "Field 1.1", "Field 1.2", "Field 1.3", "Field 1.3.5", "Section 2", "Section 3",
                        "Field 3.1", "Field 3.2", "Field 3.3", "Section 4", "Field 4.1", "Field 4.2", "Section 5"]
    assert 'draft "Incident Report for Serious Incidents under the AI Act (High-risk AI systems)", version 1.0.0' in markdown
    assert "not required: Art. 73(10) limits reports under the AI Act to Art. 3(49)(c) incidents" in markdown
    assert "BfArM 0426/26-MIR" in markdown and "MISSING" not in markdown


def test_an_incident_report_marks_each_missing_fact(tmp_path: Path) -> None:
    project = _copy(SAMPLE, tmp_path)
    incident = project / "incidents" / "inc-2026-001.yaml"
    for key in ("causal_analysis", "system_version"):
        _remove_key(incident, key)
    findings = _codes(project, "TF958")
    assert len(findings) == 2 and all("incident 'inc-2026-001'" in m for m in findings)
    markdown = _markdown(project, tmp_path, "incident-reports", "inc-2026-001")
    assert "**MISSING:** 4.2 Cause investigation" in markdown and "**MISSING:** 2.2 The version involved" in markdown


# --- the post-market monitoring plan and its reviews (Art. 72) -----------------------------------------------------


def test_a_monitoring_review_overdue_by_the_plan_frequency_warns(tmp_path: Path) -> None:
    project = _copy(CREDIT, tmp_path)
    assert not _codes(project, "TF952")  # plan of 2026-11-16, quarterly: first review due 2027-02-16
    _set(project / "monitoring.yaml", 'date: "2026-11-16"', 'date: "2026-06-01"')
    findings = [d for d in _diagnostics(project) if d["code"] == "TF952"]
    assert len(findings) == 1 and findings[0]["severity"] == "warning"
    assert "was due on 2026-09-01 (quarterly, counted from the plan took effect" in str(findings[0]["message"])
    assert "80 days overdue (assessed on 2026-11-20)" in str(findings[0]["message"])
    (project / "monitoring").mkdir()
    (project / "monitoring" / "review-2026-q3.yaml").write_text(
        'id: review-2026-q3\ndate: "2026-09-10"\nperiod: {start: "2026-06-01", end: "2026-08-31"}\n'
        "reviewed_by: Model Committee\nverdict: within-limits\n", encoding="utf-8")
    assert not _codes(project, "TF952")  # next due 2026-12-10


def test_review_intervals_follow_the_calendar() -> None:
    assert add_interval(dt.date(2026, 1, 31), "monthly") == dt.date(2026, 2, 28)
    assert add_interval(dt.date(2026, 11, 30), "quarterly") == dt.date(2027, 2, 28)
    assert add_interval(dt.date(2026, 3, 1), "weekly") == dt.date(2026, 3, 8)
    assert add_interval(dt.date(2024, 2, 29), "yearly") == dt.date(2025, 2, 28)


def test_a_figure_below_threshold_contradicts_a_within_limits_verdict(tmp_path: Path) -> None:
    project = _copy(SAMPLE, tmp_path)
    _set(project / "monitoring" / "pms-review-2026-q3.yaml", "{indicator: input-drift-psi, value: 0.11",
         "{indicator: input-drift-psi, value: 0.25")
    findings = _codes(project, "TF959")
    assert findings == ["review 'pms-review-2026-q3' records the verdict within-limits, but indicator 'input-drift-psi' "
                        "is 0.25, above its threshold 0.2"]


def test_indicators_take_the_declared_threshold_of_the_model_metric(tmp_path: Path) -> None:
    markdown = _markdown(_copy(SAMPLE, tmp_path), tmp_path, "pms-plan")
    row = next(line for line in markdown.splitlines() if "(`nodule-field-sensitivity`)" in line)
    assert "| 0.85 |" in row and "declared for metric sensitivity of model nodule-detector" in row


@pytest.mark.parametrize("element", [e["field"] for e in load_catalogue("post_market")["monitoring_plan_elements"]])
def test_a_plan_element_removed_is_missing_and_check_names_it(element: str, tmp_path: Path) -> None:
    project = _copy(SAMPLE, tmp_path)
    _remove_key(project / "monitoring.yaml", element)
    if element == "indicators":  # the reviews' figures name them
        shutil.rmtree(project / "monitoring")
    findings = [d for d in _diagnostics(project) if d["code"] == "TF956"]  # the sample is high-risk: an error
    assert len(findings) == 1 and f"Add `{element}` to monitoring.yaml." == findings[0]["hint"]
    markdown = _markdown(project, tmp_path, "pms-plan")
    assert f"monitoring.yaml \\`{element.replace('_', chr(92) + '_')}\\`" in markdown  # the MISSING marker's hint
    assert str(findings[0]["message"]) in markdown.replace("\\", "")


def test_the_technical_file_links_point_9_to_the_plan(tmp_path: Path) -> None:
    markdown = _markdown(_copy(SAMPLE, tmp_path), tmp_path, "technical-file")
    point_9 = _section(markdown, "Annex IV, point 9:")
    assert "[Post-market monitoring plan](thoravis-cxr-pms-plan.md)" in point_9
    assert "It gives 8 of the 8 elements of a plan" in point_9


# --- one assessment: check reports exactly the post-market gaps the documents show ---------------------------------


def test_check_reports_the_post_market_gaps_the_documents_show(tmp_path: Path) -> None:
    project = _copy(SAMPLE, tmp_path)
    _remove_key(project / "monitoring.yaml", "reviewer")
    _remove_key(project / "incidents" / "inc-2026-001.yaml", "description")
    _set(project / "monitoring.yaml", "review_frequency: quarterly", "review_frequency: weekly")
    _set(project / "monitoring" / "pms-review-2026-q3.yaml", 'date: "2026-10-08"', 'date: "2026-10-01"')  # overdue
    _set(project / "monitoring" / "pms-review-2026-q3.yaml", "{indicator: mark-dismiss-rate, value: 0.31",
         "{indicator: mark-dismiss-rate, value: 0.45")
    result = build(project, tmp_path / "out", site=False, pdf=False)
    shown = {g.message for d in result.documents for g in d.gaps if g.code.startswith("TF95")}
    reported = {str(d["message"]) for d in _diagnostics(project) if str(d["code"]).startswith("TF95")}
    assert shown == reported and {m.split(" ", 1)[0] for m in shown} >= {"the", "incident", "review"}
    assert len(shown) == 4


def test_the_credit_template_requires_and_builds_its_fria(tmp_path: Path) -> None:
    project = tmp_path / "credit"
    assert run_cli("init", str(project), "--template", "credit").exit_code == 0
    loaded = load_project(project)
    assert not loaded.diagnostics
    assert fria_requirement(loaded.project).applies
    result = build(project, tmp_path / "out", only={"fria"}, site=False)
    (document,) = result.documents[1:]
    assert document.kind == "fria" and not document.gaps
    text = subprocess.run(["pdftotext", str(tmp_path / "out" / "pdf" / f"{document.id}.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    for element in ("Art. 27(1)(a)", "Art. 27(1)(f)", "Art. 27(3)", "BaFin-KI-2026-0193"):
        assert element in text
