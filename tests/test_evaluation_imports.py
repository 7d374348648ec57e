"""Evaluation results from other tools — a Fairlearn MetricFrame exported as JSON, an MLflow `evaluate` run in a real
local store — import to the same results as `techfile evaluate` on the same data."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, count, false_negative_rate, false_positive_rate, selection_rate
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from evaluation_data import MODEL, default_cells, make_project, predictions_frame
from techfile.evaluate.run import evaluate_model
from techfile.integrations.fairlearn_import import FairlearnImportError, import_metric_frame
from techfile.loading import load_project

from conftest import run_cli

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

FRAMES = [["sex"], ["age_band"], ["region"], ["sex", "age_band"]]
COLUMNS = {"sex": "applicant_sex", "age_band": "age_band", "region": "region"}
PREDICTION_METRICS = {"sensitivity", "specificity", "precision", "accuracy", "f1", "selection-rate", "fpr", "fnr"}


def results_of(project: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, int | None]]:
    model = next(m for m in load_project(project).project.models if m.id == MODEL)
    return {(r.metric, tuple(sorted(r.slice.items()))): (r.value, r.n) for r in model.results}


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, dict]:
    folder = tmp_path_factory.mktemp("evaluated")
    project = make_project(folder / "project")
    frame = predictions_frame(default_cells())
    frame.to_csv(folder / "predictions.csv", index=False)
    evaluate_model(project, MODEL, folder / "predictions.csv")
    return frame, results_of(project)


def metric_frame(frame: pd.DataFrame, features: list[str]) -> MetricFrame:
    metrics = {
        "recall_score": recall_score, "specificity": lambda y, p: recall_score(y, p, pos_label=0),
        "precision_score": precision_score, "accuracy_score": accuracy_score, "f1_score": f1_score,
        "selection_rate": selection_rate, "false_positive_rate": false_positive_rate,
        "false_negative_rate": false_negative_rate, "count": count,
    }
    sensitive = frame[[COLUMNS[f] for f in features]].rename(columns={v: k for k, v in COLUMNS.items()})
    return MetricFrame(metrics=metrics, y_true=frame["defaulted"], y_pred=frame["flagged"], sensitive_features=sensitive)


def assert_same_as_evaluate(imported: dict, evaluated: dict, metrics: set[str], expected_count: int) -> None:
    compared = 0
    for key, (value, n) in imported.items():
        if key[0] not in metrics:
            continue
        assert key in evaluated, key
        assert math.isclose(value, evaluated[key][0], rel_tol=0, abs_tol=1e-9), (key, value, evaluated[key][0])
        assert n == evaluated[key][1], key
        compared += 1
    assert compared == expected_count


def test_fairlearn_table_exports_import_to_the_results_of_evaluate(tmp_path: Path, evaluated: tuple) -> None:
    frame, expected = evaluated
    project = make_project(tmp_path / "project")
    for features in FRAMES:
        mf = metric_frame(frame, features)
        export = tmp_path / f"by-{'-'.join(features)}.json"
        export.write_text(json.dumps({"by_group": json.loads(mf.by_group.to_json(orient="table", double_precision=15)),
                                      "overall": mf.overall.to_dict()}), encoding="utf-8")
        result = run_cli("import", "fairlearn", str(export), "--model", MODEL, "-C", str(project))
        assert result.exit_code == 0, result.output
    imported = results_of(project)
    # 8 prediction metrics × (overall + 2 + 3 + 2 subgroups + 6 cells), plus the ratio (1) and the difference (8)
    assert_same_as_evaluate(imported, expected, PREDICTION_METRICS | {"flag-rate-ratio", "tpr-difference"}, 8 * 14 + 1 + 8)
    # importing again finds everything recorded
    again = import_metric_frame(project, tmp_path / "by-sex.json", MODEL)
    assert not again.added and not again.conflicts and again.unchanged


def test_fairlearn_default_json_with_attributes_named_on_the_command_line(tmp_path: Path, evaluated: tuple) -> None:
    frame, expected = evaluated
    project = make_project(tmp_path / "project")
    mf = metric_frame(frame, ["sex", "age_band"])
    export = tmp_path / "by-group.json"
    export.write_text(mf.by_group.to_json(double_precision=15), encoding="utf-8")  # keys like "('female', '60+')"
    with pytest.raises(FairlearnImportError, match="does not name its sensitive features"):
        import_metric_frame(project, export, MODEL)
    result = run_cli("import", "fairlearn", str(export), "--model", MODEL, "--attributes", "sex,age_band", "-C", str(project))
    assert result.exit_code == 0, result.output
    assert_same_as_evaluate(results_of(project), expected, PREDICTION_METRICS, 8 * 6)
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"by_group": {"log_loss": {"female": 0.3}}, "sensitive_features": ["sex"]}), encoding="utf-8")
    result = run_cli("import", "fairlearn", str(unknown), "--model", MODEL, "-C", str(project))
    assert result.exit_code == 1 and "TF817 error: no value of the export maps to a result" in result.output


def test_an_mlflow_evaluate_run_imports_to_the_results_of_evaluate(tmp_path: Path, evaluated: tuple,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.chdir(tmp_path)  # the store keeps its artifacts in ./mlruns
    frame, expected = evaluated
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    slices = {"": np.ones(len(frame), dtype=bool), "sex:female/": (frame["applicant_sex"] == "female").to_numpy(),
              "sex:male/": (frame["applicant_sex"] == "male").to_numpy(),
              "age_band:60 sex:female/": ((frame["applicant_sex"] == "female") & (frame["age_band"] == "60+")).to_numpy()}
    try:
        with mlflow.start_run(run_name="credit-evaluation") as run:
            for prefix, mask in slices.items():
                data = mlflow.data.from_pandas(frame[mask][["defaulted", "flagged"]], name="loans-test", targets="defaulted",
                                               predictions="flagged")
                mlflow.models.evaluate(data=data, model_type="classifier",
                                       evaluator_config={"metric_prefix": prefix, "log_explainer": False} if prefix else
                                       {"log_explainer": False})
            mlflow.set_tags({"mlflow.source.git.commit": "0a1b2c3d4e5f", "mlflow.source.git.repoURL": "https://git.example.com/credit",
                             "mlflow.user": "Eval Bot"})
    finally:
        mlflow.set_tracking_uri(None)
    from techfile.integrations.mlflow_import import import_mlflow_run

    project = make_project(tmp_path / "project")
    imported = import_mlflow_run(project, uri, run.info.run_id, MODEL)
    assert imported.results_added, imported.unmapped
    entry = next(e for e in load_project(project).project.logbook if e.id == imported.entry_id)
    assert entry.run_type == "evaluation"
    # 8 prediction metrics on each of the 4 slices MLflow evaluated
    assert_same_as_evaluate(results_of(project), expected, PREDICTION_METRICS, 8 * 4)
