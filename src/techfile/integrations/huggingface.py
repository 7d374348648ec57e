"""Hugging Face cards: model and dataset cards (README.md) from the project, and a model card read back as a model source.

Everything here is offline: text in, text out. huggingface_hub builds and parses the cards; it is imported only
inside the functions that need it (`pip install 'techfile[hf]'`).

How results land in the card's `model-index`: one EvalResult per techfile result, grouped by huggingface_hub into
one entry per (task, dataset). Per-slice results are separate EvalResults whose `metric_config` is the slice label
(`sex=female`, `age_band=75+, sex=female`) and whose `metric_name` ends with it in parentheses; `metric_args` holds
the slice as a mapping, the confidence interval as `ci: [low, high]`, `n`, the metric's `decision_threshold` and
`higher_is_better: false` for metrics where lower is better. The slice cannot go in `dataset_args`: huggingface_hub
groups results by task and dataset and keeps the dataset args of the first result only, so the slice would be lost.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from techfile.assess.datasheets import datasheet_answers
from techfile.assess.metrics import ResultVerdict, acceptance_text, judge_results
from techfile.documents.markdown import cell, inline, prose
from techfile.integrations import MissingExtra, UnknownEntity
from techfile.project import Dataset, MetricResult, Model, Project, Prose
from techfile.resources import schemas_dir
from techfile.sources.writer import source_yaml

__all__ = ["CardError", "ImportedModel", "MissingExtra", "UnknownEntity", "dataset_card", "hub_license", "import_model_card",
           "model_card", "pipeline_tag_for", "size_category", "slugify", "to_yaml"]

MODELINE = "# yaml-language-server: $schema=../schemas/model.schema.json"
NOT_STATED = "_Not stated in the techfile sources._"

# techfile task text (matched as whole words, first match wins) → Hub pipeline tag.
PIPELINE_TAGS: tuple[tuple[str, str], ...] = (
    ("object detection", "object-detection"),
    ("image classification", "image-classification"),
    ("image segmentation", "image-segmentation"),
    ("semantic segmentation", "image-segmentation"),
    ("text classification", "text-classification"),
    ("token classification", "token-classification"),
    ("named entity recognition", "token-classification"),
    ("question answering", "question-answering"),
    ("summarization", "summarization"),
    ("summarisation", "summarization"),
    ("machine translation", "translation"),
    ("text generation", "text-generation"),
    ("speech recognition", "automatic-speech-recognition"),
    ("audio classification", "audio-classification"),
    ("tabular classification", "tabular-classification"),
    ("tabular regression", "tabular-regression"),
    ("time series forecasting", "time-series-forecasting"),
)
VISION_PIPELINE_TAGS = frozenset({"object-detection", "image-classification", "image-segmentation"})
# Annex I legislation that makes the system a medical device: MDR and IVDR.
MEDICAL_DEVICE_REGULATIONS = ("2017/745", "2017/746")

# Licence identifiers the Hub knows (https://huggingface.co/docs/hub/repositories-licenses), the common ones.
HUB_LICENSES = frozenset({
    "apache-2.0", "mit", "bsd", "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "bsl-1.0", "isc", "zlib",
    "unlicense", "wtfpl", "mpl-2.0", "epl-2.0", "eupl-1.2", "gpl-2.0", "gpl-3.0", "lgpl-2.1", "lgpl-3.0", "agpl-3.0",
    "cc0-1.0", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc-by-nd-4.0", "cc-by-nc-sa-4.0", "cc-by-nc-nd-4.0",
    "odc-by", "odbl", "pddl", "cdla-permissive-2.0", "openrail", "openrail++", "creativeml-openrail-m",
    "bigscience-openrail-m", "bigcode-openrail-m", "llama2", "llama3", "gemma",
})
HUB_SPLITS = {"training": "train", "validation": "validation", "test": "test"}
SIZE_CATEGORIES: tuple[tuple[int, str], ...] = (
    (1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
    (10_000_000_000, "1B<n<10B"), (100_000_000_000, "10B<n<100B"), (1_000_000_000_000, "100B<n<1T"),
)
# Metric types that are error measures: on import they get `higher_is_better: false`.
LOWER_IS_BETTER = frozenset({"wer", "cer", "mer", "ter", "eer", "loss", "perplexity", "mae", "mse", "rmse", "error_rate"})

# Card headings (lower case, "[optional]" dropped) that answer a model source field. Mitchell et al. wording (the
# cards techfile writes), the Hub's default template, and the headings of cards written by the transformers Trainer.
FIELD_HEADINGS: dict[str, tuple[str, ...]] = {
    "architecture": ("architecture", "model architecture", "model architecture and objective"),
    "design_choices": ("design choices",),
    "intended_use.primary_uses": ("primary intended uses", "direct use", "intended uses", "intended use", "uses",
                                  "intended uses & limitations", "intended uses and limitations"),
    "intended_use.primary_users": ("primary intended users", "primary users", "intended users"),
    "intended_use.out_of_scope": ("out-of-scope use cases", "out-of-scope use", "out-of-scope uses", "out of scope use",
                                  "out of scope uses", "misuse and out-of-scope use"),
    "factors.relevant": ("relevant factors",),
    "factors.evaluation_factors": ("evaluation factors", "factors"),
    "ethical_considerations": ("ethical considerations", "ethics"),
    "caveats": ("caveats and recommendations", "bias, risks, and limitations", "bias, risks and limitations",
                "limitations", "limitations and bias", "risks and limitations", "known limitations", "recommendations"),
}
# Body bullets `- **Label:** value` that answer a model source field (labels of the Hub template and of techfile's cards).
FIELD_BULLETS: dict[str, str] = {
    "developed by": "developers", "owner": "owner", "model type": "model_type", "task": "task", "version": "version",
    "release date": "date", "license": "license", "base model": "base_model", "finetuned from model": "base_model",
    "hardware type": "compute.hardware", "hours used": "compute.training_hours",
    "energy (kwh)": "compute.energy_kwh", "carbon emitted (kg co2e)": "compute.emissions_kg_co2e",
}
NUMERIC_FIELDS = frozenset({"compute.training_hours", "compute.energy_kwh", "compute.emissions_kg_co2e"})
_DATASETS_BY_ID = "techfile lists datasets by id (training_data, evaluation_data), each described in its own datasets/ source"
# Why card sections that no field reads are left out, where there is more to say than "no techfile model field".
SECTION_REASONS: dict[str, str] = {
    "training data": _DATASETS_BY_ID, "testing data": _DATASETS_BY_ID, "evaluation data": _DATASETS_BY_ID,
    "training and evaluation data": _DATASETS_BY_ID,
    "metrics": "metric descriptions and rationales belong to each metric (metrics[].description, .rationale)",
    "testing metrics": "metric descriptions and rationales belong to each metric (metrics[].description, .rationale)",
    "quantitative analyses": "results are read from the model-index metadata, not from the body",
    "results": "results are read from the model-index metadata, not from the body",
}
RESULT_ARGS = ("slice", "ci", "n", "decision_threshold", "higher_is_better")

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BULLET = re.compile(r"^\s*[-*+]\s+\*\*(?P<label>[^*]+?):\*\*\s*(?P<value>.*?)\s*$")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_MARKUP_ESCAPE = re.compile(r"\\([<$@])")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SLICE_LABEL = re.compile(r"^[^=,]+=[^=,]+(, [^=,]+=[^=,]+)*$")


class CardError(ValueError):
    """A card huggingface_hub cannot read: an imported card with a broken metadata block, or (a bug here) an exported
    card that does not read back as written."""


@dataclass(frozen=True)
class ImportedModel:
    """A model source read from a Hugging Face model card: what was mapped, what techfile cannot hold, what is left to write."""

    model_id: str
    source: dict[str, Any]
    mapped: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)


# --- export -----------------------------------------------------------------------------------


def model_card(project: Project, model_id: str) -> str:
    """README.md text of the Hugging Face model card for model `model_id`, checked by reading it back with huggingface_hub."""
    hub = _huggingface_hub()
    model = _model(project, model_id)
    pipeline_tag = pipeline_tag_for(model.task)
    eval_results = [_eval_result(hub, project, model, result, pipeline_tag) for result in model.results]
    data = hub.ModelCardData(
        model_name=model.name,
        license=hub_license(model.license),
        base_model=model.base_model if model.base_model and _HUB_ID.match(model.base_model) else None,
        datasets=list(dict.fromkeys(model.training_data + model.evaluation_data)) or None,
        metrics=[m.id for m in model.metrics] or None,
        pipeline_tag=pipeline_tag,
        tags=_model_tags(project, pipeline_tag),
        eval_results=eval_results or None,
    )
    text = f"---\n{data.to_yaml()}\n---\n\n{_model_card_body(project, model)}"
    _check_model_card(hub, text, model)
    return text


def dataset_card(project: Project, dataset_id: str) -> str:
    """README.md text of the Hugging Face dataset card for dataset `dataset_id`, checked by reading it back."""
    hub = _huggingface_hub()
    dataset = _dataset(project, dataset_id)
    data = hub.DatasetCardData(
        pretty_name=dataset.name,
        license=hub_license(dataset.distribution.license),
        size_categories=[size_category(dataset.composition.count)],
        task_categories=_dataset_task_categories(project, dataset) or None,
        tags=["techfile"],
    )
    text = f"---\n{data.to_yaml()}\n---\n\n{_dataset_card_body(project, dataset)}"
    try:
        parsed = hub.DatasetCard(text).data.to_dict()
    except ValueError as error:
        raise CardError(f"dataset card for {dataset.id!r} does not parse: {error}") from error
    if parsed.get("pretty_name") != dataset.name:
        raise CardError(f"dataset card for {dataset.id!r}: pretty_name does not read back")
    return text


def pipeline_tag_for(task: str) -> str | None:
    """The Hub pipeline tag for a techfile task description, or None when the table has no match."""
    lowered = task.lower()
    return next((tag for phrase, tag in PIPELINE_TAGS if re.search(rf"\b{re.escape(phrase)}\b", lowered)), None)


def hub_license(license_text: str | None) -> str | None:
    """The Hub licence id for a licence text: itself when the Hub knows it, else "other" (the text goes in the body)."""
    if not license_text:
        return None
    key = license_text.strip().lower()
    return key if key in HUB_LICENSES else "other"


def size_category(count: int) -> str:
    """The Hub size category for a number of instances, e.g. 12000 → "10K<n<100K"."""
    return next((label for bound, label in SIZE_CATEGORIES if count < bound), "n>1T")


def _huggingface_hub() -> ModuleType:
    try:
        import huggingface_hub
    except ImportError as error:
        raise MissingExtra("hf") from error
    return huggingface_hub


def _model(project: Project, model_id: str) -> Model:
    model = next((m for m in project.models if m.id == model_id), None)
    if model is None:
        raise UnknownEntity("model", model_id, [m.id for m in project.models])
    return model


def _dataset(project: Project, dataset_id: str) -> Dataset:
    dataset = next((d for d in project.datasets if d.id == dataset_id), None)
    if dataset is None:
        raise UnknownEntity("dataset", dataset_id, [d.id for d in project.datasets])
    return dataset


def _model_tags(project: Project, pipeline_tag: str | None) -> list[str]:
    """Tags: techfile, the pipeline tag, and medical-imaging for a vision model of an MDR/IVDR medical device."""
    tags = ["techfile"] + ([pipeline_tag] if pipeline_tag else [])
    product = project.system.classification.annex_i_product if project.system else None
    is_medical_device = bool(product and product.applies and product.legislation
                             and any(r in product.legislation for r in MEDICAL_DEVICE_REGULATIONS))
    if is_medical_device and pipeline_tag in VISION_PIPELINE_TAGS:
        tags.append("medical-imaging")
    return tags


def _dataset_task_categories(project: Project, dataset: Dataset) -> list[str]:
    """The pipeline tags of the models trained or evaluated on the dataset."""
    users = [m for m in project.models if dataset.id in m.training_data or dataset.id in m.evaluation_data]
    return sorted({tag for tag in (pipeline_tag_for(m.task) for m in users) if tag})


def _slice_label(result: MetricResult) -> str:
    return _slice_label_of(result.slice)


def _slice_label_of(slice_: dict[str, str]) -> str:
    """`age_band=75+, sex=female`: the slice's keys in order, as techfile's reports write it."""
    return ", ".join(f"{k}={v}" for k, v in sorted(slice_.items()))


def _eval_result(hub: ModuleType, project: Project, model: Model, result: MetricResult, pipeline_tag: str | None) -> Any:
    metric = next((m for m in model.metrics if m.id == result.metric), None)
    dataset = next((d for d in project.datasets if d.id == result.dataset), None)
    label = _slice_label(result)
    name = metric.name if metric else result.metric
    args: dict[str, Any] = {"slice": dict(result.slice) if result.slice else None, "ci": list(result.ci) or None,
                            "n": result.n, "decision_threshold": metric.decision_threshold if metric else None,
                            "higher_is_better": False if metric and not metric.higher_is_better else None}
    args = {k: v for k, v in args.items() if v is not None}
    return hub.EvalResult(
        task_type=pipeline_tag or "other",
        task_name=model.task,
        dataset_type=result.dataset or "unspecified",
        dataset_name=dataset.name if dataset else result.dataset or "dataset not stated in the techfile sources",
        dataset_split=HUB_SPLITS.get(dataset.role) if dataset else None,
        dataset_revision=dataset.version if dataset else None,
        metric_type=result.metric,
        metric_value=result.value,
        metric_name=f"{name} ({label})" if label else name,
        metric_config=label or None,
        metric_args=args or None,
    )


def _check_model_card(hub: ModuleType, text: str, model: Model) -> None:
    try:
        data = hub.ModelCard(text).data
    except ValueError as error:
        raise CardError(f"model card for {model.id!r} does not parse: {error}") from error
    read_back = [(r.metric_type, r.metric_value, r.metric_config) for r in data.eval_results or []]
    written = [(r.metric, r.value, _slice_label(r) or None) for r in model.results]
    if sorted(read_back, key=repr) != sorted(written, key=repr):
        raise CardError(f"model card for {model.id!r}: model-index does not read back as the model's results")


# --- card bodies ------------------------------------------------------------------------------


def _generated_note(kind: str, entity_id: str, version: str) -> str:
    """An HTML comment (invisible on the Hub, skipped on import) saying where the card comes from."""
    version_text = version.replace("--", "- -")
    return f"<!-- Generated by techfile from the sources of {kind} {entity_id} version {version_text}; edit those, not this card. -->"


def _prose_text(value: Prose | None) -> str | None:
    return value.text if value is not None and value.text.strip() else None


def _section(level: int, title: str, *parts: str | None) -> str:
    body = "\n\n".join(p for p in parts if p)
    return f"{'#' * level} {title}\n\n{body or NOT_STATED}"


def _prose_section(level: int, title: str, value: Prose | None) -> str:
    text = _prose_text(value)
    return _section(level, title, str(prose(text, level + 1)) if text else None)


def _bullets(rows: list[tuple[str, object]]) -> str:
    return "\n".join(f"- **{label}:** {inline(value)}" for label, value in rows if value is not None and value != "")


def _table(header: list[str], rows: list[list[object]]) -> str:
    """A pipe table; columns holding only numbers are right-aligned."""
    numeric = [all(isinstance(row[i], int | float) and not isinstance(row[i], bool) for row in rows) for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("--:" if right else ":--" for right in numeric) + "|"]
    lines += ["| " + " | ".join(str(cell(("yes" if v else "no") if isinstance(v, bool) else v)) for v in row) + " |"
              for row in rows]
    return "\n".join(lines)


def _model_card_body(project: Project, model: Model) -> str:
    """The nine sections of Mitchell et al. (2019), answered from the model's source."""
    datasets = {d.id: d for d in project.datasets}
    blocks = [
        f"# Model card: {inline(model.name)}",
        _generated_note("model", model.id, model.version),
        _model_details(model),
        _section(2, "Intended use",
                 _prose_section(3, "Primary intended uses", model.intended_use.primary_uses),
                 _prose_section(3, "Primary intended users", model.intended_use.primary_users),
                 _prose_section(3, "Out-of-scope use cases", model.intended_use.out_of_scope)),
        _section(2, "Factors",
                 _prose_section(3, "Relevant factors", model.factors.relevant),
                 _prose_section(3, "Evaluation factors", model.factors.evaluation_factors),
                 _section(3, "Declared subgroups", _table(["Attribute", "Values"], [[g.attribute, ", ".join(g.values)]
                                                                                   for g in model.factors.subgroups]))
                 if model.factors.subgroups else None),
        _section(2, "Metrics", _metrics_table(model)),
        _section(2, "Evaluation data", _dataset_list(model.evaluation_data, datasets)),
        _section(2, "Training data", _dataset_list(model.training_data, datasets)),
        _section(2, "Quantitative analyses", *_quantitative_analyses(model, datasets)),
        _prose_section(2, "Ethical considerations", model.ethical_considerations),
        _prose_section(2, "Caveats and recommendations", model.caveats),
    ]
    return "\n\n".join(blocks) + "\n"


def _model_details(model: Model) -> str:
    details = _bullets([("Developed by", model.developers), ("Owner", model.owner), ("Model type", model.model_type),
                        ("Task", model.task), ("Version", model.version), ("Release date", model.date),
                        ("License", model.license), ("Base model", model.base_model)])
    hyperparameters = _table(["Hyperparameter", "Value"], [[k, v] for k, v in sorted(model.hyperparameters.items())])
    compute = model.compute
    compute_rows = _bullets([("Hardware type", compute.hardware), ("Hours used", compute.training_hours),
                             ("Energy (kWh)", compute.energy_kwh), ("Carbon emitted (kg CO2e)", compute.emissions_kg_co2e)]
                            ) if compute else None
    return _section(2, "Model details", details,
                    _prose_section(3, "Architecture", model.architecture),
                    _prose_section(3, "Design choices", model.design_choices) if _prose_text(model.design_choices) else None,
                    _section(3, "Hyperparameters", hyperparameters) if model.hyperparameters else None,
                    _section(3, "Compute", compute_rows) if compute_rows else None)


def _metrics_table(model: Model) -> str:
    rows = [[m.name, m.id, m.description, "higher" if m.higher_is_better else "lower", m.decision_threshold,
             acceptance_text(m), m.rationale] for m in model.metrics]
    return _table(["Metric", "Id", "Description", "Better", "Decision threshold",
                   "Acceptance threshold (overall / subgroup / intersection)", "Rationale"], rows)


def _dataset_list(dataset_ids: list[str], datasets: dict[str, Dataset]) -> str | None:
    lines = []
    for dataset_id in dataset_ids:
        dataset = datasets.get(dataset_id)
        if dataset is None:
            lines.append(f"- `{dataset_id}`")
            continue
        facts = f"`{dataset.id}`, version {inline(dataset.version)}, {dataset.role}, {dataset.composition.count} instances"
        lines.append(f"- **{inline(dataset.name)}** ({facts})")
    return "\n".join(lines) or None


def _quantitative_analyses(model: Model, datasets: dict[str, Dataset]) -> list[str]:
    verdicts = judge_results(model)
    if not verdicts:
        return []
    judged = [v for v in verdicts if v.status is not None]
    failed = [v for v in judged if v.status == "fail"]
    inconclusive = [v for v in judged if v.inconclusive]
    summary = (f"{len(judged) - len(failed) - len(inconclusive)} of {len(judged)} results with an acceptance threshold meet it"
               + (f"; failing: {', '.join(f'{v.metric.id} ({v.slice_label})' for v in failed)}" if failed else "")
               + (f"; inconclusive: {', '.join(f'{v.metric.id} ({v.slice_label})' for v in inconclusive)}" if inconclusive else "")
               + ".")
    rows = [[v.metric.name, _dataset_name(v, datasets), v.slice_label, v.scope, v.result.value,
             "–".join(f"{b:g}" for b in v.result.ci) or None, v.result.n, str(v.limit) if v.limit else None,
             v.outcome + (f" ({v.reason})" if v.reason else "")] for v in verdicts]
    return [str(inline(summary)), _table(["Metric", "Dataset", "Slice", "Scope", "Value", "CI", "n", "Threshold", "Result"], rows)]


def _dataset_name(verdict: ResultVerdict, datasets: dict[str, Dataset]) -> str | None:
    dataset = datasets.get(verdict.result.dataset or "")
    return dataset.name if dataset else verdict.result.dataset


def _dataset_card_body(project: Project, dataset: Dataset) -> str:
    """The seven sections of Gebru et al. (2021), then the EU AI Act Art. 10 facts, answered from the dataset's source."""
    glance = _bullets([("Id", f"{dataset.id}"), ("Version", dataset.version), ("Role", dataset.role),
                       ("Instances", dataset.composition.count), ("Content sha256", dataset.sha256),
                       ("License", dataset.distribution.license)])
    description = _prose_text(dataset.description)
    blocks = [f"# {inline(dataset.name)}", _generated_note("dataset", dataset.id, dataset.version),
              _section(2, "Dataset at a glance", glance, str(prose(description, 3)) if description else None)]
    sections: dict[str, list[str]] = {}
    for answer in datasheet_answers(dataset):
        if isinstance(answer.answer, Prose):
            text = _prose_text(answer.answer)
            rendered = str(prose(text, 4)) if text else None
        else:
            rendered = str(inline(answer.answer)) if answer.answer else None
        sections.setdefault(answer.section, []).append(_section(3, str(inline(answer.question)), rendered))
    composition = dataset.composition
    tables = [("Splits", ["Split", "Instances"], [[s.name, s.count] for s in composition.splits]),
              ("Labels", ["Label", "Instances"], [[s.name, s.count] for s in composition.labels]),
              ("Subgroups", ["Attribute", "Value", "Instances"], [[s.attribute, s.value, s.count] for s in composition.subgroups])]
    sections.setdefault("Composition", []).extend(_section(3, title, _table(header, rows)) for title, header, rows in tables if rows)
    blocks += [_section(2, title, *parts) for title, parts in sections.items()]
    models = [m for m in project.models if dataset.id in m.training_data or dataset.id in m.evaluation_data]
    uses = "\n".join(f"- **{inline(m.name)}** (`{m.id}`): {'training' if dataset.id in m.training_data else 'evaluation'}"
                     for m in models)
    blocks.append(_section(2, "Models trained or evaluated on this dataset", uses or "None in this project."))
    return "\n\n".join(blocks) + "\n"


# --- import -----------------------------------------------------------------------------------


@dataclass
class _Heading:
    index: int
    line: int
    level: int
    title: str
    key: str


@dataclass
class _SourceBuilder:
    """The model source being assembled, with a record of where each value came from and what was left out."""

    source: dict[str, Any] = field(default_factory=dict)
    mapped: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)

    def has(self, dotted: str) -> bool:
        node: Any = self.source
        for name in dotted.split("."):
            if not isinstance(node, dict) or name not in node:
                return False
            node = node[name]
        return True

    def set(self, dotted: str, value: Any, origin: str) -> None:
        *parents, name = dotted.split(".")
        node = self.source
        for parent in parents:
            node = node.setdefault(parent, {})
        node[name] = value
        self.mapped.append(f"{dotted} ← {origin}")

    def leave_out(self, what: str, reason: str) -> None:
        self.unmapped.append(f"{what}: {reason}")


def import_model_card(text: str) -> ImportedModel:
    """A techfile model source from a Hugging Face model card's README.md; nothing is filled in that the card does not say."""
    hub = _huggingface_hub()
    builder = _SourceBuilder()
    try:
        card = hub.ModelCard(text)
    except yaml.YAMLError as error:
        raise CardError(f"the card's metadata block is not valid YAML: {error}") from error
    except ValueError as error:
        try:
            card = hub.ModelCard(text, ignore_metadata_errors=True)
        except ValueError:
            raise CardError(f"huggingface_hub cannot read the card: {error}") from error
        builder.leave_out("model-index", f"huggingface_hub cannot read it ({str(error).split('. ')[0]})")
    data = card.data
    metadata = data.to_dict()
    lines = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), card.text).split("\n")
    headings = _headings(lines)
    bullets = _body_bullets(lines, headings)

    name = data.model_name or _title_name(headings)
    if name:
        builder.set("name", str(name), "model-index name" if data.model_name else "title heading")
        model_id = slugify(str(name).rsplit("/", 1)[-1] if _HUB_ID.match(str(name)) else str(name))
        if model_id:
            builder.set("id", model_id, "name, slugified")
    if metadata.get("version") is not None:
        builder.set("version", str(metadata["version"]), "metadata version")
    _map_bullets(builder, bullets)
    _map_metadata(builder, metadata, bullets)
    _map_sections(builder, lines, headings)
    _map_eval_results(builder, data.eval_results or [])
    _map_listed_metrics(builder, [str(m) for m in metadata.get("metrics") or []], data.eval_results or [])

    schema = _model_schema()
    source = _in_schema_order(builder.source, schema, schema)
    return ImportedModel(source.get("id", ""), source, builder.mapped, builder.unmapped,
                         _missing_required(source, schema, schema))


def to_yaml(source: dict[str, Any]) -> str:
    """A model source as YAML for models/<id>.yaml: schema modeline first, block style, key order and unicode kept."""
    return source_yaml(source, MODELINE)


def slugify(text: str) -> str:
    """An id matching `^[a-z0-9][a-z0-9._-]*$` (at most 64 characters), or "" when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9._-]+", "-", ascii_text)
    slug = re.sub(r"^[^a-z0-9]+", "", slug)[:64]
    return slug.rstrip("-._")


@cache
def _model_schema() -> dict[str, Any]:
    return json.loads((schemas_dir() / "model.schema.json").read_text(encoding="utf-8"))


def _resolve(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref", "")
    return schema["$defs"][ref.split("/")[-1]] if ref.startswith("#/$defs/") else node


def _in_schema_order(value: Any, node: dict[str, Any], schema: dict[str, Any]) -> Any:
    """`value` with every mapping's keys in the order the schema lists its properties (unknown keys last)."""
    node = _resolve(node, schema)
    if isinstance(value, dict):
        properties = node.get("properties", {})
        keys = [k for k in properties if k in value] + [k for k in value if k not in properties]
        return {k: _in_schema_order(value[k], properties.get(k, {}), schema) for k in keys}
    if isinstance(value, list):
        return [_in_schema_order(item, node.get("items", {}), schema) for item in value]
    return value


def _missing_required(value: Any, node: dict[str, Any], schema: dict[str, Any], path: str = "") -> list[str]:
    """Dotted paths of required schema fields that `value` lacks, e.g. "owner", "metrics[auroc].rationale"."""
    node = _resolve(node, schema)
    missing: list[str] = []
    if isinstance(value, dict):
        properties = node.get("properties", {})
        missing += [f"{path}{name}" for name in node.get("required", []) if name not in value]
        for name, child in value.items():
            missing += _missing_required(child, properties.get(name, {}), schema, f"{path}{name}.")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            label = item.get("id", index) if isinstance(item, dict) else index
            missing += _missing_required(item, node.get("items", {}), schema, f"{path[:-1]}[{label}].")
    return missing


def _heading_key(title: str) -> str:
    text = _ESCAPE.sub(r"\1", title).replace("[optional]", "").strip("*_` \t").lower()
    return " ".join(text.split()).rstrip(":").strip()


def _headings(lines: list[str]) -> list[_Heading]:
    """ATX headings outside fenced code."""
    headings: list[_Heading] = []
    fence: str | None = None
    for number, line in enumerate(lines):
        opening = _FENCE.match(line)
        if opening and (fence is None or opening.group(1).startswith(fence)):
            fence = None if fence else opening.group(1)[:3]
            continue
        match = None if fence else _ATX_HEADING.match(line)
        if match:
            title = match.group(2)
            headings.append(_Heading(len(headings), number, len(match.group(1)), title, _heading_key(title)))
    return headings


@cache
def _recognised_headings() -> dict[str, str]:
    return {heading: target for target, names in FIELD_HEADINGS.items() for heading in names}


def _section_end(headings: list[_Heading], start: _Heading, total: int, nested: bool) -> int:
    """The line a section ends at: the next heading, or with `nested` the next one that is not a deeper, unknown one."""
    for heading in headings[start.index + 1:]:
        if not nested or heading.level <= start.level or heading.key in _recognised_headings():
            return heading.line
    return total


@cache
def _template_boilerplate() -> tuple[frozenset[str], frozenset[str]]:
    """Lines and default values of huggingface_hub's bundled model card template (and techfile's own placeholder):
    text no card author wrote."""
    template = Path(_huggingface_hub().ModelCard.default_template_path).read_text(encoding="utf-8")
    defaults = frozenset({NOT_STATED, *(d for d in re.findall(r'default\("([^"]*)"', template) if d and d != "Model ID")})
    lines = frozenset(s for s in (line.strip() for line in _COMMENT.sub("", template).split("\n"))
                      if s and "{{" not in s and "{%" not in s and not s.startswith("#") and s != "---")
    return lines, defaults


def _clean(lines: list[str]) -> str:
    """Section text without template boilerplate and placeholders; "" when nothing the author wrote is left."""
    static_lines, defaults = _template_boilerplate()
    kept = []
    for line in lines:
        stripped = line.strip()
        bullet = _BULLET.match(line)
        if stripped in static_lines or stripped in defaults or (bullet and bullet.group("value") in {"", *defaults}):
            continue
        kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")


def _title_name(headings: list[_Heading]) -> str | None:
    title = next((h.title for h in headings if h.level == 1), None)
    if title is None:
        return None
    title = _ESCAPE.sub(r"\1", title).strip()
    return re.sub(r"^(model card for|model card:)\s*", "", title, flags=re.IGNORECASE).strip() or None


def _body_bullets(lines: list[str], headings: list[_Heading]) -> dict[str, tuple[str, str]]:
    """`- **Label:** value` bullets outside the sections mapped as prose: (label as written, value) by normalised label;
    placeholders left out."""
    inside_prose = set()
    for heading in headings:
        if heading.key in _recognised_headings():
            inside_prose.update(range(heading.line, _section_end(headings, heading, len(lines), nested=True)))
    _, defaults = _template_boilerplate()
    bullets: dict[str, tuple[str, str]] = {}
    for number, line in enumerate(lines):
        match = _BULLET.match(line)
        if match and number not in inside_prose and match.group("value") not in {"", *defaults}:
            label = match.group("label").replace("[optional]", "").strip()
            bullets.setdefault(_heading_key(label), (label, _ESCAPE.sub(r"\1", match.group("value"))))
    return bullets


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return None


def _map_bullets(builder: _SourceBuilder, bullets: dict[str, tuple[str, str]]) -> None:
    for key, (label, value) in bullets.items():
        target = FIELD_BULLETS.get(key)
        if target is None:
            builder.leave_out(f"body '{label}'", "no techfile model field")
        elif target in ("license", "base_model") or builder.has(target):
            continue  # the metadata decides; see _map_metadata
        elif target in NUMERIC_FIELDS:
            number = _number(value)
            if number is None:
                builder.leave_out(f"body '{label}'", f"{value!r} is not a plain number")
            else:
                builder.set(target, number, f"body '{label}'")
        elif target == "date" and not _DATE.match(value):
            builder.leave_out(f"body '{label}'", f"{value!r} is not a YYYY-MM-DD date")
        else:
            builder.set(target, value, f"body '{label}'")


def _map_metadata(builder: _SourceBuilder, metadata: dict[str, Any], bullets: dict[str, tuple[str, str]]) -> None:
    handled = {"model-index", "model_name", "version", "metrics", "license", "license_name", "license_link", "base_model",
               "pipeline_tag", "datasets"}
    license_id = metadata.get("license")
    license_id = ", ".join(license_id) if isinstance(license_id, list) else license_id
    if license_id and license_id not in ("other", "unknown"):
        builder.set("license", str(license_id), "metadata license")
    elif "license" in bullets:
        builder.set("license", bullets["license"][1], f"body '{bullets['license'][0]}'")
    elif metadata.get("license_name"):
        link = f" ({metadata['license_link']})" if metadata.get("license_link") else ""
        builder.set("license", f"{metadata['license_name']}{link}", "metadata license_name")
    elif license_id:
        builder.leave_out(f"metadata license {license_id!r}", "names no licence; write `license` by hand")

    base_model = metadata.get("base_model")
    if base_model:
        value = ", ".join(base_model) if isinstance(base_model, list) else str(base_model)
        builder.set("base_model", value, "metadata base_model")
    elif "base model" in bullets or "finetuned from model" in bullets:
        label, value = bullets["base model"] if "base model" in bullets else bullets["finetuned from model"]
        builder.set("base_model", value, f"body '{label}'")

    if metadata.get("pipeline_tag") and not builder.has("task"):
        builder.set("task", str(metadata["pipeline_tag"]).replace("-", " "), "metadata pipeline_tag")
    if metadata.get("datasets"):
        names = metadata["datasets"] if isinstance(metadata["datasets"], list) else [metadata["datasets"]]
        builder.leave_out(f"metadata datasets ({', '.join(map(str, names))})",
                          "Hub dataset ids; techfile's training_data and evaluation_data name datasets/ sources by id")
    for key in metadata:
        if key not in handled:
            builder.leave_out(f"metadata {key}", "no techfile model field")


def _map_sections(builder: _SourceBuilder, lines: list[str], headings: list[_Heading]) -> None:
    recognised = _recognised_headings()
    texts: dict[str, list[tuple[str, str]]] = {}
    absorbed: set[int] = set()
    for heading in headings:
        target = recognised.get(heading.key)
        if target is None:
            continue
        end = _section_end(headings, heading, len(lines), nested=True)
        absorbed.update(h.index for h in headings if heading.line < h.line < end)
        text = _unescape_markup(_clean(lines[heading.line + 1:end]))
        if text:
            texts.setdefault(target, []).append((heading.title.strip(), text))
    for target, parts in texts.items():
        titles = " + ".join(f"'{title}'" for title, _ in parts)
        builder.set(target, "\n\n".join(text for _, text in parts), f"section {titles}")

    preamble = _clean(lines[:headings[0].line] if headings else lines)
    if preamble:
        builder.leave_out("text before the first heading", "no techfile model field")
    for heading in headings:
        if heading.key in recognised or heading.index in absorbed:
            continue
        direct = [line for line in lines[heading.line + 1:_section_end(headings, heading, len(lines), nested=False)]
                  if not _BULLET.match(line)]
        if _clean(direct):
            builder.leave_out(f"section '{heading.title.strip()}'", SECTION_REASONS.get(heading.key, "no techfile model field"))


def _map_listed_metrics(builder: _SourceBuilder, listed: list[str], eval_results: list[Any]) -> None:
    """Metrics the metadata lists but the model-index does not report; metrics in the order the metadata lists them."""
    indexed_types = {slugify(str(r.metric_type)) for r in eval_results}
    order = [slugify(name) for name in listed]
    metrics = builder.source.get("metrics", [])
    for metric_id, name in zip(order, listed, strict=True):
        if metric_id and metric_id not in indexed_types and not any(m["id"] == metric_id for m in metrics):
            metrics.append({"id": metric_id, "name": name})
            builder.mapped.append(f"metrics[{metric_id}] ← metadata metrics")
    if metrics:
        builder.source["metrics"] = sorted(metrics, key=lambda m: order.index(m["id"]) if m["id"] in order else len(order))


def _unescape_markup(text: str) -> str:
    """Undo the escapes techfile's Markdown filter adds (`\\<`, `\\$`, `\\@`) outside code: it adds them again on output."""
    lines = []
    fence: str | None = None
    for line in text.split("\n"):
        opening = _FENCE.match(line)
        if opening and (fence is None or opening.group(1).startswith(fence)):
            fence = None if fence else opening.group(1)[:3]
        elif fence is None:
            parts, position = [], 0
            for span in _CODE_SPAN.finditer(line):
                parts += [_MARKUP_ESCAPE.sub(r"\1", line[position:span.start()]), span.group(0)]
                position = span.end()
            line = "".join(parts) + _MARKUP_ESCAPE.sub(r"\1", line[position:])
        lines.append(line)
    return "\n".join(lines)


def _result_slice(result: Any) -> dict[str, str]:
    """The slice of a model-index result: `metric_args.slice`, or a `k=v, k=v` label in `metric_config`."""
    args = result.metric_args if isinstance(result.metric_args, dict) else {}
    if isinstance(args.get("slice"), dict):
        return {str(k): str(v) for k, v in args["slice"].items()}
    config = result.metric_config
    if isinstance(config, str) and _SLICE_LABEL.match(config):
        return dict(tuple(part.split("=", 1)) for part in config.split(", "))
    return {}


def _map_eval_results(builder: _SourceBuilder, eval_results: list[Any]) -> None:
    """Metrics and results from the model-index; what each result's dataset was, in `unmapped`."""
    metrics: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    by_dataset: dict[str, list[str]] = {}
    for result in eval_results:
        slice_ = _result_slice(result)
        args = result.metric_args if isinstance(result.metric_args, dict) else {}
        metric = _merge_metric(metrics, result, slice_, args)
        extra_args = sorted(set(args) - set(RESULT_ARGS))
        if extra_args:
            builder.leave_out(f"model-index args of {metric['id']} ({', '.join(extra_args)})", "no techfile result field")
        if result.source_url:
            builder.leave_out(f"model-index source of {metric['id']} ({result.source_name or result.source_url})",
                              "techfile results have no source; record it as evidence")
        dataset_results = by_dataset.setdefault(_dataset_description(result), [])
        entry = _result_entry(metric["id"], result.metric_value, slice_, args)
        if entry is None:
            builder.leave_out(f"model-index {result.metric_type} on '{result.dataset_name}'",
                              f"value {result.metric_value!r} is not a number")
            continue
        dataset_results.append(f"{entry['metric']} {entry['value']:g}" + (f" ({_slice_label_of(slice_)})" if slice_ else ""))
        results.append(entry)

    if metrics:
        builder.source["metrics"] = list(metrics.values())
        builder.mapped += [f"metrics[{m}] ← model-index" for m in metrics]
    if results:
        builder.set("results", results, f"model-index ({len(results)} results)")
    if eval_results and not builder.has("task"):
        first = eval_results[0]
        builder.set("task", str(first.task_name or first.task_type), "model-index task")
    for dataset, dataset_results in by_dataset.items():
        if dataset_results:
            more = f"; and {len(dataset_results) - 5} more" if len(dataset_results) > 5 else ""
            builder.leave_out(f"dataset {dataset} of results {'; '.join(dataset_results[:5])}{more}",
                              "results[].dataset must be the id of a datasets/ source; set it once that source exists")


def _merge_metric(metrics: dict[str, dict[str, Any]], result: Any, slice_: dict[str, str], args: dict[str, Any]) -> dict[str, Any]:
    """The metric a model-index result is for, created on first sight: id from type (and a config that is not a slice)."""
    config = None if slice_ else result.metric_config
    metric_id = slugify(f"{result.metric_type}-{config}" if config else str(result.metric_type))
    metric = metrics.setdefault(metric_id, {"id": metric_id})
    if "name" not in metric or not slice_:
        name = str(result.metric_name or result.metric_type)
        suffix = f" ({result.metric_config})"
        metric["name"] = name[: -len(suffix)] if slice_ and name.endswith(suffix) else name
    if isinstance(args.get("higher_is_better"), bool):
        metric["higher_is_better"] = args["higher_is_better"]
    elif slugify(str(result.metric_type)) in LOWER_IS_BETTER:
        metric["higher_is_better"] = False
    if _number(args.get("decision_threshold")) is not None:
        metric["decision_threshold"] = _number(args["decision_threshold"])
    return metric


def _result_entry(metric_id: str, value: Any, slice_: dict[str, str], args: dict[str, Any]) -> dict[str, Any] | None:
    """A techfile result, or None when the value is not a number (e.g. "95.1 ± 0.4")."""
    number = _number(value)
    if number is None:
        return None
    entry: dict[str, Any] = {"metric": metric_id, "value": number}
    ci = args.get("ci")
    if isinstance(ci, list) and len(ci) == 2 and all(_number(b) is not None for b in ci):
        entry["ci"] = [_number(b) for b in ci]
    if slice_:
        entry["slice"] = slice_
    n = args.get("n")
    if isinstance(n, int) and not isinstance(n, bool) and n >= 0:
        entry["n"] = n
    return entry


def _dataset_description(result: Any) -> str:
    """'Harbourside read speech' (type kestrel-audio/harbourside-read, config en, split test, args snr_db=5)."""
    details = [f"{k} {v}" for k, v in (("type", result.dataset_type), ("config", result.dataset_config),
                                       ("split", result.dataset_split), ("revision", result.dataset_revision)) if v]
    if isinstance(result.dataset_args, dict):
        details += [f"args {k}={v}" for k, v in result.dataset_args.items()]
    return f"'{result.dataset_name}' ({', '.join(details)})"
