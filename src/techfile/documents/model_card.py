"""Model cards (Mitchell et al. 2019), one per model."""

from __future__ import annotations

from techfile.assess.metrics import acceptance_text, judge_results
from techfile.documents.base import BuildInfo, Document, present_or_missing
from techfile.documents.charts import model_charts
from techfile.documents.common import compose_document, document_gaps, document_id, entity_sources, link
from techfile.documents.render import Renderer
from techfile.project import Model, Project

KIND = "model-card"
SECTION = "Model cards"


def model_card_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    return [_model_card(project, build, renderer, model) for model in project.models]


def _model_card(project: Project, build: BuildInfo, renderer: Renderer, model: Model) -> Document:
    title = f"Model card: {model.name}"
    datasets = {d.id: d for d in project.datasets}
    context = {
        "model": model,
        "license": present_or_missing(model.license, "Model details: licence", "models/*.yaml `license`"),
        "compute_rows": _compute_rows(model),
        "compute_missing": present_or_missing(model.compute, "Model details: compute and energy", "models/*.yaml `compute`"),
        "hyperparameters": sorted(model.hyperparameters.items()),
        "training_data": [link(document_id(project, "datasheet", d), datasets[d].name) for d in model.training_data if d in datasets],
        "evaluation_data": [link(document_id(project, "datasheet", d), datasets[d].name) for d in model.evaluation_data if d in datasets],
        "verdicts": judge_results(model),
        "acceptance": {m.id: acceptance_text(m) for m in model.metrics},
        "inconclusive_notes": [f"{v.metric.name}, {v.slice_label}: {v.reason}"
                               + (f"; accepted: {v.result.inconclusive_accepted}" if v.accepted else "")
                               for v in judge_results(model) if v.inconclusive],
        "result_labels": [v.outcome + (" (accepted)" if v.accepted else "") for v in judge_results(model)],
        "method_numbers": {method: number for number, method in
                           enumerate(dict.fromkeys(r.method for r in model.results if r.method), start=1)},
        "charts": model_charts(model),
        "subgroups": model.factors.subgroups,
        "logbook": [e for e in project.logbook if e.model == model.id],
        "evidence": [e for e in project.evidence if e.id in model.evidence],
    }
    document = compose_document(project, build, renderer, KIND, SECTION, title, "model-card/model-card.md.j2", context,
                                document_gaps(project, KIND, model.id), model.id, entity_sources(model))
    return document.with_assets(*context["charts"])


def _compute_rows(model: Model) -> list[tuple[str, object]]:
    if model.compute is None:
        return []
    c = model.compute
    return [("Hardware", c.hardware), ("Training time (hours)", c.training_hours), ("Energy (kWh)", c.energy_kwh),
            ("Emissions (kg CO2e)", c.emissions_kg_co2e)]
