"""Obligations follow from class × role (Art. 4, 8-27, 43, 47-49, 50, 53, 55, 72, 73, 86), each from its date;
`item_applicability` tells whether an EU AI Act item applies to the project and why."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from techfile import load_project
from techfile.assess.obligations import eu_ai_act_report, item_applicability, obligations
from techfile.project import (
    AnnexIIIUse,
    AnnexIProduct,
    CalendarOverride,
    DeployerFacts,
    EuAiActSettings,
    GpaiModel,
    ProhibitedPracticesScreening,
    Project,
    TransitionalFacts,
    TransparencyFacts,
    ValueChain,
)

from conftest import SAMPLE

BASE = Path(__file__).parent / "bad_inputs" / "_base"
NO_TRANSPARENCY = TransparencyFacts(False, False, False, False)
LATER = dt.date(2031, 1, 1)
PROVIDER_HIGH_RISK = {"art_4", "art_8", "art_9", "art_10", "art_11", "art_12", "art_13", "art_14", "art_15", "art_16", "art_17",
                      "art_18", "art_19", "art_20", "art_21", "art_22.1", "art_25.2", "art_25.4", "art_43", "art_47", "art_48",
                      "art_72", "art_73"}


@pytest.fixture(scope="module")
def base() -> Project:
    return load_project(str(BASE)).project


def project(base: Project, role: str | list[str] = "provider", *, use_cases: tuple[str, ...] = (), annex_i: str | None = None,
            deployer: DeployerFacts | None = None, chain: ValueChain | None = None, overrides: tuple[CalendarOverride, ...] = (),
            established: bool | None = None, **facts: object) -> Project:
    """The base project with the given role(s) and classification facts."""
    assert base.system is not None and base.settings is not None
    product = AnnexIProduct(applies=True, act=annex_i, third_party_assessment=True) if annex_i else AnnexIProduct(applies=False)
    classification = dataclasses.replace(
        base.system.classification, annex_i_product=product,
        annex_iii=AnnexIIIUse(applies=bool(use_cases), use_cases=list(use_cases)),
        prohibited_practices_screening=ProhibitedPracticesScreening(True, []), **({"transparency_art_50": NO_TRANSPARENCY} | facts))
    settings = dataclasses.replace(base.settings, role=role, eu_ai_act=EuAiActSettings(
        deployer=deployer, value_chain=chain, established_in_union=established, calendar_overrides=list(overrides)))
    return dataclasses.replace(base, settings=settings, system=dataclasses.replace(base.system, classification=classification))


def ids(found: list) -> set[str]:
    return {o.id for o in found}


# --- each role ----------------------------------------------------------------------------------------------------


def test_provider_of_an_annex_iii_system(base: Project) -> None:
    found = obligations(project(base, use_cases=("4.a",)), LATER)
    assert ids(found) == PROVIDER_HIGH_RISK | {"art_43.2", "art_49.1"}
    assert {o.role for o in found} == {"provider"}
    conditional = {o.id for o in found if o.status == "conditional"}
    assert conditional == {"art_22.1", "art_25.2", "art_25.4"}, "facts the sources do not give stay conditional"


def test_provider_established_outside_the_union_appoints_a_representative(base: Project) -> None:
    found = {o.id: o for o in obligations(project(base, use_cases=("4.a",), established=False), LATER)}
    assert found["art_22.1"].status == "applies"
    inside = {o.id: o for o in obligations(project(base, use_cases=("4.a",), established=True), LATER)}
    assert "art_22.1" not in inside


def test_deployer_of_an_annex_iii_system(base: Project) -> None:
    found = obligations(project(base, "deployer", use_cases=("4.a",), deployer=DeployerFacts(kind="private", workplace_use=True)), LATER)
    assert ids(found) == {"art_4", "art_26", "art_26.7", "art_26.11", "art_86"}
    assert {o.role for o in found} == {"deployer"} and all(o.status == "applies" for o in found)


def test_deployer_of_an_annex_i_system(base: Project) -> None:
    found = obligations(project(base, "deployer", annex_i="2017/745", deployer=DeployerFacts(kind="private", workplace_use=False)), LATER)
    assert ids(found) == {"art_4", "art_26"}, "Art. 26(11), 27, 49(3) and 86 concern Annex III systems"


def test_importer(base: Project) -> None:
    assert ids(obligations(project(base, "importer", use_cases=("3.a",)), LATER)) == {"art_23"}


def test_distributor(base: Project) -> None:
    assert ids(obligations(project(base, "distributor", use_cases=("3.a",)), LATER)) == {"art_24"}


def test_authorised_representative(base: Project) -> None:
    assert ids(obligations(project(base, "authorised-representative", use_cases=("3.a",)), LATER)) == {"art_22.3"}


def test_product_manufacturer_becomes_the_provider_under_art_25_3(base: Project) -> None:
    found = obligations(project(base, "product-manufacturer", annex_i="2014/33", established=True), LATER)
    assert {"art_25.3", "art_9", "art_16", "art_43.3", "art_8.2", "art_11.2"} <= ids(found)
    assert next(o for o in found if o.id == "art_16").role_basis.startswith("Art. 25(3)")
    outside_section_a = obligations(project(base, "product-manufacturer", use_cases=("4.a",)), LATER)
    assert ids(outside_section_a) == set(), "Art. 25(3) concerns Annex I Section A products only"


def test_deployer_becomes_the_provider_under_art_25_1(base: Project) -> None:
    found = obligations(project(base, "deployer", use_cases=("4.a",), deployer=DeployerFacts(kind="private", workplace_use=False),
                                chain=ValueChain(own_name_or_trademark=True)), LATER)
    assert {"art_25.1", "art_26", "art_9", "art_16", "art_43"} <= ids(found)
    assert next(o for o in found if o.id == "art_9").role_basis.startswith("Art. 25(1)(a)")


def test_several_roles_add_up(base: Project) -> None:
    found = obligations(project(base, ["provider", "deployer"], use_cases=("4.a",), deployer=DeployerFacts(kind="private")), LATER)
    assert {("art_4", "provider"), ("art_4", "deployer"), ("art_9", "provider"), ("art_26", "deployer")} <= {(o.id, o.role) for o in found}


@pytest.mark.parametrize("model, expected", [
    (GpaiModel(systemic_risk=False), {"art_53.1.ab", "art_53.1.cd", "art_53.3"}),
    (GpaiModel(systemic_risk=True), {"art_53.1.ab", "art_53.1.cd", "art_53.3", "art_52.1", "art_55.1"}),
    (GpaiModel(systemic_risk=False, open_source=True), {"art_53.1.cd", "art_53.3"}),
    (GpaiModel(systemic_risk=True, open_source=True), {"art_53.1.ab", "art_53.1.cd", "art_53.3", "art_52.1", "art_55.1"}),
])
def test_gpai_model_provider(base: Project, model: GpaiModel, expected: set[str]) -> None:
    found = obligations(project(base, "gpai-model-provider", gpai_model=model), LATER)
    assert ids(found) == expected and all(o.applies_from == dt.date(2025, 8, 2) for o in found)


def test_gpai_model_placed_before_august_2025_has_until_2027(base: Project) -> None:
    found = obligations(project(base, "gpai-model-provider", gpai_model=GpaiModel(systemic_risk=False, placed_on_market="2025-03-01")), LATER)
    assert {o.applies_from for o in found} == {dt.date(2027, 8, 2)} and all("Art. 111(3)" in o.condition for o in found)


# --- the fundamental rights impact assessment and public bodies ----------------------------------------------------


@pytest.mark.parametrize("kind", ["public-authority", "union-institution", "body-governed-by-public-law",
                                  "private-entity-providing-public-services"])
def test_public_body_deployer_assesses_fundamental_rights(base: Project, kind: str) -> None:
    found = ids(obligations(project(base, "deployer", use_cases=("3.a",), deployer=DeployerFacts(kind=kind)), LATER))
    assert "art_27" in found
    registers = kind in ("public-authority", "union-institution")
    assert ("art_49.3" in found, "art_26.8" in found) == (registers, registers)


@pytest.mark.parametrize("use_case", ["5.b", "5.c"])
def test_private_deployer_of_credit_or_insurance_scoring_assesses_fundamental_rights(base: Project, use_case: str) -> None:
    found = obligations(project(base, "deployer", use_cases=(use_case,), deployer=DeployerFacts(kind="private")), LATER)
    fria = next(o for o in found if o.id == "art_27")
    assert "Art. 27(1)" in fria.reason and not {"art_49.3", "art_26.8"} & ids(found)


def test_private_deployer_of_other_annex_iii_systems_does_not(base: Project) -> None:
    assert "art_27" not in ids(obligations(project(base, "deployer", use_cases=("4.a",), deployer=DeployerFacts(kind="private")), LATER))


def test_critical_infrastructure_is_exempt_from_fria_and_eu_registration(base: Project) -> None:
    found = ids(obligations(project(base, ["provider", "deployer"], use_cases=("2",),
                                    deployer=DeployerFacts(kind="public-authority")), LATER))
    assert not {"art_27", "art_49.3", "art_49.1", "art_86", "art_26.8"} & found and "art_49.5" in found


def test_law_enforcement_systems_go_to_the_secure_section(base: Project) -> None:
    assert "art_49.4" in ids(obligations(project(base, use_cases=("6.c",)), LATER))


def test_remote_biometric_identification_logs_and_double_checks(base: Project) -> None:
    found = {o.id: o for o in obligations(project(base, ["provider", "deployer"], use_cases=("1.a",),
                                                  deployer=DeployerFacts(kind="public-authority")), LATER)}
    assert {"art_12.3", "art_14.5", "art_43.1"} <= set(found)
    assert found["art_26.10"].status == "conditional" and found["art_49.4"].status == "conditional"


# --- dates: the calendar, Art. 111, overrides ------------------------------------------------------------------------


@pytest.mark.parametrize("facts, rule, date", [
    ({"use_cases": ("4.a",)}, "art_9", dt.date(2027, 12, 2)),
    ({"annex_i": "2017/745"}, "art_9", dt.date(2028, 8, 2)),
    ({}, "art_4", dt.date(2025, 2, 2)),
    ({"transparency_art_50": TransparencyFacts(True, False, False, False)}, "art_50.1", dt.date(2026, 8, 2)),
    ({"gpai": True}, "art_53.1.cd", dt.date(2025, 8, 2)),
])
def test_as_of_before_and_after_each_date(base: Project, facts: dict, rule: str, date: dt.date) -> None:
    gpai = facts.pop("gpai", False)
    built = project(base, "gpai-model-provider" if gpai else "provider", gpai_model=GpaiModel(systemic_risk=False) if gpai else None,
                    **facts)
    day = dt.timedelta(days=1)
    before = next(o for o in obligations(built, date - day) if o.id == rule)
    after = next(o for o in obligations(built, date) if o.id == rule)
    assert (before.status, after.status) == ("applies from", "applies")
    assert before.applies_from == after.applies_from == date


def test_generative_system_already_on_the_market_marks_from_december_2026(base: Project) -> None:
    generative = TransparencyFacts(False, True, False, False)
    legacy = project(base, transparency_art_50=generative, transitional_art_111=TransitionalFacts(first_placed_on_market="2025-06-01"))
    mark = next(o for o in obligations(legacy, dt.date(2026, 9, 1)) if o.id == "art_50.2")
    assert (mark.applies_from, mark.status, mark.reported) == (dt.date(2026, 12, 2), "applies from", True)
    assert mark.superseded.startswith("2026-08-02") and "Art. 111(4)" in mark.legal_basis
    new = project(base, transparency_art_50=generative, transitional_art_111=TransitionalFacts(first_placed_on_market="2026-09-01"))
    assert next(o for o in obligations(new, dt.date(2026, 9, 1)) if o.id == "art_50.2").applies_from == dt.date(2026, 8, 2)


def test_legacy_high_risk_system_is_deferred_until_a_significant_change(base: Project) -> None:
    facts = TransitionalFacts(first_placed_on_market="2025-04-15", significant_design_change=False)
    found = {o.id: o for o in obligations(project(base, use_cases=("4.a",), transitional_art_111=facts), LATER)}
    assert found["art_9"].status == "deferred" and "Art. 111(2)" in found["art_9"].condition
    assert found["art_4"].status == "applies", "Art. 4 is no high-risk obligation"
    changed = TransitionalFacts(first_placed_on_market="2025-04-15", significant_design_change=True)
    assert next(o for o in obligations(project(base, use_cases=("4.a",), transitional_art_111=changed), LATER)
                if o.id == "art_9").status == "applies"


def test_legacy_system_for_public_authorities_complies_by_2030(base: Project) -> None:
    facts = TransitionalFacts(first_placed_on_market="2025-04-15", significant_design_change=False, intended_for_public_authorities=True)
    art_9 = next(o for o in obligations(project(base, use_cases=("5.a",), transitional_art_111=facts), LATER) if o.id == "art_9")
    assert art_9.applies_from == dt.date(2030, 8, 2) and art_9.status == "applies"


def test_annex_x_component_complies_by_end_of_2030(base: Project) -> None:
    facts = TransitionalFacts(first_placed_on_market="2025-04-15", annex_x_component=True)
    art_9 = next(o for o in obligations(project(base, use_cases=("7.b",), transitional_art_111=facts), LATER) if o.id == "art_9")
    assert art_9.applies_from == dt.date(2030, 12, 31) and "Art. 111(1)" in art_9.condition


def test_the_art_111_question_is_asked_when_the_market_date_is_missing(base: Project) -> None:
    report = eu_ai_act_report(project(base, use_cases=("4.a",)), LATER)
    assert any("Art. 111(2)" in q and "first_placed_on_market" in q for q in report.questions)


def test_project_override_of_a_calendar_entry(base: Project) -> None:
    override = CalendarOverride("apply.high_risk_annex_iii", "2027-06-01", "Contract with the public buyer requires compliance early.")
    art_9 = next(o for o in obligations(project(base, use_cases=("4.a",), overrides=(override,)), dt.date(2027, 7, 1)) if o.id == "art_9")
    assert (art_9.applies_from, art_9.status) == (dt.date(2027, 6, 1), "applies")
    assert "project override" in art_9.override and "2027-12-02" in art_9.override and "public buyer" in art_9.override


# --- item applicability, for the requirement-status model and coverage ------------------------------------------------


def test_item_applicability_gives_the_reason(base: Project) -> None:
    deployer = project(base, "deployer", use_cases=("4.a",), deployer=DeployerFacts(kind="private"))
    assert item_applicability(deployer, "art_26.1", LATER).applies
    not_for_deployer = item_applicability(deployer, "art_9.1", LATER)
    assert not not_for_deployer.applies and "provider" in not_for_deployer.reason
    fria = item_applicability(deployer, "art_27.1.a", LATER)
    assert not fria.applies and "Art. 27" in fria.reason
    assert not item_applicability(deployer, "art_71.1", LATER).applies
    assert item_applicability(deployer, "art_26.7", LATER).status == "conditional"


def test_the_requirement_grades_do_not_count_obligations_of_other_roles(base: Project) -> None:
    from techfile.assess.grades import NOT_APPLICABLE, assess

    deployer = project(base, "deployer", use_cases=("4.a",), deployer=DeployerFacts(kind="private"))
    grades = assess(deployer, "2028-01-01").framework("eu-ai-act")
    assert grades is not None
    for item in ("annex_iv.2.d", "art_9.1", "art_13.3.a", "annex_v.1", "art_17.1.a"):
        graded = grades.item(item)
        assert graded is not None and graded.grade == NOT_APPLICABLE, item
        assert "binds the provider" in graded.reason and "deployer" in graded.reason
    provider = assess(project(base, use_cases=("4.a",)), "2028-01-01").framework("eu-ai-act")
    assert provider is not None and provider.item("annex_iv.2.d").grade != NOT_APPLICABLE  # type: ignore[union-attr]
    sample = assess(load_project(str(SAMPLE)).project).framework("eu-ai-act")
    assert sample is not None and sample.item("art_12.3.a").grade == NOT_APPLICABLE  # type: ignore[union-attr]
    assert sample.item("art_9.1").grade != NOT_APPLICABLE  # type: ignore[union-attr]
