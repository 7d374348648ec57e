"""EU AI Act classification: one test per branch, each asserting the outcome and the deciding provision."""

from __future__ import annotations

import dataclasses
import json

import pytest

from techfile import load_project
from techfile.assess.classification import HIGH_RISK, MINIMAL, PROHIBITED, TRANSPARENCY, classify
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.project import (
    AnnexIIIUse,
    AnnexIProduct,
    Derogation,
    ProhibitedPracticesScreening,
    System,
    TransparencyFacts,
)

from conftest import SAMPLE, run_cli

NO_TRANSPARENCY = TransparencyFacts(False, False, False, False)


@pytest.fixture(scope="module")
def sample_system() -> System:
    system = load_project(str(SAMPLE)).project.system
    assert system is not None
    return system


def with_facts(system: System, **changes: object) -> System:
    """The sample system with a plain, minimal-risk classification, then `changes` applied."""
    facts = dataclasses.replace(
        system.classification,
        annex_i_product=AnnexIProduct(applies=False),
        annex_iii=AnnexIIIUse(applies=False),
        prohibited_practices_screening=ProhibitedPracticesScreening(screened=True, practices_found=[]),
        derogation_art_6_3=None,
        transparency_art_50=NO_TRANSPARENCY,
    )
    return dataclasses.replace(system, classification=dataclasses.replace(facts, **changes))


ART_5 = [item.id for item in eu_ai_act().section("article_5") if item.parent is None]
ANNEX_III = [item.id for item in eu_ai_act().section("annex_iii") if item.parent is not None]


def test_there_are_eight_practices_and_twenty_five_use_cases() -> None:
    assert len(ART_5) == 8 and len(ANNEX_III) == 25


@pytest.mark.parametrize("practice", ART_5)
def test_each_prohibited_practice(sample_system: System, practice: str) -> None:
    outcome = classify(with_facts(sample_system, prohibited_practices_screening=ProhibitedPracticesScreening(True, [practice])))
    assert outcome.risk_class == PROHIBITED
    assert outcome.deciding_ref == eu_ai_act().ref(practice)
    assert outcome.required_documents == []


def test_annex_i_product_with_third_party_assessment(sample_system: System) -> None:
    product = AnnexIProduct(applies=True, legislation="Regulation (EU) 2017/745", product="software", third_party_assessment=True)
    outcome = classify(with_facts(sample_system, annex_i_product=product))
    assert (outcome.risk_class, outcome.deciding_ref) == (HIGH_RISK, "Art. 6(1)")
    assert "Art. 43(3)" in outcome.conformity_assessment
    assert "technical-file" in outcome.required_documents
    assert outcome.dates[0][0] == "2027-08-02"


def test_annex_i_product_without_third_party_assessment_is_not_high_risk(sample_system: System) -> None:
    product = AnnexIProduct(applies=True, legislation="Directive 2009/48/EC", third_party_assessment=False)
    outcome = classify(with_facts(sample_system, annex_i_product=product))
    assert outcome.risk_class == MINIMAL


@pytest.mark.parametrize("use_case", ANNEX_III)
def test_each_annex_iii_use_case(sample_system: System, use_case: str) -> None:
    written = use_case.removeprefix("annex_iii.").replace(".use", "")
    outcome = classify(with_facts(sample_system, annex_iii=AnnexIIIUse(applies=True, use_case=written)))
    assert (outcome.risk_class, outcome.deciding_ref, outcome.route) == (HIGH_RISK, "Art. 6(2)", "Art. 6(2)")
    expected_route = "Annex VII" if written.startswith("1") else "Annex VI"
    assert expected_route in outcome.conformity_assessment
    assert outcome.dates[0][0] == "2026-08-02"


@pytest.mark.parametrize("condition", ["a", "b", "c", "d"])
def test_art_6_3_derogation(sample_system: System, condition: str) -> None:
    outcome = classify(with_facts(sample_system, annex_iii=AnnexIIIUse(True, "4.a"),
                                  derogation_art_6_3=Derogation(True, condition, False, "Only a narrow procedural task.")))
    assert outcome.risk_class == MINIMAL
    assert outcome.deciding_ref == f"Art. 6(3)({condition})"
    assert any("Art. 6(4)" in caveat for caveat in outcome.caveats)


def test_profiling_exception_keeps_the_system_high_risk(sample_system: System) -> None:
    outcome = classify(with_facts(sample_system, annex_iii=AnnexIIIUse(True, "4.a"),
                                  derogation_art_6_3=Derogation(True, "d", True, "Preparatory task.")))
    assert (outcome.risk_class, outcome.deciding_ref) == (HIGH_RISK, "Art. 6(3), third subparagraph")


@pytest.mark.parametrize("flag, ref", [
    ("interacts_with_persons", "Art. 50(1)"), ("synthetic_content", "Art. 50(2)"),
    ("emotion_recognition_or_biometric_categorisation", "Art. 50(3)"), ("deep_fake", "Art. 50(4)"),
])
def test_transparency_cases(sample_system: System, flag: str, ref: str) -> None:
    facts = dataclasses.replace(NO_TRANSPARENCY, **{flag: True})
    outcome = classify(with_facts(sample_system, transparency_art_50=facts))
    assert (outcome.risk_class, outcome.deciding_ref) == (TRANSPARENCY, "Art. 50")
    assert any(ref in t for t in outcome.transparency_obligations)


def test_high_risk_with_transparency_obligations_too(sample_system: System) -> None:
    outcome = classify(with_facts(sample_system, annex_iii=AnnexIIIUse(True, "3.b"),
                                  transparency_art_50=dataclasses.replace(NO_TRANSPARENCY, interacts_with_persons=True)))
    assert outcome.risk_class == HIGH_RISK and any(o.ref == "Art. 50" for o in outcome.obligations)


def test_minimal_risk(sample_system: System) -> None:
    outcome = classify(with_facts(sample_system))
    assert (outcome.risk_class, outcome.route) == (MINIMAL, "")
    assert outcome.obligations == []


def test_unscreened_system_carries_a_caveat(sample_system: System) -> None:
    outcome = classify(with_facts(sample_system, prohibited_practices_screening=ProhibitedPracticesScreening(False, [])))
    assert outcome.risk_class == MINIMAL and outcome.caveats


def test_classify_command_on_the_sample() -> None:
    result = run_cli("classify", str(SAMPLE))
    assert result.exit_code == 0, result.output
    assert "HIGH-RISK (decided by Art. 6(1))" in result.output
    assert "Notified Body" in result.output and "Art. 43(3)" in result.output
    payload = json.loads(run_cli("classify", str(SAMPLE), "--format", "json").output)
    assert payload["risk_class"] == "high-risk" and payload["route"] == "Art. 6(1)"
    assert "technical-file" in payload["required_documents"]
