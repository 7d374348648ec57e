"""MLflow import: real runs in a file store and a SQLite store, written by mlflow itself, imported into a copy of the sample.

Offline only: telemetry is off, the stores are local folders.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from techfile.assess.logbook import entry_sha256
from techfile.integrations.mlflow_import import MlflowImportError, import_mlflow_run
from techfile.loading import load_project

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # before mlflow is imported: it starts telemetry on import
os.environ.setdefault("DO_NOT_TRACK", "true")
mlflow = pytest.importorskip("mlflow")

MODEL = "pneumothorax-classifier"
MODEL_FILE = f"models/{MODEL}.yaml"
REPOSITORY = "https://git.thoravis.example/clinical/cxr-evaluation.git"
COMMIT = "387ebcf2d52248ce394524d66a8900b36cb451c1"
EXTERNAL_TEST_SHA256 = "bbac1360807567b5af56e52a56789542428868ce0e26b0398390a6209accbf5b"
INTERNAL_VAL_SHA256 = "04e816e61871ad82440f1b6b23c0540170ea51bd63b9497c11b471bede210864"


@dataclass(frozen=True)
class Run:
    tracking_uri: str
    run_id: str
    started: str
    ended: str


@dataclass(frozen=True)
class Stores:
    evaluation: Run  # file store, logged with the fluent API and an input dataset made by mlflow.data
    validation: Run  # SQLite store, logged with MlflowClient, the input tagged with its sha256


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stores]:
    folder = tmp_path_factory.mktemp("mlflow")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 only writes file stores when asked to
        patch.chdir(folder)
        try:
            yield Stores(_evaluation_run(f"file://{folder}/mlruns"), _validation_run(f"sqlite:///{folder}/mlflow.db"))
        finally:
            mlflow.set_tracking_uri(None)


def _iso(milliseconds: int) -> str:
    moment = datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{milliseconds % 1000:03d}" if milliseconds % 1000 else "") + "Z"


def _evaluation_run(uri: str) -> Run:
    """The final evaluation on the external test set: one subgroup result conflicts with the model, one is new."""
    mlflow.set_tracking_uri(uri)
    with mlflow.start_run(run_name="final-evaluation") as run:
        mlflow.log_params({"operating_point": 0.35, "tta_flips": 2, "flip": False, "optimizer": "AdamW", "site_code": "007"})
        mlflow.log_metric("sensitivity/overall", 0.5, step=0)  # a file store cannot hold both `sensitivity` and
        mlflow.log_metric("sensitivity/overall", 0.928, step=1)  # `sensitivity/…`: the overall value gets its own name
        mlflow.log_metrics({
            "auroc": 0.962,                                    # as recorded
            "sensitivity/sex:female": 0.91,                    # the model records 0.92: a conflict
            "sensitivity/sex:male": 0.934,                     # as recorded
            "sensitivity/sex:male age_band:75": 0.9,           # a new intersection; MLflow cannot spell "75+"
            "eval_loss": 0.21,                                 # not a metric of the model
        })
        mlflow.set_tags({
            "mlflow.user": "Jana Kruse, Clinical Evaluation Scientist",
            "mlflow.source.git.commit": COMMIT,
            "mlflow.source.git.repoURL": REPOSITORY,
            "techfile.run_type": "evaluation",
            "mlflow.log-model.history": json.dumps([{"mlflow_version": "2.12.1",
                                                     "flavors": {"python_function": {"python_version": "3.11.9"}}}]),
        })
        _log_external_test_input()
    info = mlflow.MlflowClient(uri).get_run(run.info.run_id).info
    return Run(uri, info.run_id, _iso(info.start_time), _iso(info.end_time))


def _log_external_test_input() -> None:
    try:
        import pandas
    except ImportError:  # mlflow-skinny: no pandas, so no dataset made by mlflow.data
        from mlflow.entities import Dataset, DatasetInput, InputTag

        entity = Dataset("cxr-external-test", "3f2a9c1d", "local", json.dumps({"uri": "/data/cxr/external-test"}))
        mlflow.MlflowClient().log_inputs(mlflow.active_run().info.run_id,
                                         [DatasetInput(entity, [InputTag("mlflow.data.context", "evaluation")])])
        return
    frame = pandas.DataFrame({"study": ["s-001", "s-002"], "label": [0.0, 1.0]})
    dataset = mlflow.data.from_pandas(frame, source="s3://thoravis-eval/cxr-external-test.parquet", name="cxr-external-test")
    mlflow.log_input(dataset, context="evaluation")


def _validation_run(uri: str) -> Run:
    """A validation run on the internal set, with fixed times: adds a subgroup result the model does not have."""
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric

    client = mlflow.MlflowClient(tracking_uri=uri)
    start, end = 1760000000123, 1760003600000
    run = client.create_run("0", start_time=start, run_name="internal-validation", tags={
        "mlflow.user": "Lea Brandt", "mlflow.source.git.commit": "e4ad8e0",
        "mlflow.source.git.repoURL": "https://git.thoravis.example/ml/cxr-models.git", "techfile.run_type": "validation",
        "mlflow.source.git.dirty": "true"})
    run_id = run.info.run_id
    client.log_batch(run_id, metrics=[Metric(key, value, start + 1000, 0) for key, value in {
        "auroc": 0.974,                                   # as recorded; a database store can hold `auroc` and `auroc/…`
        "auroc/sex:female": 0.969,                        # a new subgroup result
        "specificity/projection/PA/sex/female": 0.93,     # a new intersection, in names Windows allows
    }.items()])
    entity = Dataset("cxr-internal-val", "5d1e0c2a", "local", json.dumps({"uri": "/data/cxr/internal-val"}))
    client.log_inputs(run_id, [DatasetInput(entity, [InputTag("mlflow.data.context", "validation"),
                                                     InputTag("sha256", INTERNAL_VAL_SHA256)])])
    client.set_terminated(run_id, end_time=end)
    return Run(uri, run_id, "2025-10-09T08:53:20.123Z", "2025-10-09T09:53:20Z")


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def logbook_files(project: Path) -> list[str]:
    return sorted(p.name for p in (project / "logbook").iterdir())


def test_file_store_run_becomes_the_next_chained_entry(project_copy: Path, stores: Stores) -> None:
    run = stores.evaluation
    model_before = (project_copy / MODEL_FILE).read_text(encoding="utf-8")

    imported = import_mlflow_run(project_copy, run.tracking_uri, run.run_id, model_id=MODEL)

    assert imported.entry_id == "lb-0007"
    assert imported.entry_path == project_copy / "logbook" / "lb-0007.yaml"
    text = imported.entry_path.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../../schemas/logbook_entry.schema.json\n")  # as lb-0006's
    entry = read_yaml(imported.entry_path)
    assert entry["sequence"] == 7
    assert entry["run_type"] == "evaluation"
    assert entry["model"] == MODEL
    assert (entry["started"], entry["ended"]) == (run.started, run.ended)
    assert entry["performed_by"] == "Jana Kruse, Clinical Evaluation Scientist"
    assert entry["code_version"] == {"repository": REPOSITORY, "commit": COMMIT}
    assert entry["hyperparameters"] == {"operating_point": 0.35, "tta_flips": 2, "flip": False, "optimizer": "AdamW",
                                        "site_code": "007"}
    assert entry["metrics"] == {"auroc": 0.962, "sensitivity/overall": 0.928, "sensitivity/sex:female": 0.91,
                                "sensitivity/sex:male": 0.934, "sensitivity/sex:male age_band:75": 0.9, "eval_loss": 0.21}
    # MLflow's digest is 8 hex characters: the entry pins the sha256 the dataset's source records, and says so.
    assert entry["datasets"] == [{"dataset": "cxr-external-test", "sha256": EXTERNAL_TEST_SHA256, "split": "evaluation"}]
    assert any("input dataset 'cxr-external-test'" in u and "not a sha256" in u for u in imported.unmapped)
    assert entry["environment"] == {"packages": {"mlflow": "2.12.1", "python": "3.11.9"}}
    assert run.run_id in entry["notes"] and '"final-evaluation"' in entry["notes"]
    assert entry["previous_entry_sha256"] == _sha256_of(project_copy, "lb-0006")

    result = load_project(project_copy)
    assert result.errors == []
    assert [e.id for e in result.project.logbook][-1] == "lb-0007"

    # The conflicting subgroup value is reported and not written; new intersections are appended, nothing else changes.
    assert len(imported.conflicts) == 1
    assert "sensitivity (sex=female) on cxr-external-test" in imported.conflicts[0] and "0.91" in imported.conflicts[0]
    assert imported.results_added == ["sensitivity (sex=male, age_band=75+) on cxr-external-test: 0.9"]
    added = "  - {metric: sensitivity, value: 0.9, slice: {sex: male, age_band: 75+}, dataset: cxr-external-test}\n"
    model_after = (project_copy / MODEL_FILE).read_text(encoding="utf-8")
    last_result = "projection: AP, chest_drain: absent}, dataset: cxr-external-test, n: 1610}\n"
    assert model_after == model_before.replace(last_result, last_result + added)
    model = next(m for m in result.project.models if m.id == MODEL)
    assert next(r for r in model.results if r.slice == {"sex": "female"} and r.metric == "sensitivity"
                and r.dataset == "cxr-external-test").value == 0.92
    assert any("sensitivity (overall) on cxr-external-test = 0.928: already recorded" in m for m in imported.mapped)


def test_sqlite_run_chains_after_an_earlier_import(project_copy: Path, stores: Stores) -> None:
    first = import_mlflow_run(project_copy, stores.evaluation.tracking_uri, stores.evaluation.run_id, model_id=MODEL)
    second = import_mlflow_run(project_copy, stores.validation.tracking_uri, stores.validation.run_id, model_id=MODEL)

    assert (first.entry_id, second.entry_id) == ("lb-0007", "lb-0008")
    entry = read_yaml(second.entry_path)
    assert entry["sequence"] == 8
    assert entry["previous_entry_sha256"] == _sha256_of(project_copy, "lb-0007")
    assert (entry["started"], entry["ended"]) == ("2025-10-09T08:53:20.123Z", "2025-10-09T09:53:20Z")
    assert entry["run_type"] == "validation"
    assert entry["performed_by"] == "Lea Brandt"
    assert entry["code_version"] == {"repository": "https://git.thoravis.example/ml/cxr-models.git", "commit": "e4ad8e0"}
    # The input's `sha256` tag is the hash the run used.
    assert entry["datasets"] == [{"dataset": "cxr-internal-val", "sha256": INTERNAL_VAL_SHA256, "split": "validation"}]
    assert "uncommitted changes" in entry["notes"]
    assert "hyperparameters" not in entry and "environment" not in entry

    assert second.conflicts == []
    assert second.results_added == ["auroc (sex=female) on cxr-internal-val: 0.969",
                                    "specificity (projection=PA, sex=female) on cxr-internal-val: 0.93"]
    assert ("dataset: cxr-external-test}\n"
            "  - {metric: auroc, value: 0.969, slice: {sex: female}, dataset: cxr-internal-val}\n"
            "  - {metric: specificity, value: 0.93, slice: {projection: PA, sex: female}, dataset: cxr-internal-val}\n"
            "ethical_considerations: >-\n") in (project_copy / MODEL_FILE).read_text(encoding="utf-8")
    assert any("auroc (overall) on cxr-internal-val = 0.974: already recorded" in m for m in second.mapped)
    assert load_project(project_copy).errors == []


def test_unknown_run_id_is_an_import_error(project_copy: Path, stores: Stores) -> None:
    before = logbook_files(project_copy)
    for run in (stores.evaluation, stores.validation):
        with pytest.raises(MlflowImportError, match="no MLflow run '0123456789abcdef0123456789abcdef'"):
            import_mlflow_run(project_copy, run.tracking_uri, "0123456789abcdef0123456789abcdef", model_id=MODEL)
    assert logbook_files(project_copy) == before


def test_missing_store_is_an_import_error_and_is_not_created(project_copy: Path, tmp_path: Path) -> None:
    for uri, path in ((str(tmp_path / "nowhere" / "mlruns"), tmp_path / "nowhere"),
                      (f"sqlite:///{tmp_path}/missing.db", tmp_path / "missing.db")):
        with pytest.raises(MlflowImportError, match="no MLflow"):
            import_mlflow_run(project_copy, uri, "0123456789abcdef", model_id=MODEL)
        assert not path.exists()


def test_without_model_a_project_of_several_models_asks_for_one(project_copy: Path, stores: Stores) -> None:
    with pytest.raises(MlflowImportError, match="--model"):
        import_mlflow_run(project_copy, stores.evaluation.tracking_uri, stores.evaluation.run_id)


def test_a_run_is_imported_once(project_copy: Path, stores: Stores) -> None:
    import_mlflow_run(project_copy, stores.evaluation.tracking_uri, stores.evaluation.run_id, model_id=MODEL)
    with pytest.raises(MlflowImportError, match="already in the logbook as 'lb-0007'"):
        import_mlflow_run(project_copy, stores.evaluation.tracking_uri, stores.evaluation.run_id, model_id=MODEL)


def _sha256_of(project: Path, entry_id: str) -> str:
    loaded = load_project(project).project
    return entry_sha256(loaded, next(e for e in loaded.logbook if e.id == entry_id))


NEW_RESULT = {"metric": "auroc", "value": 0.9, "slice": {"age_band": "75+"}, "dataset": "cxr-external-test"}


@pytest.mark.parametrize(("before", "after"), [
    pytest.param("id: m\nresults: []\ncaveats: x\n",
                 "id: m\nresults:\n  - {metric: auroc, value: 0.9, slice: {age_band: 75+}, dataset: cxr-external-test}\ncaveats: x\n",
                 id="empty flow list"),
    pytest.param("id: m\nresults: [{metric: auroc, value: 0.8}]  # overall\ncaveats: x\n",
                 "id: m\nresults: [{metric: auroc, value: 0.8}, {metric: auroc, value: 0.9, slice: {age_band: 75+}, "
                 "dataset: cxr-external-test}]  # overall\ncaveats: x\n",
                 id="flow list"),
    pytest.param("id: m\nresults:\n- metric: auroc\n  value: 0.8\n  slice:\n    sex: female\n# checked\ncaveats: |\n  x\n",
                 "id: m\nresults:\n- metric: auroc\n  value: 0.8\n  slice:\n    sex: female\n- metric: auroc\n  value: 0.9\n"
                 "  slice:\n    age_band: 75+\n  dataset: cxr-external-test\n# checked\ncaveats: |\n  x\n",
                 id="block mappings"),
    pytest.param("id: m\r\nresults:\r\n  - {metric: auroc, value: 0.8}  # overall\r\n",
                 "id: m\r\nresults:\r\n  - {metric: auroc, value: 0.8}  # overall\r\n"
                 "  - {metric: auroc, value: 0.9, slice: {age_band: 75+}, dataset: cxr-external-test}\r\n",
                 id="CRLF, last line"),
])
def test_results_are_appended_in_the_style_of_the_list(tmp_path: Path, before: str, after: str) -> None:
    from techfile.integrations.mlflow_import import _with_results

    path = tmp_path / "m.yaml"
    path.write_bytes(before.encode("utf-8"))
    assert _with_results(path, [NEW_RESULT]) == after


def test_a_file_that_is_no_sqlite_database_is_an_import_error(project_copy: Path, tmp_path: Path) -> None:
    database = tmp_path / "mlflow.db"
    database.write_text("not a database", encoding="utf-8")
    with pytest.raises(MlflowImportError, match="MLflow cannot read"):
        import_mlflow_run(project_copy, f"sqlite:///{database}", "0123456789abcdef", model_id=MODEL)
