"""Machine-readable exports of the sample: a CycloneDX 1.6 ML-BOM checked by cyclonedx-python-lib, and the project as JSON
checked against schemas/export.schema.json."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from techfile.assess.classification import classify
from techfile.integrations.cyclonedx import ExportError, cyclonedx_bom
from techfile.integrations.json_export import EXPORT_SCHEMA_ID, project_json
from techfile.loading import load_project
from techfile.project import Project

from conftest import SAMPLE, SCHEMAS

cyclonedx = pytest.importorskip("cyclonedx")


@pytest.fixture(scope="module")
def project() -> Project:
    loaded = load_project(SAMPLE)
    assert not loaded.errors
    return loaded.project


@pytest.fixture(scope="module")
def bom(project: Project) -> dict[str, Any]:
    return json.loads(cyclonedx_bom(project))


def components(bom: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {c["bom-ref"]: c for c in bom["components"] if c["type"] == kind}


def properties(component: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for prop in component.get("properties", []):
        found.setdefault(prop["name"], []).append(prop["value"])
    return found


# --- CycloneDX ---------------------------------------------------------------------------------


def test_bom_passes_the_strict_1_6_schema(project: Project) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = cyclonedx_bom(project)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert (bom["bomFormat"], bom["specVersion"], bom["version"]) == ("CycloneDX", "1.6", 1)


def test_the_system_is_the_bom_subject(project: Project, bom: dict[str, Any]) -> None:
    assert project.system is not None and project.settings is not None
    system = bom["metadata"]["component"]
    assert (system["type"], system["name"], system["version"]) == ("application", project.system.name, project.system.version)
    assert system["supplier"]["name"] == project.settings.provider.name
    assert system["supplier"]["contact"] == [{"email": project.settings.provider.contact}]


def test_every_model_appears_with_every_result_of_its_card(project: Project, bom: dict[str, Any]) -> None:
    models = components(bom, "machine-learning-model")
    assert sorted(models) == sorted(f"model:{m.id}" for m in project.models)
    for model in project.models:
        card = models[f"model:{model.id}"]["modelCard"]
        metrics = card["quantitativeAnalysis"]["performanceMetrics"]
        assert len(metrics) == len(model.results)
        for result, metric in zip(model.results, metrics, strict=True):
            assert metric["type"] == result.metric
            assert float(metric["value"]) == result.value
            label = ", ".join(f"{k}={v}" for k, v in sorted(result.slice.items())) or "overall"
            assert metric["slice"] == (f"{label} on {result.dataset}" if result.dataset else label)
            if result.ci:
                interval = metric["confidenceInterval"]
                assert [float(interval["lowerBound"]), float(interval["upperBound"])] == result.ci
        sliced = [r for r in model.results if r.slice]
        assert len(card["considerations"]["fairnessAssessments"]) == len(sliced)
        parameters = card["modelParameters"]
        assert parameters["task"] == model.task and parameters["architectureFamily"] == model.model_type
        used = list(dict.fromkeys(model.training_data + model.evaluation_data))
        assert parameters["datasets"] == [{"ref": f"dataset:{d}"} for d in used]


def test_an_intersection_is_assessed_against_its_threshold(bom: dict[str, Any]) -> None:
    card = components(bom, "machine-learning-model")["model:nodule-detector"]["modelCard"]
    older_women = [a for a in card["considerations"]["fairnessAssessments"] if a["groupAtRisk"] == "age_band=75+, sex=female"]
    assert len(older_women) == 3
    assert any("0.856" in a["benefits"] and "intersection threshold 0.78" in a["benefits"] for a in older_women)


def test_every_dataset_appears_with_its_hash(project: Project, bom: dict[str, Any]) -> None:
    datasets = components(bom, "data")
    assert sorted(datasets) == sorted(f"dataset:{d.id}" for d in project.datasets)
    for dataset in project.datasets:
        component = datasets[f"dataset:{dataset.id}"]
        assert component["name"] == dataset.name and component["version"] == dataset.version
        (data,) = component["data"]
        assert data["type"] == "dataset" and data["name"] == dataset.name
        if dataset.sha256:
            assert component["hashes"] == [{"alg": "SHA-256", "content": dataset.sha256}]
        if dataset.personal_data and dataset.personal_data.categories:
            assert data["sensitiveData"] == dataset.personal_data.categories


def test_dependencies_link_system_models_and_datasets(project: Project, bom: dict[str, Any]) -> None:
    assert project.system is not None
    graph = {d["ref"]: d["dependsOn"] for d in bom["dependencies"]}
    assert graph[f"system:{project.system.id}"] == [f"model:{m.id}" for m in project.models]
    for model in project.models:
        expected = dict.fromkeys(model.training_data + model.evaluation_data)
        assert graph[f"model:{model.id}"] == [f"dataset:{d}" for d in expected]
    refs = {c["bom-ref"] for c in bom["components"]} | {bom["metadata"]["component"]["bom-ref"]}
    assert set(graph) == refs


def test_eu_ai_act_and_soa_facts_are_properties(project: Project, bom: dict[str, Any]) -> None:
    assert project.system is not None and project.soa is not None
    facts = properties(bom["metadata"]["component"])
    outcome = classify(project.system)
    assert facts["techfile:eu-ai-act:risk-class"] == [outcome.risk_class]
    assert facts["techfile:eu-ai-act:deciding-provision"] == [outcome.deciding_ref]
    for decision in project.soa.decisions:
        applicability = "applicable" if decision.applicable else "not-applicable"
        assert facts[f"techfile:iso42001:soa:{decision.control}"] == [f"{applicability}/{decision.status}"]
    assert all(name.startswith("techfile:") for name in facts)


def test_bom_is_deterministic_and_dated_from_the_sources(project: Project, project_copy: Path) -> None:
    assert project.settings is not None
    first, second = cyclonedx_bom(project), cyclonedx_bom(project)
    assert first == second
    assert cyclonedx_bom(load_project(project_copy).project) == first  # nor does the project's folder matter
    bom = json.loads(first)
    assert bom["metadata"]["timestamp"] == f"{project.settings.document_control.date}T00:00:00Z"
    serial = uuid.UUID(bom["serialNumber"].removeprefix("urn:uuid:"))
    assert serial.version == 5
    dated = json.loads(cyclonedx_bom(project, build_date="2027-01-31"))
    assert dated["metadata"]["timestamp"] == "2027-01-31T00:00:00Z"
    assert dated["serialNumber"] != bom["serialNumber"]  # the content hash covers the timestamp


def test_a_bom_the_schema_refuses_raises_export_error(project: Project) -> None:
    broken = dataclasses.replace(project.datasets[0], sha256="not-a-hash")
    odd = dataclasses.replace(project, datasets=[broken, *project.datasets[1:]])
    with pytest.raises(ExportError, match=r"does not meet the 1\.6 schema at .*hashes.*not-a-hash"):
        cyclonedx_bom(odd)


def test_without_the_extra_the_bom_raises_missing_extra() -> None:
    code = ("import sys; sys.modules['cyclonedx'] = None\n"
            "from techfile.integrations import MissingExtra\n"
            "from techfile.integrations.cyclonedx import cyclonedx_bom\n"
            "from techfile.loading import load_project\n"
            "try:\n"
            f"    cyclonedx_bom(load_project({str(SAMPLE)!r}).project)\n"
            "except MissingExtra as error:\n"
            "    print(error.extra, error)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "cyclonedx this command needs the optional extra: pip install 'techfile[cyclonedx]'"


def test_importing_the_module_does_not_import_cyclonedx() -> None:
    code = "import sys, techfile.integrations.cyclonedx; print('cyclonedx' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


# --- the project as JSON -----------------------------------------------------------------------


def export_schema() -> dict[str, Any]:
    return json.loads((SCHEMAS / "export.schema.json").read_text(encoding="utf-8"))


def test_json_export_validates_against_its_schema(project: Project) -> None:
    schema = export_schema()
    Draft202012Validator.check_schema(schema)
    document = json.loads(project_json(project))
    errors = [f"{e.json_path}: {e.message}" for e in Draft202012Validator(schema).iter_errors(document)]
    assert errors == []
    assert document["$schema"] == EXPORT_SCHEMA_ID == schema["$id"]


def test_json_export_holds_every_entity_id(project: Project) -> None:
    document = json.loads(project_json(project))
    singles = ("system", "soa", "gspr", "fria", "monitoring", "registration", "gpai_model")  # one of each kind, or null
    exported = {document[key]["id"] for key in singles if document[key] is not None}
    for key, value in document.items():
        if key != "frameworks" and isinstance(value, list):
            exported |= {entity["id"] for entity in value}
    ids = [entity.id for entity in project.entities()]
    assert len(ids) > 50
    assert exported == set(ids)
    assert [f["framework"]["id"] for f in document["frameworks"]] == [f.framework.id for f in project.frameworks]


def test_json_export_writes_prose_locations_and_source_keys(project: Project) -> None:
    assert project.system is not None
    document = json.loads(project_json(project))
    model = next(m for m in document["models"] if m["id"] == "nodule-detector")
    assert model["architecture"]["file"] == "docs/nodule-detector-architecture.md"
    assert model["architecture"]["text"].startswith("## Nodule detector")
    assert model["caveats"]["file"] is None
    assert model["location"] == "models/nodule-detector.yaml:2:1"
    assert model["results"][0]["location"].startswith("models/nodule-detector.yaml:")
    assert document["system"]["interactions"] and all("with" in i and "with_" not in i for i in document["system"]["interactions"])
    assert "root" not in document


def test_json_export_is_deterministic(project: Project, project_copy: Path) -> None:
    text = project_json(project)
    assert text == project_json(project) == project_json(load_project(project_copy).project)
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_export_schema_is_closed_at_the_top_and_describes_what_it_declares() -> None:
    schema = export_schema()
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) <= set(schema["properties"])
    project_fields = {f.name for f in dataclasses.fields(Project)} - {"root"}
    assert project_fields | {"$schema", "techfile_version"} <= set(schema["properties"]), "declare new Project fields"
    for name, prop in schema["properties"].items():
        assert prop.get("description", "").strip(), name
