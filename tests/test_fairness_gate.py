"""The fairness gate in `check`, on hand-written results: thresholds as numbers (today's meaning) and as min / max /
between, reference-group metrics, min_n, the two gate policies, and declarations that cannot be judged."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation_data import MODEL_FILE, make_project
from techfile.assess.metrics import Limit, judge_results, limit_of
from techfile.loading import load_project

HEAD = """\
id: credit-model
name: Credit default model
version: "2.0.0"
date: "2026-01-10"
task: binary classification
owner: ML lead
developers: ML team
model_type: gradient-boosted trees
architecture: Trees.
intended_use: {primary_uses: Review., primary_users: Officers., out_of_scope: Automation.}
factors:
  relevant: Sex and age band.
  evaluation_factors: Sex and age band.
  subgroups:
    - {attribute: sex, values: [female, male]}
    - {attribute: age_band, values: ["18-39", "60+"]}
training_data: [data-base]
evaluation_data: [loans-test]
ethical_considerations: None.
caveats: None.
"""


def model(metrics: str, results: str, extra: str = "") -> str:
    return HEAD + extra + "metrics:\n" + metrics + "results:\n" + results


METRIC = "  - {{id: {id}, name: M, description: D, rationale: R{more}}}\n"


def findings(tmp_path: Path, text: str) -> list[tuple[str, int, str]]:
    project = make_project(tmp_path / "project", text, git=False)
    return [(d.code, d.line, d.message) for d in load_project(project).diagnostics
            if d.path == MODEL_FILE and d.code.startswith("TF8")]  # the gate's findings, not the model card's gaps


def test_a_plain_number_keeps_its_meaning() -> None:
    assert limit_of(0.9, higher_is_better=True) == Limit(low=0.9)
    assert limit_of(0.3, higher_is_better=False) == Limit(high=0.3)
    assert limit_of({"between": [0.8, 1.25]}) == Limit(0.8, 1.25)


@pytest.mark.parametrize(("threshold", "value", "code"), [
    ("0.85", 0.84, "TF801"), ("0.85", 0.85, None),                         # today's minimum, ends included
    ("{max: 0.1}", 0.11, "TF801"), ("{max: 0.1}", 0.1, None),
    ("{between: [0.8, 1.25]}", 1.4, "TF801"), ("{between: [0.8, 1.25]}", 0.79, "TF801"), ("{between: [0.8, 1.25]}", 1.25, None),
])
def test_thresholds(tmp_path: Path, threshold: str, value: float, code: str | None) -> None:
    text = model(METRIC.format(id="m", more=f", threshold: {threshold}"), f"  - {{metric: m, value: {value}}}\n")
    found = findings(tmp_path, text)
    assert [f[0] for f in found] == ([code] if code else []), found


def test_lower_is_better_fails_above(tmp_path: Path) -> None:
    text = model(METRIC.format(id="fpr", more=", higher_is_better: false, threshold: 0.1"), "  - {metric: fpr, value: 0.2}\n")
    (code, line, message), = findings(tmp_path, text)
    assert code == "TF801" and "fpr for overall is 0.2, above its overall threshold 0.1" in message


def test_reference_group_metric_needs_no_result_for_the_reference(tmp_path: Path) -> None:
    metrics = METRIC.format(id="ratio", more=", comparison: ratio, reference_group: {sex: male}, "
                                             "subgroup_threshold: {between: [0.8, 1.25]}")
    found = findings(tmp_path, model(metrics, "  - {metric: ratio, value: 1.1, slice: {sex: female}}\n"))
    assert found == []  # no TF802 for sex=male, none for age_band (no reference value for it)
    found = findings(tmp_path / "2", model(metrics, "  - {metric: ratio, value: 1.4, slice: {sex: female}}\n"))
    assert [(f[0], f[2].split(" (")[0]) for f in found] == [
        ("TF801", "model 'credit-model': ratio for sex=female is 1.4, above its subgroup range [0.8, 1.25]")]
    found = findings(tmp_path / "3", model(metrics, "  - {metric: ratio, value: 1.1, slice: {sex: female}}\n"
                                                    "  - {metric: ratio, value: 1.0, slice: {sex: male}}\n"))
    assert [f[0] for f in found] == ["TF810"]


def test_min_n_and_ci_make_a_result_inconclusive_and_lower_bound_makes_it_an_error(tmp_path: Path) -> None:
    results = ("  - {metric: m, value: 0.9, ci: [0.86, 0.94], n: 50}\n"        # n below min_n
               "  - {metric: m, value: 0.9, ci: [0.80, 0.95], n: 500, slice: {sex: female}}\n"  # CI spans 0.85
               "  - {metric: m, value: 0.9, n: 500, slice: {sex: male}}\n"      # no CI
               "  - {metric: m, value: 0.9, ci: [0.87, 0.93], n: 500, slice: {age_band: \"60+\"}}\n")  # conclusive
    point = findings(tmp_path, model(METRIC.format(id="m", more=", threshold: 0.85, min_n: 100"), results))
    assert [(code, line) for code, line, _ in point] == [("TF805", 24), ("TF805", 25)]
    assert "but n = 50 is below min_n 100" in point[0][2] and "its CI [0.8, 0.95] spans it" in point[1][2]
    strict = findings(tmp_path / "2", model(METRIC.format(id="m", more=", threshold: 0.85, min_n: 100, gate: lower_bound"), results))
    assert [(code, line) for code, line, _ in strict] == [("TF806", 24), ("TF806", 25), ("TF806", 26)]
    assert "it has no CI" in strict[2][2]


def test_an_accepted_inconclusive_result_is_shown_but_not_warned_about(tmp_path: Path) -> None:
    result = '  - {metric: m, value: 0.9, ci: [0.8, 0.95], inconclusive_accepted: "small slice; accepted by the CMO"}\n'
    project = make_project(tmp_path / "project", model(METRIC.format(id="m", more=", threshold: 0.85"), result), git=False)
    loaded = load_project(project)
    assert not [d for d in loaded.diagnostics if d.path == MODEL_FILE and d.code.startswith("TF8")]
    verdict, = judge_results(next(m for m in loaded.project.models if m.id == "credit-model"))
    assert verdict.status == "inconclusive" and verdict.accepted and verdict.passed is None
    strict = findings(tmp_path / "2", model(METRIC.format(id="m", more=", threshold: 0.85, gate: lower_bound"), result))
    assert [f[0] for f in strict] == ["TF806"]


def test_declarations_that_cannot_be_judged(tmp_path: Path) -> None:
    metrics = (METRIC.format(id="a", more=", comparison: ratio, reference_group: {sex: other}")
               + METRIC.format(id="b", more=", comparison: difference, reference_group: {region: north}")
               + METRIC.format(id="c", more=", threshold: {between: [1.25, 0.8]}")
               + METRIC.format(id="d", more=", function: auroc"))
    extra = "evaluation: {label: y, prediction: p}\n"
    text = model(metrics, "  []\n", extra).replace("    - {attribute: age_band, values: [\"18-39\", \"60+\"]}\n",
                                                     "    - {attribute: age_band, values: [\"18-39\", \"60+\"]}\n"
                                                     "  intersections: [[sex, region]]\n")
    found = {(code, message.split(":")[1].strip()) for code, _, message in findings(tmp_path, text)}
    assert {code for code, _ in found} == {"TF807", "TF808", "TF809", "TF815"}, found
    messages = " ".join(m for _, _, m in findings(tmp_path / "2", text))
    assert "names reference group sex=other, but 'other' is not a declared value of sex" in messages
    assert "'region' is not a declared subgroup attribute" in messages
    assert "range [1.25, 0.8] whose lower bound is above its upper bound" in messages
    assert "metric d (auroc) needs a score" in messages
