"""OpenLineage import: RunEvents written by openlineage-python, imported into a copy of the sample, checked, and shown in
the datasheet (lineage table and a deterministic SVG diagram) and in Annex IV point 2(d) of the technical file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from techfile.integrations import MissingExtra
from techfile.publish.build import build

from conftest import SAMPLE, SCHEMAS, run_cli

ol = pytest.importorskip("openlineage.client.event_v2")
from openlineage.client.facet_v2 import column_lineage_dataset, schema_dataset  # noqa: E402
from openlineage.client.serde import Serde  # noqa: E402

from techfile.integrations.openlineage_import import LineageError, import_openlineage  # noqa: E402

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/airflow"
ENCLAVE, JOBS = "s3://thoravis-enclave", "airflow-enclave"
RELEASE = "releases/cxr-train/3.0.0"  # mapped to cxr-train through lineage_names
CURATE_RUN, SPLIT_RUN, TRAIN_RUN = ("01917a3e-5c1d-7b2a-9e4f-3a5b6c7d8e90", "01990b12-0f3e-7c4d-8a5b-6c7d8e9f0a1b",
                                    "0199a4c0-1b2c-7d3e-8f40-516273849a5b")
LINEAGE_ID = "cxr-release-3"
SHEET = "thoravis-cxr-datasheet-cxr-train"


def fields(*names: tuple[str, str]) -> schema_dataset.SchemaDatasetFacet:
    return schema_dataset.SchemaDatasetFacet(fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in names])


def derived(source: str, field: str, description: str, masking: bool | None = None) -> column_lineage_dataset.Fields:
    transformation = column_lineage_dataset.Transformation(type="DIRECT", subtype="TRANSFORMATION", description=description,
                                                           masking=masking)
    return column_lineage_dataset.Fields(inputFields=[column_lineage_dataset.InputField(ENCLAVE, source, field,
                                                                                        transformations=[transformation])])


def run_events(job: str, run_id: str, start: str, end: str, inputs: list[Any], outputs: list[Any]) -> list[Any]:
    """START and COMPLETE events of one run."""
    return [ol.RunEvent(eventType=state, eventTime=time, producer=PRODUCER, run=ol.Run(runId=run_id),
                        job=ol.Job(namespace=JOBS, name=job), inputs=inputs, outputs=outputs)
            for state, time in ((ol.RunState.START, start), (ol.RunState.COMPLETE, end))]


def release_events() -> list[Any]:
    """Landing zone → curation → split into the training set (with column lineage) → a training job reading it."""
    landing = ol.InputDataset(ENCLAVE, "landing/dicom", facets={"schema": fields(("patient_id", "STRING"), ("pixel_data", "BINARY"))})
    reports = ol.InputDataset(ENCLAVE, "landing/reports", facets={"schema": fields(("report_text", "STRING"))})
    curated = ol.OutputDataset(ENCLAVE, "curated/studies", facets={
        "schema": fields(("patient_pseudonym", "STRING"), ("image", "BINARY"), ("report_text", "STRING")),
        "columnLineage": column_lineage_dataset.ColumnLineageDatasetFacet(fields={
            "patient_pseudonym": derived("landing/dicom", "patient_id", "keyed hash", masking=True)})})
    release = ol.OutputDataset(ENCLAVE, RELEASE, facets={
        "schema": fields(("patient_pseudonym", "STRING"), ("image", "BINARY"), ("label_pneumothorax", "BOOLEAN")),
        "columnLineage": column_lineage_dataset.ColumnLineageDatasetFacet(fields={
            "label_pneumothorax": derived("curated/studies", "report_text", "NLP label extraction, radiologist-reviewed")})})
    model = ol.OutputDataset("s3://thoravis-models", "pneumothorax-classifier/1.2.0")
    return (run_events("cxr_release.curate", CURATE_RUN, "2026-02-02T06:00:00Z", "2026-02-03T19:42:10Z",
                       [landing, reports], [curated])
            + run_events("cxr_release.split", SPLIT_RUN, "2026-02-04T08:00:00+01:00", "2026-02-04T08:31:55+01:00",
                         [ol.InputDataset(ENCLAVE, "curated/studies")], [release])
            + run_events("train.pneumothorax-classifier", TRAIN_RUN, "2026-02-05T22:10:00Z", "2026-02-06T23:30:00.250Z",
                         [ol.InputDataset(ENCLAVE, RELEASE)], [model]))


def write_jsonl(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((line if isinstance(line, str) else Serde.to_json(line)) + "\n" for line in lines), encoding="utf-8")
    return path


def map_release_to_cxr_train(project: Path) -> None:
    path = project / "datasets" / "cxr-train.yaml"
    path.write_text(path.read_text(encoding="utf-8") + f"lineage_names:\n  - namespace: {ENCLAVE}\n    name: {RELEASE}\n",
                    encoding="utf-8")


@pytest.fixture
def imported(project_copy: Path, tmp_path: Path) -> tuple[Path, Any]:
    map_release_to_cxr_train(project_copy)
    events = write_jsonl(tmp_path / "cxr-release-3.jsonl", release_events())
    return project_copy, import_openlineage(project_copy, events, LINEAGE_ID, "CXR release 3.0.0")


def node(source: dict[str, Any], namespace: str, name: str) -> dict[str, Any]:
    return next(n for n in source["datasets"] if (n["namespace"], n["name"]) == (namespace, name))


# --- import -----------------------------------------------------------------------------------


def test_import_writes_the_lineage_source(imported: tuple[Path, Any]) -> None:
    project, result = imported
    path = project / "lineage" / f"{LINEAGE_ID}.yaml"
    assert result.path == path and result.events == 6
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../schemas/lineage.schema.json"
    source = yaml.safe_load(text)
    assert source == result.source
    schema = json.loads((SCHEMAS / "lineage.schema.json").read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema).iter_errors(source)) == []

    assert source["id"] == LINEAGE_ID and source["title"] == "CXR release 3.0.0"
    assert source["imported_from"] == "cxr-release-3.jsonl"
    assert source["imported_on"] == "2026-02-06"  # the latest event, not the day of the import
    assert source["producers"] == [PRODUCER]
    release = node(source, ENCLAVE, RELEASE)
    assert release["dataset"] == "cxr-train"
    assert release["fields"] == [{"name": "patient_pseudonym", "type": "STRING"}, {"name": "image", "type": "BINARY"},
                                 {"name": "label_pneumothorax", "type": "BOOLEAN"}]
    assert "dataset" not in node(source, ENCLAVE, "curated/studies")
    assert any("→ dataset cxr-train (by lineage_names)" in m for m in result.mapped)

    split = next(j for j in source["jobs"] if j["name"] == "cxr_release.split")
    assert split == {"namespace": JOBS, "name": "cxr_release.split", "runs": [{"run_id": SPLIT_RUN, "events": [
        {"type": "START", "time": "2026-02-04T08:00:00+01:00"}, {"type": "COMPLETE", "time": "2026-02-04T08:31:55+01:00"}]}]}
    assert {"input": {"namespace": ENCLAVE, "name": "curated/studies"}, "job": {"namespace": JOBS, "name": "cxr_release.split"},
            "output": {"namespace": ENCLAVE, "name": RELEASE}} in source["edges"]
    assert len(source["edges"]) == 4
    assert {"output": {"namespace": ENCLAVE, "name": RELEASE}, "field": "label_pneumothorax", "inputs": [
        {"namespace": ENCLAVE, "name": "curated/studies", "field": "report_text", "transformations": [
            {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "NLP label extraction, radiologist-reviewed"}]}]
            } in source["column_lineage"]


def test_check_is_clean_after_import(imported: tuple[Path, Any]) -> None:
    project, _ = imported
    result = run_cli("check", str(project))
    assert result.exit_code == 0, result.output
    assert "ok: 0 errors, 0 warnings" in result.output


def test_a_dataset_that_maps_to_no_techfile_dataset_is_reported_and_kept(imported: tuple[Path, Any]) -> None:
    project, result = imported
    assert any(m.startswith("pneumothorax-classifier/1.2.0 (s3://thoravis-models), first named on cxr-release-3.jsonl:5: "
                            "no techfile dataset") for m in result.unmapped), result.unmapped
    assert len(result.unmapped) == 4  # landing/dicom, landing/reports, curated/studies and the model
    source = yaml.safe_load((project / "lineage" / f"{LINEAGE_ID}.yaml").read_text(encoding="utf-8"))
    assert node(source, "s3://thoravis-models", "pneumothorax-classifier/1.2.0") == {
        "namespace": "s3://thoravis-models", "name": "pneumothorax-classifier/1.2.0"}
    assert {"input": {"namespace": ENCLAVE, "name": RELEASE},
            "job": {"namespace": JOBS, "name": "train.pneumothorax-classifier"},
            "output": {"namespace": "s3://thoravis-models", "name": "pneumothorax-classifier/1.2.0"}} in source["edges"]


def test_a_name_equal_to_a_dataset_id_maps_without_lineage_names(project_copy: Path, tmp_path: Path) -> None:
    events = run_events("cxr_release.split", SPLIT_RUN, "2026-02-04T08:00:00Z", "2026-02-04T08:31:55Z",
                        [ol.InputDataset(ENCLAVE, "curated/studies")], [ol.OutputDataset("registry", "cxr-external-test")])
    without_producer = [json.dumps({k: v for k, v in json.loads(Serde.to_json(e)).items() if k != "producer"}) for e in events]
    result = import_openlineage(project_copy, write_jsonl(tmp_path / "external.jsonl", without_producer))
    assert result.lineage_id == "lineage-external" and result.path == project_copy / "lineage" / "lineage-external.yaml"
    assert node(result.source, "registry", "cxr-external-test")["dataset"] == "cxr-external-test"
    assert result.mapped == ["cxr-external-test (registry) → dataset cxr-external-test (by name equal to its id)"]
    assert "producers" not in result.source  # not filled in with openlineage-python's own producer


def test_malformed_lines_are_reported_with_their_line_numbers(project_copy: Path, tmp_path: Path) -> None:
    good = Serde.to_json(release_events()[0])
    no_run_id = json.loads(good)
    del no_run_id["run"]["runId"]
    bad_time = json.loads(good) | {"eventTime": "yesterday"}
    bad_type = json.loads(good) | {"eventType": "DONE"}
    events = write_jsonl(tmp_path / "broken.jsonl", [good, '{"eventTime": "2026-02-02T06:00:00Z", ', "",
                                                     json.dumps(no_run_id), json.dumps(bad_time), json.dumps(bad_type)])
    with pytest.raises(LineageError) as raised:
        import_openlineage(project_copy, events)
    assert raised.value.problems[0].startswith("broken.jsonl:2: not JSON: ")
    assert raised.value.problems[1] == "broken.jsonl:4: not an OpenLineage RunEvent: run.runId: missing"
    assert raised.value.problems[2].startswith("broken.jsonl:5: not an OpenLineage RunEvent: eventTime: 'yesterday' is not valid (")
    assert raised.value.problems[3] == ("broken.jsonl:6: not an OpenLineage RunEvent: eventType: 'DONE' is not one of START, "
                                        "RUNNING, COMPLETE, ABORT, FAIL, OTHER")
    assert len(raised.value.problems) == 4
    assert not (project_copy / "lineage" / "lineage-broken.yaml").exists()


def test_a_wrong_type_and_a_bad_run_id_are_located(project_copy: Path, tmp_path: Path) -> None:
    good = json.loads(Serde.to_json(release_events()[0]))
    wrong_type = json.loads(json.dumps(good))
    wrong_type["inputs"][0]["name"] = 7
    bad_run_id = json.loads(json.dumps(good))
    bad_run_id["run"]["runId"] = "run-1"
    with pytest.raises(LineageError) as raised:
        import_openlineage(project_copy, write_jsonl(tmp_path / "types.jsonl", [json.dumps(wrong_type), json.dumps(bad_run_id), "[]"]))
    assert raised.value.problems == [
        "types.jsonl:1: not an OpenLineage RunEvent: inputs[0].name: expected a string, got a number",
        "types.jsonl:2: not an OpenLineage RunEvent: run.runId: 'run-1' is not valid (badly formed hexadecimal UUID string)",
        "types.jsonl:3: not an OpenLineage RunEvent: the line: expected a JSON object, got a list",
    ]


def test_import_never_overwrites_and_refuses_a_used_id(imported: tuple[Path, Any], tmp_path: Path) -> None:
    project, result = imported
    before = result.path.read_bytes()
    events = tmp_path / "cxr-release-3.jsonl"
    with pytest.raises(FileExistsError, match="not overwritten"):
        import_openlineage(project, events, LINEAGE_ID)
    assert result.path.read_bytes() == before
    with pytest.raises(LineageError, match="'cxr-train' is already used"):
        import_openlineage(project, events, "cxr-train")


def test_without_openlineage_the_import_asks_for_the_extra(project_copy: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "openlineage" or m.startswith("openlineage.")]:
        monkeypatch.setitem(sys.modules, name, None)
    events = write_jsonl(tmp_path / "events.jsonl", ["{}"])
    with pytest.raises(MissingExtra, match=r"techfile\[openlineage\]"):
        import_openlineage(project_copy, events)


# --- documents --------------------------------------------------------------------------------


def test_build_shows_the_lineage_in_the_datasheet_and_the_technical_file(imported: tuple[Path, Any], tmp_path: Path) -> None:
    project, _ = imported
    result = build(project, tmp_path / "build", only={"datasheets", "technical-file"}, site=False, pdf=False)
    markdown = tmp_path / "build" / "markdown"
    sheet = (markdown / f"{SHEET}.md").read_text(encoding="utf-8")
    assert sheet.count("## Lineage (Art. 10(2)(b))") == 1
    assert "### CXR release 3.0.0\n" in sheet and "### Dataset release 2.0.0: curation and split\n" in sheet
    assert "| Steps upstream | Input dataset | Job | Output dataset | Runs | Last event |" in sheet
    assert (r"| 1 | curated/studies (s3://thoravis-enclave) | cxr\_release.split (airflow-enclave) | "
            r"releases/cxr-train/3.0.0 (s3://thoravis-enclave) = dataset cxr-train | 1 | 2026-02-04 08:31:55+01:00 (COMPLETE) |"
            ) in sheet
    assert r"| 2 | landing/dicom (s3://thoravis-enclave) | cxr\_release.curate (airflow-enclave) |" in sheet
    assert (r"| label\_pneumothorax | curated/studies (s3://thoravis-enclave) | report\_text | "
            "DIRECT/TRANSFORMATION: NLP label extraction, radiologist-reviewed |") in sheet
    assert (r"| patient\_pseudonym | landing/dicom (s3://thoravis-enclave) | patient\_id | "
            "DIRECT/TRANSFORMATION, masking: keyed hash |") in sheet
    assert "#### Jobs that read this dataset" in sheet and "train.pneumothorax-classifier (airflow-enclave)" in sheet
    assert f"(charts/lineage-{LINEAGE_ID}-cxr-train.svg)" in sheet
    svg = (markdown / "charts" / f"lineage-{LINEAGE_ID}-cxr-train.svg").read_bytes()
    assert svg.startswith(b"<?xml") and b"<dc:date>" not in svg
    for label in (b"cxr-train", b"cxr_release.split", b"curated/studies", b"pneumothorax-classifier/1.2.0"):
        assert label in svg
    chart_names = {c.name for d in result.documents for c in d.charts}
    assert f"lineage-{LINEAGE_ID}-cxr-train" in chart_names and f"lineage-{LINEAGE_ID}-cxr-internal-val" not in chart_names

    technical_file = (markdown / "thoravis-cxr-technical-file.md").read_text(encoding="utf-8")
    assert "| Dataset | Lineage graph | Imported from | Latest event | Upstream datasets | Jobs |" in technical_file
    assert ("| CXR release 3.0.0 (lineage/cxr-release-3.yaml) | cxr-release-3.jsonl | 2026-02-06 | "
            "curated/studies (s3://thoravis-enclave), landing/dicom (s3://thoravis-enclave), landing/reports "
            "(s3://thoravis-enclave) | cxr\\_release.curate (airflow-enclave), cxr\\_release.split (airflow-enclave), "
            "train.pneumothorax-classifier (airflow-enclave) |") in technical_file


def test_lineage_svg_is_byte_identical_across_builds(imported: tuple[Path, Any], tmp_path: Path) -> None:
    """Built twice, the second time in a fresh interpreter with another hash seed."""
    project, _ = imported
    build(project, tmp_path / "first", only={"datasheets"}, site=False, pdf=False)
    code = "import sys; from techfile.publish.build import build; build(sys.argv[1], sys.argv[2], only={'datasheets'}, site=False, pdf=False)"
    subprocess.run([sys.executable, "-c", code, str(project), str(tmp_path / "second")], check=True,
                   env={**os.environ, "PYTHONHASHSEED": "12345"})
    name = f"charts/lineage-{LINEAGE_ID}-cxr-train.svg"
    first = (tmp_path / "first" / "markdown" / name).read_bytes()
    assert first == (tmp_path / "second" / "markdown" / name).read_bytes()
    assert (tmp_path / "first" / "markdown" / f"{SHEET}.md").read_bytes() == (tmp_path / "second" / "markdown" / f"{SHEET}.md").read_bytes()


def test_the_sample_lineage_shows_in_the_sample_datasheet(tmp_path: Path) -> None:
    build(SAMPLE, tmp_path / "build", only={"datasheets"}, site=False, pdf=False)
    sheet = (tmp_path / "build" / "markdown" / f"{SHEET}.md").read_text(encoding="utf-8")
    assert "## Lineage (Art. 10(2)(b))" in sheet and "(charts/lineage-cxr-release-2.0.0-cxr-train.svg)" in sheet
    external = (tmp_path / "build" / "markdown" / "thoravis-cxr-datasheet-cxr-external-test.md").read_text(encoding="utf-8")
    assert "Lineage" not in external


def test_checking_a_project_with_lineage_imports_neither_openlineage_nor_grandalf() -> None:
    code = ("import sys; from techfile.loading import load_project; load_project(sys.argv[1]);"
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('openlineage', 'grandalf'))))")
    loaded = subprocess.run([sys.executable, "-c", code, str(SAMPLE)], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []
