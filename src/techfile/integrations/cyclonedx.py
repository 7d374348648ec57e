"""CycloneDX 1.6: the AI system as an ML-BOM, its models with model cards and its datasets, checked against the schema.

The JSON is built here, not with cyclonedx-python-lib's object model (which has no model card yet); the library is
used to validate the result and is imported only inside `cyclonedx_bom` (`pip install 'techfile[cyclonedx]'`).

The output is deterministic: keys sorted, lists in the project's order, no clock. `metadata.timestamp` is the given
build date, else techfile.yaml's `document_control.date`; `serialNumber` is a UUID 5 of the project id, the system
version and the SHA-256 of the rest of the document.

How the project lands in the BOM:
- `metadata.component` is the system (type application, supplier = the provider); EU AI Act and Statement of
  Applicability facts are its `properties`, named `techfile:eu-ai-act:*` and `techfile:iso42001:soa:<control>`
  (value `applicable/<status>` or `not-applicable/<status>`).
- each model is a `machine-learning-model` component with a `modelCard`: one performance metric per result, whose
  `slice` is the result's slice label (`overall`, `sex=female`, `age_band=75+, sex=female`) followed by
  ` on <dataset id>` when the result names its dataset (the same metric is often reported on several datasets,
  and a performance metric has no other place for it); one fairness assessment per subgroup or intersection result,
  whose `benefits` (threshold met) or `harms` (threshold missed) state the result against its threshold. The
  learning approach is `supervised` when every training dataset has label counts, and left out otherwise. Metric
  thresholds are component properties (`techfile:metric:<id>:threshold`, ...).
- each dataset is a `data` component with one `data` entry and its SHA-256; EU AI Act Art. 10 facts are properties.
- `dependencies`: the system depends on its models, each model on its training and evaluation datasets.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from dataclasses import fields
from typing import Any

from techfile import __version__
from techfile.assess.classification import classify
from techfile.assess.metrics import INCONCLUSIVE, PASS, ResultVerdict, judge_results, slice_label, threshold_text
from techfile.integrations import MissingExtra
from techfile.project import Dataset, MetricResult, Model, Project, Prose, Provider, System

__all__ = ["ExportError", "MissingExtra", "cyclonedx_bom"]

SPEC_VERSION = "1.6"
BOM_SCHEMA = "http://cyclonedx.org/schema/bom-1.6.schema.json"
NAMESPACE = "techfile"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://\S+$")


class ExportError(ValueError):
    """An export that does not meet its format's schema (a bug in techfile, or a project it cannot express)."""


def cyclonedx_bom(project: Project, build_date: str | None = None) -> str:
    """CycloneDX 1.6 JSON of the project's system, models and datasets, validated with cyclonedx-python-lib.

    `build_date` (YYYY-MM-DD) dates the BOM; without it, techfile.yaml's document_control.date does.
    """
    validator = _strict_validator()
    settings, system = project.settings, project.system
    if settings is None or system is None:
        raise ExportError("the project has no techfile.yaml or no system.yaml: there is nothing to describe")
    refs = _Refs(project)
    bom: dict[str, Any] = {
        "$schema": BOM_SCHEMA,
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": {
            "timestamp": _timestamp(build_date or settings.document_control.date),
            "tools": {"components": [{"type": "application", "name": "techfile", "version": __version__}]},
            "component": _system_component(project, system, refs),
            "properties": _properties([
                ("project:id", settings.id),
                ("project:title", settings.title),
                ("document-control:version", settings.document_control.version),
                ("document-control:date", settings.document_control.date),
                ("document-control:status", settings.document_control.status),
                *(("framework", framework) for framework in settings.frameworks),
            ]),
        },
        "components": ([_model_component(project, model, refs) for model in project.models]
                       + [_dataset_component(dataset, refs) for dataset in project.datasets]),
        "dependencies": _dependencies(project, system, refs),
    }
    digest = hashlib.sha256(_dump(bom).encode("utf-8")).hexdigest()
    serial = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:techfile:{settings.id}:{system.version}:{digest}")
    text = _dump({**bom, "serialNumber": serial.urn})
    error = _validate(validator, text)
    if error is not None:
        detail = error.data
        where = getattr(detail, "json_path", "$")
        raise ExportError(f"the CycloneDX export does not meet the {SPEC_VERSION} schema at {where}: {detail.message}")
    return text


# --- the system ------------------------------------------------------------------------------


class _Refs:
    """bom-refs: `<kind>:<id>`, for the entities that are components of this BOM."""

    def __init__(self, project: Project) -> None:
        self.models = {m.id: f"model:{m.id}" for m in project.models}
        self.datasets = {d.id: f"dataset:{d.id}" for d in project.datasets}

    @staticmethod
    def system(system: System) -> str:
        return f"system:{system.id}"


def _system_component(project: Project, system: System, refs: _Refs) -> dict[str, Any]:
    assert project.settings is not None
    return _clean({
        "type": "application",
        "bom-ref": refs.system(system),
        "name": system.name,
        "version": system.version,
        "description": _text(system.intended_purpose),
        "supplier": _organisation(project.settings.provider),
        "properties": _properties([("system:id", system.id), *_eu_ai_act_facts(project, system), *_soa_facts(project)]),
    })


def _organisation(provider: Provider) -> dict[str, Any]:
    contact = provider.contact.strip()
    entity: dict[str, Any] = {"name": provider.name}
    if _EMAIL.match(contact):
        entity["contact"] = [{"email": contact}]
    elif _URL.match(contact):
        entity["url"] = [contact]
    elif contact:
        entity["contact"] = [{"name": contact}]
    return entity


def _eu_ai_act_facts(project: Project, system: System) -> list[tuple[str, str | None]]:
    assert project.settings is not None
    if "eu-ai-act" not in project.settings.frameworks:
        return []
    outcome = classify(system)
    use = system.classification.annex_iii
    return [
        ("eu-ai-act:operator-role", ", ".join(project.settings.roles)),
        ("eu-ai-act:risk-class", outcome.risk_class),
        ("eu-ai-act:deciding-provision", outcome.deciding_ref),
        ("eu-ai-act:route", outcome.route or None),
        ("eu-ai-act:annex-iii-use-case", use.use_case if use.applies else None),
        ("eu-ai-act:conformity-assessment", outcome.conformity_assessment or None),
        ("eu-ai-act:conformity-procedure", system.conformity.procedure if system.conformity else None),
    ]


def _soa_facts(project: Project) -> list[tuple[str, str | None]]:
    soa = project.soa
    if soa is None:
        return []
    facts: list[tuple[str, str | None]] = [("iso42001:soa:version", soa.version), ("iso42001:soa:date", soa.date)]
    for decision in soa.decisions:
        applicability = "applicable" if decision.applicable else "not-applicable"
        facts.append((f"iso42001:soa:{decision.control}", f"{applicability}/{decision.status}"))
    return facts


# --- models ------------------------------------------------------------------------------------


def _model_component(project: Project, model: Model, refs: _Refs) -> dict[str, Any]:
    return _clean({
        "type": "machine-learning-model",
        "bom-ref": refs.models[model.id],
        "name": model.name,
        "version": model.version,
        "description": _text(model.architecture),
        "licenses": [{"license": {"name": model.license}}] if model.license else None,
        "modelCard": {
            "modelParameters": _model_parameters(project, model, refs),
            "quantitativeAnalysis": {"performanceMetrics": [_performance_metric(r) for r in model.results]},
            "considerations": _considerations(project, model),
        },
        "properties": _properties([
            ("model:id", model.id),
            ("model:date", model.date),
            ("model:owner", model.owner),
            ("model:developers", model.developers),
            *_metric_facts(model),
        ]),
    })


def _model_parameters(project: Project, model: Model, refs: _Refs) -> dict[str, Any]:
    training = [d for d in project.datasets if d.id in model.training_data]
    supervised = bool(training) and len(training) == len(set(model.training_data)) and all(d.composition.labels for d in training)
    used = [refs.datasets[d] for d in dict.fromkeys(model.training_data + model.evaluation_data) if d in refs.datasets]
    return _clean({
        "approach": {"type": "supervised"} if supervised else None,
        "task": model.task,
        "architectureFamily": model.model_type,
        "modelArchitecture": model.base_model,
        "datasets": [{"ref": ref} for ref in used],
    })


def _slice_label(result: MetricResult) -> str:
    """As `ResultVerdict.slice_label`: `overall`, or the slice's `attribute=value` pairs in name order."""
    return ", ".join(f"{k}={v}" for k, v in sorted(result.slice.items())) or "overall"


def _performance_metric(result: MetricResult) -> dict[str, Any]:
    interval = None
    if len(result.ci) == 2:
        interval = {"lowerBound": _number(result.ci[0]), "upperBound": _number(result.ci[1])}
    return _clean({
        "type": result.metric,
        "value": _number(result.value),
        "slice": _slice_label(result) + (f" on {result.dataset}" if result.dataset else ""),
        "confidenceInterval": interval,
    })


def _considerations(project: Project, model: Model) -> dict[str, Any]:
    use = model.intended_use
    risks = [r for r in project.risks if model.id in r.models]
    controls = {c.id: c.title for c in project.controls}
    ethical = [{"name": _text(model.ethical_considerations)}] if _text(model.ethical_considerations) else []
    for risk in risks:
        treatment = f"Risk treatment: {risk.treatment.strategy}"
        if risk.treatment.controls:
            treatment += " with controls " + "; ".join(controls.get(c, c) for c in risk.treatment.controls)
        mitigation = " ".join(part for part in (f"{treatment}.", _text(risk.treatment.notes)) if part)
        ethical.append({"name": f"{risk.title} ({risk.id})", "mitigationStrategy": mitigation})
    limitations = [_text(model.caveats), f"Out of scope: {_text(use.out_of_scope)}" if _text(use.out_of_scope) else None]
    return _clean({
        "users": [_text(use.primary_users)],
        "useCases": [_text(use.primary_uses)],
        "technicalLimitations": limitations,
        "ethicalConsiderations": ethical,
        "fairnessAssessments": [_fairness_assessment(v) for v in judge_results(model) if v.scope != "overall"],
        "environmentalConsiderations": _environment(model),
    })


def _fairness_assessment(verdict: ResultVerdict) -> dict[str, Any]:
    result = verdict.result
    measured = f"{verdict.metric.name} ({result.metric}) is {_number(result.value)}"
    details = [f"95% CI {_number(result.ci[0])}–{_number(result.ci[1])}" if len(result.ci) == 2 else "",
               f"n = {result.n}" if result.n is not None else "", result.dataset or ""]
    if any(details):
        measured += f" ({', '.join(d for d in details if d)})"
    assessment: dict[str, Any] = {"groupAtRisk": verdict.slice_label}
    limit = verdict.limit
    if verdict.status is None or limit is None:
        assessment["benefits"] = f"{measured}; no {verdict.scope} threshold applies."
    elif verdict.status == PASS:
        assessment["benefits"] = f"{measured}, meeting its {verdict.scope} {limit.noun} {limit.bare}."
    elif verdict.status == INCONCLUSIVE:
        assessment["harms"] = (f"{measured}: inconclusive; it meets its {verdict.scope} {limit.noun} {limit.bare}, "
                               f"but {verdict.reason}.")
    else:
        assessment["harms"] = (f"{measured}, {limit.missed_side(result.value)} its {verdict.scope} {limit.noun} "
                               f"{limit.bare}.")
    return assessment


def _environment(model: Model) -> dict[str, Any] | None:
    compute = model.compute
    if compute is None:
        return None
    facts = _properties([
        ("compute:hardware", compute.hardware),
        ("compute:training-hours", compute.training_hours),
        ("compute:energy-kwh", compute.energy_kwh),
        ("compute:emissions-kg-co2e", compute.emissions_kg_co2e),
    ])
    return {"properties": facts} if facts else None


def _metric_facts(model: Model) -> list[tuple[str, object]]:
    facts: list[tuple[str, object]] = []
    for metric in model.metrics:
        facts += [
            (f"metric:{metric.id}:name", metric.name),
            (f"metric:{metric.id}:higher-is-better", metric.higher_is_better),
            (f"metric:{metric.id}:decision-threshold", metric.decision_threshold),
            (f"metric:{metric.id}:threshold", threshold_text(metric.threshold)),
            (f"metric:{metric.id}:subgroup-threshold", threshold_text(metric.subgroup_threshold)),
            (f"metric:{metric.id}:intersection-threshold", threshold_text(metric.intersection_threshold)),
        ]
        if metric.comparison:
            facts.append((f"metric:{metric.id}:{metric.comparison}-to", slice_label(metric.reference_group)))
        if metric.min_n is not None:
            facts.append((f"metric:{metric.id}:min-n", metric.min_n))
        facts.append((f"metric:{metric.id}:gate", metric.gate))
    return facts


# --- datasets ----------------------------------------------------------------------------------


def _dataset_component(dataset: Dataset, refs: _Refs) -> dict[str, Any]:
    governance = dataset.data_governance
    art_10: list[tuple[str, object]] = []
    if governance is not None:
        for field in fields(governance):
            name, value = field.name, getattr(governance, field.name)
            if isinstance(value, Prose):
                art_10.append((f"eu-ai-act:art-10:{name.replace('_', '-')}", _text(value)))
        if governance.special_categories is not None:
            processed = "processed" if governance.special_categories.processed else "not processed"
            art_10.append(("eu-ai-act:art-10:special-categories", processed))
    personal = dataset.personal_data
    return _clean({
        "type": "data",
        "bom-ref": refs.datasets[dataset.id],
        "name": dataset.name,
        "version": dataset.version,
        "description": _text(dataset.description),
        "hashes": [{"alg": "SHA-256", "content": dataset.sha256}] if dataset.sha256 else None,
        "licenses": [{"license": {"name": dataset.distribution.license}}] if dataset.distribution.license else None,
        "data": [_clean({
            "type": "dataset",
            "name": dataset.name,
            "description": _text(dataset.uses.intended_uses),
            "contents": {"properties": _contents(dataset)},
            "classification": _classification(dataset),
            "sensitiveData": list(personal.categories) if personal and personal.categories else None,
            "governance": _governance(dataset),
        })],
        "properties": _properties([
            ("dataset:id", dataset.id),
            ("dataset:role", dataset.role),
            ("dataset:distributed", dataset.distribution.distributed),
            ("personal-data:legal-basis", personal.legal_basis if personal else None),
            *art_10,
        ]),
    })


def _contents(dataset: Dataset) -> list[dict[str, str]]:
    composition = dataset.composition
    return _properties([
        ("dataset:instances", composition.count),
        *((f"dataset:split:{s.name}", s.count) for s in composition.splits),
        *((f"dataset:label:{label.name}", label.count) for label in composition.labels),
        *((f"dataset:subgroup:{g.attribute}={g.value}", g.count) for g in composition.subgroups),
    ], sort=False)


def _classification(dataset: Dataset) -> str | None:
    """Personal-data classification: special-category personal data, personal data, or non-personal data."""
    governance, personal = dataset.data_governance, dataset.personal_data
    if governance and governance.special_categories and governance.special_categories.processed:
        return "special-category personal data"
    if personal is None:
        return None
    return "personal data" if personal.contains else "non-personal data"


def _governance(dataset: Dataset) -> dict[str, Any]:
    """The maintainer as data steward (responsible for the data's content and context)."""
    maintenance = dataset.maintenance
    steward: dict[str, Any] = {"name": maintenance.maintainer}
    if maintenance.contact and _EMAIL.match(maintenance.contact.strip()):
        steward["contact"] = [{"email": maintenance.contact.strip()}]
    return {"stewards": [{"organization": steward}]}


# --- the graph, and helpers ---------------------------------------------------------------------


def _dependencies(project: Project, system: System, refs: _Refs) -> list[dict[str, Any]]:
    graph = [{"ref": refs.system(system), "dependsOn": [refs.models[m.id] for m in project.models]}]
    for model in project.models:
        used = dict.fromkeys(refs.datasets[d] for d in model.training_data + model.evaluation_data if d in refs.datasets)
        graph.append({"ref": refs.models[model.id], "dependsOn": list(used)})
    graph += [{"ref": refs.datasets[d.id], "dependsOn": []} for d in project.datasets]
    return graph


def _properties(facts: list[tuple[str, object]], sort: bool = True) -> list[dict[str, str]]:
    """Name-value pairs under the techfile namespace, leaving out empty values."""
    pairs = [(f"{NAMESPACE}:{name}", _value(value)) for name, value in facts if value is not None and value != ""]
    return [{"name": name, "value": value} for name, value in (sorted(pairs) if sort else pairs)]


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _number(value)
    return str(value)


def _number(value: float | None) -> str:
    """A number as written in the sources: 0.9 stays "0.9", 176.0 becomes "176"."""
    assert value is not None
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _text(value: Prose | None) -> str:
    return value.text.strip() if value is not None else ""


def _clean(mapping: dict[str, Any]) -> dict[str, Any]:
    """Leave out absent values: None, "", and empty lists and objects."""
    kept = {}
    for key, value in mapping.items():
        if isinstance(value, list):
            value = [v for v in value if v not in (None, "")]
        if value in (None, "", [], {}):
            continue
        kept[key] = value
    return kept


def _timestamp(date: str) -> str:
    try:
        day = dt.date.fromisoformat(date)
    except ValueError as error:
        raise ExportError(f"cannot date the BOM: {date!r} is not a date (YYYY-MM-DD)") from error
    return f"{day.isoformat()}T00:00:00Z"


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _strict_validator() -> tuple[Any, type[Exception]]:
    try:
        from cyclonedx.exception import MissingOptionalDependencyException
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator
    except ImportError:
        raise MissingExtra("cyclonedx") from None
    return JsonStrictValidator(SchemaVersion.V1_6), MissingOptionalDependencyException


def _validate(validator: tuple[Any, type[Exception]], text: str) -> Any:
    """The first schema violation in `text`, or None; MissingExtra when the library lacks its validation extra."""
    strict, missing_dependency = validator
    try:
        return strict.validate_str(text)
    except missing_dependency:
        raise MissingExtra("cyclonedx") from None
