"""EU AI Act classification, one case per provision, derived from the text of Regulation (EU) 2024/1689 as amended:
Art. 5 (each practice, incl. the points added in 2026), Art. 6(1) with Annex I Sections A and B, Art. 6(2) with each
Annex III use case and each exclusion, Art. 6(3) (each condition and the profiling rule), Art. 50 (each paragraph),
high-risk and Art. 50 together, and general-purpose models (Art. 51)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from techfile import load_project
from techfile.assess.classification import HIGH_RISK, MINIMAL, PROHIBITED, TRANSPARENCY, classify
from techfile.assess.obligations import eu_ai_act_report
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.project import (
    AnnexIIIUse,
    AnnexIProduct,
    Derogation,
    GpaiModel,
    ProhibitedPracticesScreening,
    Project,
    System,
    TransparencyFacts,
)

from conftest import SAMPLE, run_cli

BASE = Path(__file__).parent / "bad_inputs" / "_base"
NO_TRANSPARENCY = TransparencyFacts(False, False, False, False)
ACT = eu_ai_act()
ART_5 = [item.id for item in ACT.section("article_5") if item.parent is None]
ANNEX_III = [item.id for item in ACT.section("annex_iii") if item.parent is not None]
EXCLUSIONS = [item.id for item in ACT.section("annex_iii") if item.get("exclusion")]


@pytest.fixture(scope="module")
def base() -> Project:
    result = load_project(str(BASE))
    assert result.diagnostics == [], result.diagnostics
    return result.project


def with_facts(project: Project, **changes: object) -> Project:
    """The base project with a plain, minimal-risk classification, then `changes` applied."""
    assert project.system is not None
    facts = dataclasses.replace(
        project.system.classification,
        annex_i_product=AnnexIProduct(applies=False),
        annex_iii=AnnexIIIUse(applies=False),
        prohibited_practices_screening=ProhibitedPracticesScreening(screened=True, practices_found=[]),
        derogation_art_6_3=None,
        transparency_art_50=NO_TRANSPARENCY,
    )
    system = dataclasses.replace(project.system, classification=dataclasses.replace(facts, **changes))
    return dataclasses.replace(project, system=system)


def system_of(project: Project) -> System:
    assert project.system is not None
    return project.system


def written(use_case_id: str) -> str:
    return use_case_id.removeprefix("annex_iii.").replace(".use", "")


def annex_iii(*cases: str) -> AnnexIIIUse:
    return AnnexIIIUse(applies=True, use_cases=list(cases))


# --- Art. 5: every practice, as amended -------------------------------------------------------------------------


def test_there_are_ten_practices_and_twenty_five_use_cases() -> None:
    assert len(ART_5) == 10 and len(ANNEX_III) == 25 and len(EXCLUSIONS) == 4


@pytest.mark.parametrize("practice", ART_5)
def test_each_prohibited_practice(base: Project, practice: str) -> None:
    project = with_facts(base, prohibited_practices_screening=ProhibitedPracticesScreening(True, [practice]),
                         annex_iii=annex_iii("4.a"))
    report = eu_ai_act_report(project, dt.date(2027, 1, 1))
    outcome = report.classification
    assert (outcome.risk_class, outcome.deciding_ref) == (PROHIBITED, ACT.ref(practice))
    assert outcome.steps[0].decisive and outcome.required_documents == []
    assert [o.id for o in report.obligations] == ["art_5"], "a prohibited system carries the ban, nothing else"
    assert report.obligations[0].ref == ACT.ref(practice)
    new = practice in ("art_5.1.ba", "art_5.1.bb")
    assert report.obligations[0].applies_from == (dt.date(2026, 12, 2) if new else dt.date(2025, 2, 2))
    assert report.obligations[0].reported == new


@pytest.mark.parametrize("practice, before, after", [("art_5.1.ba", "2026-12-01", "2026-12-02"),
                                                     ("art_5.1.a", "2025-02-01", "2025-02-02")])
def test_prohibitions_apply_from_their_date(base: Project, practice: str, before: str, after: str) -> None:
    project = with_facts(base, prohibited_practices_screening=ProhibitedPracticesScreening(True, [practice]))
    early, late = (eu_ai_act_report(project, dt.date.fromisoformat(d)).obligations[0] for d in (before, after))
    assert (early.status, late.status) == ("applies from", "applies")
    assert eu_ai_act_report(project, dt.date.fromisoformat(before)).classification.risk_class == PROHIBITED



# --- Art. 6(1) and Annex I -----------------------------------------------------------------------------------------


def test_annex_i_section_a_with_third_party_assessment(base: Project) -> None:
    product = AnnexIProduct(applies=True, act="2014/33", product="lift controller", third_party_assessment=True,
                            kind="safety-component", safety_function=True)
    report = eu_ai_act_report(with_facts(base, annex_i_product=product), dt.date(2028, 8, 2))
    outcome = report.classification
    assert outcome.risk_class == HIGH_RISK and outcome.route_key == "annex-i-a"
    assert outcome.deciding_ref == "Art. 6(1), Annex I, Section A, point 4 (Directive 2014/33/EU)"
    assert "Art. 43(3)" in outcome.conformity_assessment
    art_9 = next(o for o in report.obligations if o.id == "art_9")
    assert art_9.applies_from == dt.date(2028, 8, 2) and "2026/1744" in art_9.legal_basis and art_9.superseded.startswith("2027-08-02")


def test_annex_i_section_a_without_third_party_assessment(base: Project) -> None:
    product = AnnexIProduct(applies=True, act="2009/48", product="talking toy", third_party_assessment=False)
    outcome = classify(system_of(with_facts(base, annex_i_product=product)))
    assert (outcome.risk_class, outcome.deciding_ref) == (MINIMAL, "Art. 6(1)(b)")
    assert [s.ref for s in outcome.steps if s.decisive] == ["Art. 6(1)(b)"]


def test_annex_i_section_b_only_art_2_2(base: Project) -> None:
    product = AnnexIProduct(applies=True, legislation="Regulation (EU) 2018/858 (motor vehicles)", third_party_assessment=True)
    report = eu_ai_act_report(with_facts(base, annex_i_product=product), dt.date(2029, 1, 1))
    outcome = report.classification
    assert outcome.risk_class == HIGH_RISK and outcome.route_key == "annex-i-b" and outcome.annex_i_section == "B"
    assert outcome.deciding_ref == "Art. 6(1), Annex I, Section B, point 18 (Regulation (EU) 2018/858)"
    assert [o.id for o in report.obligations] == ["art_2.2"]
    assert "Art. 2(2)" in outcome.conformity_assessment


def test_safety_component_without_safety_function_is_not_high_risk(base: Project) -> None:
    product = AnnexIProduct(applies=True, act="2014/33", third_party_assessment=True, kind="safety-component",
                            safety_function=False)
    outcome = classify(system_of(with_facts(base, annex_i_product=product)))
    assert (outcome.risk_class, outcome.deciding_ref) == (MINIMAL, "Art. 6(1)(a)")


def test_machinery_is_section_b_as_reported(base: Project) -> None:
    for act in ("2023/1230", "2006/42"):
        product = AnnexIProduct(applies=True, act=act, third_party_assessment=True)
        outcome = classify(system_of(with_facts(base, annex_i_product=product)))
        assert (outcome.route_key, outcome.annex_i_point) == ("annex-i-b", "annex_i.21"), act
    assert any("reported" in c for c in outcome.caveats)


def test_section_stated_against_the_act_is_an_error(base: Project) -> None:
    product = AnnexIProduct(applies=True, act="2017/745", section="B", third_party_assessment=True)
    outcome = classify(system_of(with_facts(base, annex_i_product=product)))
    assert [p.code for p in outcome.problems] == ["TF612"]


# --- Art. 6(2) and Annex III -------------------------------------------------------------------------------------


@pytest.mark.parametrize("use_case", ANNEX_III)
def test_each_annex_iii_use_case(base: Project, use_case: str) -> None:
    project = with_facts(base, annex_iii=AnnexIIIUse(applies=True, use_case=written(use_case)))
    report = eu_ai_act_report(project, dt.date(2028, 1, 1))
    outcome = report.classification
    assert (outcome.risk_class, outcome.route) == (HIGH_RISK, "Art. 6(2)")
    assert outcome.deciding_ref == f"Art. 6(2), {ACT.ref(use_case)}"
    assert ("Annex VII" if written(use_case).startswith("1") else "Annex VI") in outcome.conformity_assessment
    art_9 = next(o for o in report.obligations if o.id == "art_9")
    assert (art_9.applies_from, art_9.status) == (dt.date(2027, 12, 2), "applies")
    assert art_9.superseded.startswith("2026-08-02")
    registered = {o.id for o in report.obligations} & {"art_49.1", "art_49.5"}
    assert registered == ({"art_49.5"} if written(use_case) == "2" else {"art_49.1"})


def test_several_use_cases(base: Project) -> None:
    outcome = classify(system_of(with_facts(base, annex_iii=annex_iii("1.c", "4.b"))))
    assert outcome.deciding_ref == "Art. 6(2), Annex III, points 1(c), 4(b)"
    assert outcome.annex_iii_points == ["annex_iii.1.c", "annex_iii.4.b"] and "Art. 43(1)" in outcome.conformity_assessment


@pytest.mark.parametrize("exclusion", EXCLUSIONS)
def test_each_annex_iii_exclusion_decides(base: Project, exclusion: str) -> None:
    facts = AnnexIIIUse(applies=False, exclusions=[written(exclusion)])
    outcome = classify(system_of(with_facts(base, annex_iii=facts)))
    assert (outcome.risk_class, outcome.deciding_ref) == (MINIMAL, f"{ACT.ref(exclusion)} (exclusion)")
    assert outcome.annex_iii_exclusions == [exclusion] and outcome.decided


def test_an_exclusion_beside_another_use_case(base: Project) -> None:
    outcome = classify(system_of(with_facts(base, annex_iii=AnnexIIIUse(True, use_cases=["4.a"], exclusions=["5.b"]))))
    assert outcome.risk_class == HIGH_RISK and outcome.deciding_ref == "Art. 6(2), Annex III, point 4(a)"


def test_an_exclusion_that_annex_iii_does_not_have(base: Project) -> None:
    outcome = classify(system_of(with_facts(base, annex_iii=AnnexIIIUse(False, exclusions=["4.a"]))))
    assert [p.code for p in outcome.problems] == ["TF609"]


# --- Art. 6(3): each condition, and the profiling rule -----------------------------------------------------------


@pytest.mark.parametrize("condition", ["a", "b", "c", "d"])
def test_art_6_3_condition(base: Project, condition: str) -> None:
    project = with_facts(base, annex_iii=annex_iii("4.a"), derogation_art_6_3=Derogation(True, condition, False, "Only ranks files."))
    report = eu_ai_act_report(project, dt.date(2028, 1, 1))
    outcome = report.classification
    assert (outcome.risk_class, outcome.route_key) == (MINIMAL, "art-6-3")
    assert outcome.deciding_ref == f"Art. 6(3)({condition})"
    assert {"art_6.4", "art_49.2"} <= {o.id for o in report.obligations}
    assert not {"art_9", "art_43"} & {o.id for o in report.obligations}


def test_profiling_keeps_the_system_high_risk(base: Project) -> None:
    project = with_facts(base, annex_iii=annex_iii("4.a"), derogation_art_6_3=Derogation(True, "d", True, "Preparatory."))
    outcome = classify(system_of(project))
    assert (outcome.risk_class, outcome.deciding_ref) == (HIGH_RISK, "Art. 6(3), third subparagraph")
    assert outcome.profiling is True


def test_point_6_e_is_profiling_by_definition(base: Project) -> None:
    project = with_facts(base, annex_iii=annex_iii("6.e"), derogation_art_6_3=Derogation(True, "a", None, "Narrow."))
    outcome = classify(system_of(project))
    assert (outcome.risk_class, outcome.deciding_ref) == (HIGH_RISK, "Art. 6(3), third subparagraph") and outcome.decided
    stated = with_facts(base, annex_iii=annex_iii("6.e"), derogation_art_6_3=Derogation(True, "a", False, "Narrow."))
    assert [p.code for p in classify(system_of(stated)).problems] == ["TF617"]


def test_derogation_with_a_transparency_duty_is_a_transparency_system(base: Project) -> None:
    project = with_facts(base, annex_iii=annex_iii("3.b"), derogation_art_6_3=Derogation(True, "b", False, "Rewording."),
                         transparency_art_50=dataclasses.replace(NO_TRANSPARENCY, interacts_with_persons=True))
    outcome = classify(system_of(project))
    assert (outcome.risk_class, outcome.deciding_ref, outcome.route) == (TRANSPARENCY, "Art. 50(1)", "Art. 6(3)")


# --- Art. 50: each paragraph, and high-risk together with Art. 50 ---------------------------------------------------


@pytest.mark.parametrize("flag, item, role", [
    ("interacts_with_persons", "art_50.1", "provider"), ("synthetic_content", "art_50.2", "provider"),
    ("emotion_recognition_or_biometric_categorisation", "art_50.3", "deployer"), ("deep_fake", "art_50.4", "deployer"),
])
def test_each_transparency_case(base: Project, flag: str, item: str, role: str) -> None:
    project = with_facts(base, transparency_art_50=dataclasses.replace(NO_TRANSPARENCY, **{flag: True}))
    assert base.settings is not None
    project = dataclasses.replace(project, settings=dataclasses.replace(base.settings, role=["provider", "deployer"]))
    report = eu_ai_act_report(project, dt.date(2026, 8, 2))
    assert (report.classification.risk_class, report.classification.deciding_ref) == (TRANSPARENCY, ACT.ref(item))
    duty = next(o for o in report.obligations if o.id == item)
    assert (duty.role, duty.applies_from, duty.status) == (role, dt.date(2026, 8, 2), "applies")


def test_emotion_recognition_is_high_risk_and_art_50_3(base: Project) -> None:
    project = with_facts(base, annex_iii=annex_iii("1.c"),
                         transparency_art_50=dataclasses.replace(NO_TRANSPARENCY, emotion_recognition_or_biometric_categorisation=True))
    assert base.settings is not None
    project = dataclasses.replace(project, settings=dataclasses.replace(base.settings, role="deployer"))
    report = eu_ai_act_report(project, dt.date(2028, 1, 1))
    outcome = report.classification
    assert outcome.risk_class == HIGH_RISK and outcome.transparency == ["art_50.3"]
    assert outcome.headline == "HIGH-RISK (decided by Art. 6(2), Annex III, point 1(c); transparency obligations of Art. 50(3) too)"
    assert {"art_26", "art_50.3"} <= {o.id for o in report.obligations}


def test_emotion_recognition_with_art_50_3_denied_is_an_error(base: Project) -> None:
    outcome = classify(system_of(with_facts(base, annex_iii=annex_iii("1.c"))))
    assert [p.code for p in outcome.problems] == ["TF620"] and outcome.transparency == ["art_50.3"]


def test_plain_minimal_cites_no_provision_as_deciding(base: Project) -> None:
    outcome = classify(system_of(with_facts(base)))
    assert outcome.risk_class == MINIMAL and outcome.route_key == "none"
    assert not any(s.decisive for s in outcome.steps), "no step decides a minimal outcome"
    assert outcome.deciding_ref == "Art. 5, Art. 6 and Art. 50: none applies"


# --- general-purpose AI models (Art. 51-55) --------------------------------------------------------------------------


@pytest.mark.parametrize("model, systemic, ref", [
    (GpaiModel(systemic_risk=False, training_compute_flops=2.0e24), False, "Art. 51(1)"),
    (GpaiModel(training_compute_flops="3e25"), True, "Art. 51(2)"),
    (GpaiModel(systemic_risk=True), True, "Art. 51(1)(a)"),
    (GpaiModel(systemic_risk=False, designated_by_commission=True), True, "Art. 51(1)(b)"),
])
def test_gpai_systemic_risk(base: Project, model: GpaiModel, systemic: bool, ref: str) -> None:
    outcome = classify(system_of(with_facts(base, gpai_model=model)))
    assert outcome.gpai is not None and (outcome.gpai.systemic_risk, outcome.gpai.ref) == (systemic, ref)


def test_gpai_compute_above_the_presumption_denied_is_an_error(base: Project) -> None:
    outcome = classify(system_of(with_facts(base, gpai_model=GpaiModel(systemic_risk=False, training_compute_flops=4.0e25))))
    assert [p.code for p in outcome.problems] == ["TF623"]


# --- the command ---------------------------------------------------------------------------------------------------


def test_classify_command_on_the_sample_names_the_amended_annex_i_date() -> None:
    result = run_cli("classify", str(SAMPLE), "--as-of", "2026-12-01")
    assert result.exit_code == 0, result.output
    assert "HIGH-RISK (decided by Art. 6(1), Annex I, Section A, point 11 (Regulation (EU) 2017/745))" in result.output
    assert ("Applies from 2028-08-02 — Art. 113, third paragraph, point (c), as amended by Regulation (EU) 2026/1744, "
            "Art. 1(40)(b); reported by secondary sources") in result.output
    assert "replaces 2027-08-02 under Art. 113, third paragraph, point (c) (original text) (superseded)" in result.output
    payload = json.loads(run_cli("classify", str(SAMPLE), "--format", "json", "--as-of", "2026-12-01").output)
    assert payload["risk_class"] == "high-risk" and payload["route"] == "Art. 6(1)" and payload["annex_i_section"] == "A"
    assert "technical-file" in payload["required_documents"]
    art_11 = next(o for o in payload["obligations"] if o["id"] == "art_11")
    assert (art_11["applies_from"], art_11["status"], art_11["role"]) == ("2028-08-02", "applies from", "provider")


def test_classify_rejects_a_bad_date() -> None:
    result = run_cli("classify", str(SAMPLE), "--as-of", "2026-13-01")
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
