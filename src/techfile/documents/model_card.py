"""Model cards (Mitchell et al. 2019), one per model."""

from __future__ import annotations

from dataclasses import dataclass

from techfile.assess.metrics import FAIL, INCONCLUSIVE, PASS, ResultVerdict, acceptance_text, judge_results
from techfile.documents.base import BuildInfo, Document, present_or_missing
from techfile.documents.charts import model_charts
from techfile.documents.common import compose_document, document_gaps, document_id, entity_sources, link
from techfile.documents.deployer import slice_label
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
        "method_numbers": _method_numbers(model),
        "charts": model_charts(model),
        "matrix": results_matrix(judge_results(model), _method_numbers(model)),
        "subgroups": model.factors.subgroups,
        "logbook": [e for e in project.logbook if e.model == model.id],
        "evidence": [e for e in project.evidence if e.id in model.evidence],
    }
    document = compose_document(project, build, renderer, KIND, SECTION, title, "model-card/model-card.md.j2", context,
                                document_gaps(project, KIND, model.id), model.id, entity_sources(model))
    return document.with_assets(*context["charts"])


def _method_numbers(model: Model) -> dict[str, int]:
    return {method: number for number, method in enumerate(dict.fromkeys(r.method for r in model.results if r.method), start=1)}


def _compute_rows(model: Model) -> list[tuple[str, object]]:
    if model.compute is None:
        return []
    c = model.compute
    return [("Hardware", c.hardware), ("Training time (hours)", c.training_hours), ("Energy (kWh)", c.energy_kwh),
            ("Emissions (kg CO2e)", c.emissions_kg_co2e)]


MARKS = {PASS: "✓ pass", FAIL: "✗ FAIL", INCONCLUSIVE: "? inconclusive"}
MAX_DECIMALS = 4
RANGE = "\u2060–\u2060"  # an en dash that no line breaks at (word joiners either side)


@dataclass(frozen=True)
class ResultsMatrix:
    """The quantitative results as a reader compares them: a row per dataset and slice, a column per metric."""

    metrics: list[str]  # column headings: metric names
    rows: list[tuple[str, str, list[str]]]  # dataset id, slice label, one cell per metric ("" where none)


def results_matrix(verdicts: list[ResultVerdict], method_numbers: dict[str, int] | None = None) -> ResultsMatrix:
    """Rows are (dataset, slice) in the order results are declared, the overall slice first within each dataset;
    each cell is `value [CI low–high] n=…` with the verdict's mark, every number of a metric at one precision."""
    metrics = list(dict.fromkeys(v.metric.id for v in verdicts))
    names = {v.metric.id: v.metric.name for v in verdicts}
    decimals = {m: _decimals([n for v in verdicts if v.metric.id == m for n in (v.result.value, *v.result.ci)])
                for m in metrics}
    keys: list[tuple[str, str]] = []
    cells: dict[tuple[str, str], dict[str, str]] = {}
    labels: dict[str, str] = {}
    for verdict in verdicts:
        slice_key = ", ".join(f"{k}={v}" for k, v in sorted(verdict.result.slice.items()))
        labels[slice_key] = slice_label(verdict.result.slice)
        key = (verdict.result.dataset or "", slice_key)
        if key not in cells:
            keys.append(key)
            cells[key] = {}
        method = (method_numbers or {}).get(verdict.result.method or "")
        cells[key][verdict.metric.id] = _cell(verdict, decimals[verdict.metric.id]) + (f" (method {method})" if method else "")
    datasets = list(dict.fromkeys(dataset for dataset, _ in keys))
    order = {key: index for index, key in enumerate(keys)}
    keys.sort(key=lambda k: (datasets.index(k[0]), k[1] != "", order[k]))
    rows = [(dataset or "—", labels[slice_key], [cells[(dataset, slice_key)].get(m, "")
             for m in metrics]) for dataset, slice_key in keys]
    return ResultsMatrix([names[m] for m in metrics], rows)


def _decimals(numbers: list[float]) -> int:
    """The most decimals any of `numbers` is written with (at most MAX_DECIMALS)."""
    written = [repr(float(n)).split(".")[1] if "e" not in repr(float(n)) else "0" * MAX_DECIMALS for n in numbers]
    return min(MAX_DECIMALS, max((len(w.rstrip("0")) for w in written), default=0))


def _cell(verdict: ResultVerdict, decimals: int) -> str:
    result = verdict.result
    text = f"{result.value:.{decimals}f}"
    if len(result.ci) == 2:
        text += f" [{result.ci[0]:.{decimals}f}{RANGE}{result.ci[1]:.{decimals}f}]"
    if result.n is not None:
        text += f" n={result.n:,}"
    mark = MARKS.get(verdict.status or "")
    if mark:
        text += f" {mark}" + (" (accepted)" if verdict.accepted else "")
    return text
