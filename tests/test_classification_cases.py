"""Systems described in plain words, written as a user would write their facts, and classified end to end by
`techfile classify --format json`: each gives a decided, cited answer with its obligations and dates."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import run_cli

BASE = Path(__file__).parent / "bad_inputs" / "_base"
NONE_50 = """
transparency_art_50:
  interacts_with_persons: false
  synthetic_content: false
  emotion_recognition_or_biometric_categorisation: false
  deep_fake: false
"""
SCREENED = """
prohibited_practices_screening:
  screened: true
  practices_found: []
"""


def classify(tmp_path: Path, classification: str, techfile: str = "", as_of: str = "2029-01-01") -> tuple[int, dict[str, Any]]:
    """Write the base project with these classification facts (and techfile.yaml additions), then classify it."""
    project = tmp_path / "project"
    shutil.copytree(BASE, project)
    system = yaml.safe_load((project / "system.yaml").read_text(encoding="utf-8"))
    system["classification"] = yaml.safe_load(classification)
    (project / "system.yaml").write_text(yaml.safe_dump(system, sort_keys=False, allow_unicode=True), encoding="utf-8")
    if techfile:
        settings = yaml.safe_load((project / "techfile.yaml").read_text(encoding="utf-8")) | yaml.safe_load(techfile)
        (project / "techfile.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    result = run_cli("classify", str(project), "--format", "json", "--as-of", as_of)
    return result.exit_code, json.loads(result.output)


def duties(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {(o["id"] if o["role"] in ("provider", "gpai-model-provider") else f"{o['id']}/{o['role']}"): o
            for o in payload["obligations"]}


CASES: list[tuple[str, str, str, str, str, dict[str, str]]] = [
    # (description, classification facts, techfile.yaml additions, class, deciding provision, {obligation: applies-from})
    ("A CV-screening tool that ranks job applicants for recruiters",
     "annex_i_product: {applies: false}\nannex_iii: {applies: true, use_case: '4.a'}" + SCREENED + NONE_50, "",
     "high-risk", "Art. 6(2), Annex III, point 4(a)", {"art_9": "2027-12-02", "art_49.1": "2027-12-02", "art_43.2": "2027-12-02"}),
    ("A bank uses a bought-in credit-scoring model for consumer loans",
     "annex_i_product: {applies: false}\nannex_iii: {applies: true, use_case: '5.b'}" + SCREENED + NONE_50,
     "role: deployer\neu_ai_act: {deployer: {kind: private, workplace_use: false}}",
     "high-risk", "Art. 6(2), Annex III, point 5(b)", {"art_27/deployer": "2027-12-02", "art_86/deployer": "2027-12-02"}),
    ("Card-payment fraud detection for a payment processor",
     "annex_i_product: {applies: false}\nannex_iii: {applies: false, exclusions: ['5.b']}" + SCREENED + NONE_50, "",
     "minimal", "Annex III, point 5(b) (exclusion)", {"art_4": "2025-02-02"}),
    ("Face unlock that only verifies that the phone's owner is who they claim to be",
     "annex_i_product: {applies: false}\nannex_iii: {applies: false, exclusions: ['1.a']}" + SCREENED + NONE_50, "",
     "minimal", "Annex III, point 1(a) (exclusion)", {}),
    ("A customer-service chatbot on a retailer's website",
     "annex_i_product: {applies: false}\nannex_iii: {applies: false}" + SCREENED +
     "\ntransparency_art_50: {interacts_with_persons: true, synthetic_content: false, "
     "emotion_recognition_or_biometric_categorisation: false, deep_fake: false}", "",
     "transparency", "Art. 50(1)", {"art_50.1": "2026-08-02"}),
    ("An image generator already on the market since spring 2025",
     "annex_i_product: {applies: false}\nannex_iii: {applies: false}" + SCREENED +
     "\ntransparency_art_50: {interacts_with_persons: true, synthetic_content: true, "
     "emotion_recognition_or_biometric_categorisation: false, deep_fake: false}"
     "\ntransitional_art_111: {first_placed_on_market: '2025-04-01'}", "",
     "transparency", "Art. 50(1), Art. 50(2)", {"art_50.1": "2026-08-02", "art_50.2": "2026-12-02"}),
    ("Software that reads chest CT scans, a class IIb medical device certified by a notified body",
     "annex_i_product: {applies: true, legislation: 'Regulation (EU) 2017/745 (MDR)', kind: product, third_party_assessment: true}"
     "\nannex_iii: {applies: false}" + SCREENED + NONE_50, "",
     "high-risk", "Art. 6(1), Annex I, Section A, point 11 (Regulation (EU) 2017/745)", {"art_11": "2028-08-02", "art_43.3": "2028-08-02"}),
    ("A lane-keeping function type-approved with the car under the motor-vehicle approval regulation",
     "annex_i_product: {applies: true, act: '2018/858', kind: safety-component, safety_function: true, third_party_assessment: true}"
     "\nannex_iii: {applies: false}" + SCREENED + NONE_50, "",
     "high-risk", "Art. 6(1), Annex I, Section B, point 18 (Regulation (EU) 2018/858)", {"art_2.2": "2028-08-02"}),
    ("An app that undresses photos of real people",
     "annex_i_product: {applies: false}\nannex_iii: {applies: false}"
     "\nprohibited_practices_screening: {screened: true, practices_found: [art_5.1.ba]}"
     "\ntransparency_art_50: {interacts_with_persons: false, synthetic_content: true, "
     "emotion_recognition_or_biometric_categorisation: false, deep_fake: true}", "",
     "prohibited", "Art. 5(1)(ba)", {"art_5": "2026-12-02"}),
    ("A municipality scores residents' behaviour and cuts services for low scores",
     "annex_i_product: {applies: false}\nannex_iii: {applies: false}"
     "\nprohibited_practices_screening: {screened: true, practices_found: [art_5.1.c]}" + NONE_50,
     "role: deployer\neu_ai_act: {deployer: {kind: public-authority}}",
     "prohibited", "Art. 5(1)(c)", {"art_5/deployer": "2025-02-02"}),
    ("Cameras that infer the emotions of shoppers in a store, run by the store",
     "annex_i_product: {applies: false}\nannex_iii: {applies: true, use_case: '1.c'}" + SCREENED +
     "\ntransparency_art_50: {interacts_with_persons: false, synthetic_content: false, "
     "emotion_recognition_or_biometric_categorisation: true, deep_fake: false}",
     "role: deployer\neu_ai_act: {deployer: {kind: private, workplace_use: false}}",
     "high-risk", "Art. 6(2), Annex III, point 1(c)", {"art_26/deployer": "2027-12-02", "art_50.3/deployer": "2026-08-02"}),
    ("Online exam proctoring that flags cheating",
     "annex_i_product: {applies: false}\nannex_iii: {applies: true, use_case: '3.d'}" + SCREENED + NONE_50, "",
     "high-risk", "Art. 6(2), Annex III, point 3(d)", {"art_14": "2027-12-02"}),
    ("A tool that polishes the wording of benefit decisions a caseworker has already written",
     "annex_i_product: {applies: false}\nannex_iii: {applies: true, use_case: '5.a'}" + SCREENED +
     "\nderogation_art_6_3: {claimed: true, condition: b, profiling: false, justification: Only edits finished text.}" + NONE_50, "",
     "minimal", "Art. 6(3)(b)", {"art_6.4": "2027-12-02", "art_49.2": "2027-12-02"}),
    ("A city council uses a system that decides eligibility for housing benefit",
     "annex_i_product: {applies: false}\nannex_iii: {applies: true, use_case: '5.a'}" + SCREENED + NONE_50,
     "role: deployer\neu_ai_act: {deployer: {kind: public-authority, workplace_use: false}}",
     "high-risk", "Art. 6(2), Annex III, point 5(a)",
     {"art_27/deployer": "2027-12-02", "art_49.3/deployer": "2027-12-02", "art_26.8/deployer": "2027-12-02"}),
    ("A lab releases a frontier general-purpose model trained with 5x10^25 FLOPs",
     "annex_i_product: {applies: false}\nannex_iii: {applies: false}" + SCREENED + NONE_50 +
     "\ngpai_model: {training_compute_flops: 5.0e+25}", "role: gpai-model-provider",
     "minimal", "Art. 5, Art. 6 and Art. 50: none applies", {"art_55.1": "2025-08-02", "art_52.1": "2025-08-02"}),
    ("A talking toy whose safety directive needs no notified body",
     "annex_i_product: {applies: true, act: '2009/48', kind: product, third_party_assessment: false}\nannex_iii: {applies: false}"
     + SCREENED + "\ntransparency_art_50: {interacts_with_persons: true, synthetic_content: false, "
     "emotion_recognition_or_biometric_categorisation: false, deep_fake: false}", "",
     "transparency", "Art. 50(1)", {"art_50.1": "2026-08-02"}),
    ("An importer brings a non-EU recruitment tool onto the EU market",
     "annex_i_product: {applies: false}\nannex_iii: {applies: true, use_case: '4.a'}" + SCREENED + NONE_50, "role: importer",
     "high-risk", "Art. 6(2), Annex III, point 4(a)", {"art_23/importer": "2027-12-02"}),
    ("Emergency-call triage that prioritises ambulance dispatch, also used on the control room's staff shifts",
     "annex_i_product: {applies: false}\nannex_iii: {applies: true, use_cases: ['5.d', '4.b']}" + SCREENED + NONE_50, "",
     "high-risk", "Art. 6(2), Annex III, points 5(d), 4(b)", {"art_43.2": "2027-12-02"}),
    ("Police software that profiles people to find suspects, claimed to be only a preparatory task",
     "annex_i_product: {applies: false}\nannex_iii: {applies: true, use_case: '6.e'}" + SCREENED +
     "\nderogation_art_6_3: {claimed: true, condition: d, profiling: true}" + NONE_50, "",
     "high-risk", "Art. 6(3), third subparagraph", {"art_49.4": "2027-12-02"}),
]


@pytest.mark.parametrize("description, facts, techfile, risk_class, deciding, expected", CASES, ids=[c[0][:48] for c in CASES])
def test_plain_description(tmp_path: Path, description: str, facts: str, techfile: str, risk_class: str, deciding: str,
                           expected: dict[str, str]) -> None:
    code, payload = classify(tmp_path, facts, techfile)
    assert code == 0, payload["problems"]
    assert (payload["risk_class"], payload["deciding_ref"]) == (risk_class, deciding), payload["headline"]
    assert payload["decided"] and not [p for p in payload["problems"] if p["severity"] == "error"]
    found = duties(payload)
    for duty, date in expected.items():
        assert duty in found, f"{duty} missing from {sorted(found)}"
        assert found[duty]["applies_from"] == date, (duty, found[duty])


def test_classify_answers_for_a_high_risk_project_with_annex_iv_gaps(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(BASE, project)
    system = project / "system.yaml"
    system.write_text(system.read_text(encoding="utf-8").replace(
        "  annex_iii:\n    applies: false\n    rationale: Used in no Annex III area.\n",
        "  annex_iii:\n    applies: true\n    use_case: \"4.a\"\n"), encoding="utf-8")
    check = run_cli("check", str(project))
    assert check.exit_code == 1 and "TF601" in check.output, "the Annex IV points are missing"
    result = run_cli("classify", str(project), "--as-of", "2027-12-02")
    assert result.exit_code == 0, result.output
    text = result.output
    assert "EU AI Act risk class: HIGH-RISK (decided by Art. 6(2), Annex III, point 4(a))" in text
    assert text.index("EU AI Act risk class") < text.index("Annex IV gaps")
    assert "In force since 2027-12-02" in text and "replaces 2026-08-02" in text


def test_an_undecidable_project_names_the_missing_fact(tmp_path: Path) -> None:
    code, payload = classify(tmp_path, "annex_i_product: {applies: false}\nannex_iii: {applies: true}" + SCREENED + NONE_50)
    assert code == 1 and not payload["decided"]
    assert [p["code"] for p in payload["problems"]] == ["TF607"]
    assert payload["problems"][0]["path"].endswith("system.yaml") and payload["problems"][0]["line"] > 1
    assert "at least HIGH-RISK" in payload["headline"]


def technical_file_markdown(project: Path, out: Path) -> str:
    from techfile.publish.build import build

    result = build(project, out, only={"technical-file"}, site=False, pdf=False)
    return next(d.markdown for d in result.documents if d.kind == "technical-file")


def section(markdown: str) -> str:
    return markdown[markdown.index("## Classification"):markdown.index("Related documents:")]


def test_technical_file_classification_section_of_the_sample(tmp_path: Path) -> None:
    from conftest import SAMPLE

    text = section(technical_file_markdown(SAMPLE, tmp_path / "out"))
    assert "| Decided by | Art. 6(1), Annex I, Section A, point 11 (Regulation (EU) 2017/745) |" in text
    assert "| Annex I | Section A, point 11: Medical devices (Regulation (EU) 2017/745, MDR) |" in text
    assert "| Date | 2026-09-18 |" in text and "Screened against Article 5(1)(a)-(h)" in text
    assert "Roles: provider (stated in techfile.yaml)." in text
    assert "| Art. 11, Annex IV | provider |" in text and "applies from 2028-08-02" in text
    assert ("| 2028-08-02 | Art. 113, third paragraph, point (c), as amended by Regulation (EU) 2026/1744, Art. 1(40)(b) | "
            "2027-08-02 under Art. 113, third paragraph, point (c) (original text) (superseded) | secondary sources") in text


def test_technical_file_shows_the_art_6_3_assessment_and_profiling_answer(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(BASE, project)
    system = project / "system.yaml"
    system.write_text(system.read_text(encoding="utf-8").replace(
        "  annex_iii:\n    applies: false\n    rationale: Used in no Annex III area.\n",
        "  annex_iii:\n    applies: true\n    use_case: \"4.a\"\n  derogation_art_6_3:\n    claimed: true\n    conditions: [a, d]\n"
        "    profiling: false\n    justification: Only sorts applications by the date they arrived.\n"), encoding="utf-8")
    settings = project / "techfile.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "outputs:\n  documents: [technical-file]\n", encoding="utf-8")
    text = section(technical_file_markdown(project, tmp_path / "out"))
    assert "| Decided by | Art. 6(3)(a), Art. 6(3)(d) |" in text and "| Annex III | Annex III, point 4(a): " in text
    assert "### Art. 6(3) assessment" in text and "| Derogation claimed | yes |" in text
    assert "| Profiles natural persons | no |" in text and "Only sorts applications by the date they arrived." in text
    assert "| Art. 6(4) | provider |" in text and "| Art. 49(2) | provider |" in text
