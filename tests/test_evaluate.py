"""`techfile evaluate`: metrics per slice from a predictions file, checked against scikit-learn on the same rows;
bootstrap CIs; reference-group metrics; the gate in `evaluate` and `check`; writing results and the logbook."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.calibration import calibration_curve
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_score, recall_score, roc_auc_score

from evaluation_data import (
    AGES,
    DATASET,
    MODEL,
    MODEL_FILE,
    MODEL_YAML,
    REGIONS,
    SEXES,
    Cell,
    default_cells,
    make_project,
    predictions_frame,
)
from techfile.assess.logbook import entry_sha256
from techfile.evaluate.run import EvaluationError, evaluate_model
from techfile.loading import load_project

from conftest import run_cli

COLUMNS = {"sex": "applicant_sex", "age_band": "age_band", "region": "region"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


def write_predictions(folder: Path, cells: dict[tuple[str, str, str], Cell] | None = None, name: str = "predictions.csv") -> Path:
    path = folder / name
    frame = predictions_frame(cells or default_cells())
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def rows_of(frame: pd.DataFrame, slice_: dict[str, str]) -> pd.DataFrame:
    mask = np.ones(len(frame), dtype=bool)
    for attribute, value in slice_.items():
        mask &= (frame[COLUMNS[attribute]].astype(str) == value).to_numpy()
    return frame[mask]


def sklearn_value(function: str, rows: pd.DataFrame, threshold: float | None = None) -> float:
    """The metric computed independently, with scikit-learn on the filtered rows."""
    y = rows["defaulted"].to_numpy()
    predicted = (rows["risk_score"].to_numpy() >= threshold).astype(int) if threshold is not None else rows["flagged"].to_numpy()
    score = rows["risk_score"].to_numpy()
    tn, fp, fn, tp = confusion_matrix(y, predicted, labels=[0, 1]).ravel()
    if function == "calibration_error":
        true, mean = calibration_curve(y, score, n_bins=10, strategy="uniform")
        counts = np.bincount(np.searchsorted(np.linspace(0, 1, 11)[1:-1], score), minlength=10)
        return float(np.sum(counts[counts > 0] * np.abs(true - mean)) / len(y))
    return float({
        "accuracy": lambda: accuracy_score(y, predicted),
        "precision": lambda: precision_score(y, predicted),
        "recall": lambda: recall_score(y, predicted),
        "sensitivity": lambda: recall_score(y, predicted),
        "specificity": lambda: recall_score(y, predicted, pos_label=0),
        "auroc": lambda: roc_auc_score(y, score),
        "f1": lambda: f1_score(y, predicted),
        "selection_rate": lambda: predicted.mean(),
        "false_positive_rate": lambda: fp / (fp + tn),
        "false_negative_rate": lambda: fn / (fn + tp),
    }[function]())


def test_every_metric_per_slice_equals_scikit_learn_on_the_same_rows(project: Path) -> None:
    path = write_predictions(project)
    frame = pd.read_csv(path)
    evaluation = evaluate_model(project, MODEL, path, write=False)
    model = yaml.safe_load(MODEL_YAML)
    metrics = {m["id"]: m for m in model["metrics"]}
    slices = {r.verdict.result.metric: set() for r in evaluation.results}
    for row in evaluation.results:
        result = row.verdict.result
        metric = metrics[result.metric]
        slice_ = result.slice
        slices[result.metric].add(tuple(sorted(slice_)))
        own = rows_of(frame, slice_)
        assert result.n == len(own)
        expected = sklearn_value(metric["function"], own, metric.get("decision_threshold"))
        if metric.get("comparison"):
            reference = rows_of(frame, {a: metric["reference_group"][a] for a in slice_})
            base = sklearn_value(metric["function"], reference)
            expected = expected / base if metric["comparison"] == "ratio" else expected - base
        assert math.isclose(result.value, expected, rel_tol=0, abs_tol=1e-9), (result.metric, slice_, result.value, expected)
    # overall, every subgroup and every cell of the declared intersection, for each plain metric
    assert slices["sensitivity"] == {(), ("sex",), ("age_band",), ("region",), ("age_band", "sex")}
    assert sum(1 for r in evaluation.results if r.verdict.result.metric == "sensitivity") == 1 + 2 + 3 + 2 + 6
    # the reference group gets no result: men for the ratio; men aged 40-59 (and so men, and age 40-59) for the difference
    ratio_slices = [r.verdict.result.slice for r in evaluation.results if r.verdict.result.metric == "flag-rate-ratio"]
    assert ratio_slices == [{"sex": "female"}]
    difference = [r.verdict.result.slice for r in evaluation.results if r.verdict.result.metric == "tpr-difference"]
    assert {"sex": "male", "age_band": "40-59"} not in difference and {"sex": "male"} not in difference
    assert {"sex": "female", "age_band": "40-59"} in difference and {"age_band": "60+"} in difference
    assert len(difference) == 1 + 2 + 5


def test_known_group_rates_come_out_exactly(project: Path) -> None:
    """By construction: women aged 60+ have 86 % - 2 % sensitivity in every region's stratum."""
    cells = default_cells()
    path = write_predictions(project, cells)
    evaluation = evaluate_model(project, MODEL, path, write=False)
    found = {(r.verdict.result.metric, tuple(sorted(r.verdict.result.slice.items()))): r.verdict.result for r in evaluation.results}
    older_women = [cells[("female", "60+", region)] for region in REGIONS]
    expected = sum(c.true_positives for c in older_women) / sum(c.positives for c in older_women)
    result = found[("sensitivity", (("age_band", "60+"), ("sex", "female")))]
    assert result.value == pytest.approx(expected, abs=1e-12)
    assert result.n == sum(c.rows for c in older_women)


def test_bootstrap_ci_is_reproducible_and_contains_the_value(project: Path) -> None:
    path = write_predictions(project)
    first = evaluate_model(project, MODEL, path, write=False)
    second = evaluate_model(project, MODEL, path, write=False)
    assert [r.verdict.result.ci for r in first.results] == [r.verdict.result.ci for r in second.results]
    with_ci = [r.verdict.result for r in first.results if r.verdict.result.ci]
    assert len(with_ci) == len(first.results)
    for result in with_ci:
        low, high = result.ci
        assert low <= result.value <= high, (result.metric, result.slice, result.ci, result.value)
        assert low < high
    assert "stratified bootstrap (sex × age_band × region), 200 resamples, seed 7" in first.method


def test_parquet_and_csv_give_the_same_results(project: Path) -> None:
    csv = evaluate_model(project, MODEL, write_predictions(project), write=False)
    parquet = evaluate_model(project, MODEL, write_predictions(project, name="predictions.parquet"), write=False)
    assert [(r.verdict.result.value, r.verdict.result.ci) for r in csv.results] == \
           [(r.verdict.result.value, r.verdict.result.ci) for r in parquet.results]


def test_results_are_written_with_provenance_and_the_logbook_chain_holds(project: Path) -> None:
    path = write_predictions(project)
    evaluation = evaluate_model(project, MODEL, path)
    assert evaluation.model_written and evaluation.entry_written
    data = yaml.safe_load((project / MODEL_FILE).read_text(encoding="utf-8"))
    written = data["results"]
    assert len(written) == len(evaluation.results)
    first = written[0]
    assert first["dataset"] == DATASET and first["n"] == 7200 and len(first["ci"]) == 2
    assert first["predictions_sha256"] == evaluation.predictions_sha256
    assert first["logbook"] == evaluation.entry_id and "Fairlearn MetricFrame" in first["method"]
    loaded = load_project(project)
    assert not [d for d in loaded.diagnostics if d.code in ("TF701", "TF702", "TF703")]
    entries = loaded.project.logbook
    assert entries[-1].id == evaluation.entry_id and entries[-1].run_type == "evaluation"
    assert entries[-1].previous_entry_sha256 == entry_sha256(loaded.project, entries[-2])
    assert entries[-1].hyperparameters["predictions_sha256"] == evaluation.predictions_sha256
    assert entries[-1].hyperparameters["bootstrap_seed"] == 7
    assert entries[-1].code_version.commit == _head(project)
    assert entries[-1].metrics["sensitivity/age_band=60+&sex=female"] == pytest.approx(0.838888888, abs=1e-8)
    assert "sensitivity: recall = TP / (TP + FN), by sklearn.metrics.recall_score" in entries[-1].notes.text


def _head(project: Path) -> str:
    import subprocess

    return subprocess.run(["git", "-C", str(project), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()


def test_writing_twice_changes_nothing_the_second_time(project: Path) -> None:
    path = write_predictions(project)
    evaluate_model(project, MODEL, path)
    model_before = (project / MODEL_FILE).read_bytes()
    logbook_before = sorted(p.name for p in (project / "logbook").iterdir())
    again = evaluate_model(project, MODEL, path)
    assert not again.model_written and not again.entry_written
    assert {r.action for r in again.results} == {"unchanged"}
    assert (project / MODEL_FILE).read_bytes() == model_before
    assert sorted(p.name for p in (project / "logbook").iterdir()) == logbook_before


def test_a_conflicting_value_is_reported_and_kept_unless_replace(project: Path) -> None:
    path = write_predictions(project)
    evaluate_model(project, MODEL, path)
    model_file = project / MODEL_FILE
    text = model_file.read_text(encoding="utf-8")
    line = next(t for t in text.splitlines() if "metric: specificity" in t and "slice: {sex: female}" in t)
    edited = re.sub(r"value: [0-9.]+", "value: 0.5", line, count=1)
    model_file.write_text(text.replace(line, edited), encoding="utf-8")
    kept = evaluate_model(project, MODEL, path)
    conflicts = [(r.verdict.result.metric, r.verdict.result.slice, r.note) for r in kept.conflicts]
    assert len(conflicts) == 1 and conflicts[0][:2] == ("specificity", {"sex": "female"}) and "records 0.5" in conflicts[0][2]
    assert edited in model_file.read_text(encoding="utf-8")
    replaced = evaluate_model(project, MODEL, path, replace_conflicts=True)
    assert [r.action for r in replaced.results if r.action != "unchanged"] == ["replaced"]
    assert model_file.read_text(encoding="utf-8") == text  # the computed value, in the item's own place and style


def worse_cells(sex: str = "female", age: str = "60+") -> dict[tuple[str, str, str], Cell]:
    cells = default_cells()
    for region in REGIONS:
        c = cells[(sex, age, region)]
        cells[(sex, age, region)] = Cell(c.rows, c.positives, round(c.positives * 0.7), c.false_positives)
    return cells


def test_a_worse_group_fails_evaluate_and_check_with_its_location(project: Path) -> None:
    path = write_predictions(project, worse_cells())
    result = run_cli("evaluate", MODEL, "--predictions", str(path), "-C", str(project))
    assert result.exit_code == 1, result.output
    lines = (project / MODEL_FILE).read_text(encoding="utf-8").splitlines()
    number = next(i for i, t in enumerate(lines, 1) if "metric: sensitivity," in t and "sex: female, age_band: 60+" in t)
    expected = (f"models/credit-model.yaml:{number}:5: TF801 error: model 'credit-model': sensitivity for age_band=60+, "
                f"sex=female is 0.7, below its intersection threshold 0.8 (models/credit-model.yaml:{number})")
    assert expected in result.output
    assert "gate: FAILED" in result.output
    checked = run_cli("check", str(project))
    assert checked.exit_code == 1
    assert expected in checked.output.replace(f"{project.name}/", "")


def test_a_ratio_of_1_40_fails_a_two_sided_range(project: Path) -> None:
    """Women are flagged 1.4 times as often as men: a one-sided `>= 0.8` would pass it, [0.8, 1.25] does not."""
    cells = {}
    for sex, age, region in ((s, a, r) for s in SEXES for a in AGES for r in REGIONS):
        cells[(sex, age, region)] = Cell(500, 150, 135, 65) if sex == "male" else Cell(500, 150, 140, 140)
    path = write_predictions(project, cells)
    evaluation = evaluate_model(project, MODEL, path, write=False)
    ratio = next(r.verdict for r in evaluation.results if r.verdict.result.metric == "flag-rate-ratio")
    assert ratio.result.value == pytest.approx(1.4, abs=1e-12)
    assert ratio.status == "fail" and str(ratio.limit) == "[0.8, 1.25]"
    assert not evaluation.passed
    result = run_cli("evaluate", MODEL, "--predictions", str(path), "-C", str(project))
    assert result.exit_code == 1
    assert "flag-rate-ratio for sex=female is 1.4, above its subgroup range [0.8, 1.25]" in result.output


def test_the_reference_group_needs_no_result(project: Path) -> None:
    evaluate_model(project, MODEL, write_predictions(project))
    diagnostics = load_project(project).diagnostics
    assert not [d for d in diagnostics if d.code == "TF802"], diagnostics
    data = yaml.safe_load((project / MODEL_FILE).read_text(encoding="utf-8"))
    assert not [r for r in data["results"] if r["metric"] == "flag-rate-ratio" and r.get("slice") == {"sex": "male"}]


def test_a_slice_below_min_n_is_inconclusive_a_warning_then_an_error_under_lower_bound(tmp_path: Path) -> None:
    text = MODEL_YAML.replace("    function: recall\n    threshold: 0.85\n", "    function: recall\n    min_n: 2000\n    threshold: 0.85\n")
    project = make_project(tmp_path / "point", text)
    evaluation = evaluate_model(project, MODEL, write_predictions(project))
    small = [r.verdict for r in evaluation.results if r.verdict.result.metric == "sensitivity" and r.verdict.result.n < 2000]
    assert len(small) == 6 and {v.status for v in small} == {"inconclusive"}
    assert all(v.reason.startswith("n = 1200 is below min_n 2000") for v in small)
    checked = run_cli("check", str(project))
    assert "TF805 warning: model 'credit-model': sensitivity for age_band=18-39, sex=female is inconclusive: 0.9 meets its " \
           "intersection threshold 0.8, but n = 1200 is below min_n 2000" in checked.output
    assert checked.exit_code == 0  # a warning
    strict = make_project(tmp_path / "lower-bound", text.replace("    min_n: 2000\n", "    min_n: 2000\n    gate: lower_bound\n"))
    result = run_cli("evaluate", MODEL, "--predictions", str(write_predictions(strict)), "-C", str(strict))
    assert result.exit_code == 1
    assert "TF806 error: model 'credit-model': sensitivity for age_band=18-39, sex=female is inconclusive" in result.output
    assert run_cli("check", str(strict)).exit_code == 1


def test_a_ci_spanning_the_threshold_is_inconclusive(project: Path) -> None:
    evaluation = evaluate_model(project, MODEL, write_predictions(project), write=False)
    spanning = [r.verdict for r in evaluation.results if r.verdict.status == "inconclusive"]
    assert spanning, "the default data put a CI across a threshold"
    for verdict in spanning:
        low, high = verdict.result.ci
        assert verdict.limit is not None and verdict.limit.holds(verdict.result.value)
        assert not (verdict.limit.holds(low) and verdict.limit.holds(high))
    assert evaluation.passed  # under the point gate, inconclusive warns


def test_json_and_table_reports(project: Path) -> None:
    path = write_predictions(project)
    result = run_cli("evaluate", MODEL, "--predictions", str(path), "-C", str(project), "--format", "json", "--no-write")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["passed"] is True and document["rows"] == 7200 and not document["model_written"]
    ratio = next(r for r in document["results"] if r["metric"] == "flag-rate-ratio")
    assert ratio["threshold"] == "[0.8, 1.25]" and ratio["verdict"] == "pass" and ratio["action"] == "not written"
    table = run_cli("evaluate", MODEL, "--predictions", str(path), "-C", str(project), "--report", "--no-write")
    assert table.exit_code == 0
    assert re.search(r"│ flag-rate-ratio\s+│ sex=female\s+│\s+3600 │", table.output), table.output[:2000]


def test_bad_predictions_files_are_located_diagnostics(project: Path) -> None:
    frame = predictions_frame(default_cells())
    missing = project / "missing.csv"
    frame.drop(columns=["risk_score"]).to_csv(missing, index=False)
    result = run_cli("evaluate", MODEL, "--predictions", str(missing), "-C", str(project))
    assert result.exit_code == 1
    assert "TF813 error: missing.csv has no column 'risk_score' (model 'credit-model' maps score to it)" in result.output
    bad = frame.copy()
    bad["defaulted"] = bad["defaulted"].astype(str)
    bad.loc[4, "defaulted"] = "maybe"
    bad_path = project / "bad.csv"
    bad.to_csv(bad_path, index=False)
    result = run_cli("evaluate", MODEL, "--predictions", str(bad_path), "-C", str(project))
    assert result.exit_code == 1
    assert "bad.csv:6:1: TF814 error: label column 'defaulted' holds more than two values" in result.output
    garbage = project / "garbage.parquet"
    garbage.write_bytes(b"not parquet")
    result = run_cli("evaluate", MODEL, "--predictions", str(garbage), "-C", str(project))
    assert result.exit_code == 1 and "garbage.parquet:1:1: TF811 error: cannot read the predictions file" in result.output
    assert "Traceback" not in result.output
    assert yaml.safe_load((project / MODEL_FILE).read_text(encoding="utf-8"))["results"] == []


def test_unknown_dataset_and_a_model_without_evaluation(project: Path) -> None:
    path = write_predictions(project)
    with pytest.raises(EvaluationError) as raised:
        evaluate_model(project, MODEL, path, dataset_id="data-base")
    assert raised.value.diagnostics[0].code == "TF816"
    with pytest.raises(EvaluationError) as raised:
        evaluate_model(project, "model-base", path)
    assert raised.value.diagnostics[0].code == "TF812"


def test_outside_git_the_code_version_is_asked_for(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", git=False)
    path = write_predictions(project)
    with pytest.raises(EvaluationError, match="--code-version"):
        evaluate_model(project, MODEL, path)
    assert yaml.safe_load((project / MODEL_FILE).read_text(encoding="utf-8"))["results"] == []
    evaluation = evaluate_model(project, MODEL, path, code_version="https://git.example.com/credit@0a1b2c3d")
    entry = next(e for e in load_project(project).project.logbook if e.id == evaluation.entry_id)
    assert entry.code_version.commit == "0a1b2c3d"


def test_predictions_kept_as_evidence(project: Path) -> None:
    path = write_predictions(project.parent)
    evaluation = evaluate_model(project, MODEL, path, keep_predictions=True)
    assert evaluation.evidence_id is not None
    record = yaml.safe_load((project / "evidence" / f"{evaluation.evidence_id}.yaml").read_text(encoding="utf-8"))
    assert (project / record["file"]).read_bytes() == path.read_bytes() and record["sha256"] == evaluation.predictions_sha256
    loaded = load_project(project)
    assert not [d for d in loaded.diagnostics if d.code in ("TF401", "TF403", "TF502")], loaded.diagnostics
    assert evaluation.evidence_id in next(m for m in loaded.project.models if m.id == MODEL).evidence


@pytest.mark.parametrize("package", ["fairlearn", "sklearn", "pandas"])
def test_without_the_extra_evaluate_names_it_and_exits_2(project: Path, package: str) -> None:
    import subprocess
    import sys

    path = write_predictions(project)
    command = ["evaluate", MODEL, "--predictions", str(path), "-C", str(project)]
    code = f"import sys; sys.modules[{package!r}] = None; from techfile.cli import main; main({command!r})"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "pip install 'techfile[evaluate]'" in done.stderr and "Traceback" not in done.stderr


def test_worker_processes_give_the_same_results(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import techfile.evaluate.run as run

    path = write_predictions(project)
    alone = evaluate_model(project, MODEL, path, write=False, jobs=1)
    monkeypatch.setattr(run, "PARALLEL_ROWS", 0)  # share even this small file among two processes
    shared = evaluate_model(project, MODEL, path, write=False, jobs=2)
    assert [(r.verdict.result.value, r.verdict.result.ci) for r in alone.results] == \
           [(r.verdict.result.value, r.verdict.result.ci) for r in shared.results]
