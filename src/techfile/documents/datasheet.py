"""Datasheets for datasets (Gebru et al. 2021), one per dataset, with EU AI Act Art. 10 data-governance facts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from techfile.documents.base import BuildInfo, Document, GapRecorder, Missing
from techfile.documents.common import compose_document, document_id, link
from techfile.documents.render import Renderer
from techfile.frameworks.catalogue import load_catalogue
from techfile.project import Dataset, Project, Prose, SpecialCategories

KIND = "datasheet"
SECTION = "Datasheets"


@dataclass(frozen=True)
class Answer:
    """One question of a datasheet and its answer (Markdown prose, text, or a Missing marker)."""

    question: str
    answer: Prose | str | Missing


def datasheet_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    return [_datasheet(project, build, renderer, dataset) for dataset in project.datasets]


def field_value(entity: Any, dotted: str) -> Any:
    """The value at a dotted field path of a typed entity, or None where any step is absent."""
    value = entity
    for name in dotted.split("."):
        value = getattr(value, name, None)
        if value is None:
            return None
    return value


def as_answer(value: Any) -> Prose | str | None:
    """A source value as datasheet text."""
    if value is None or value == []:
        return None
    if isinstance(value, Prose):
        return value
    if isinstance(value, bool):
        return "Yes." if value else "No."
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, SpecialCategories):
        parts = ["Special categories of personal data are processed." if value.processed else
                 "No special categories of personal data are processed."]
        parts += [p.text for p in (value.necessity, value.safeguards) if p is not None]
        return Prose("\n\n".join(parts))
    return str(value)


def _datasheet(project: Project, build: BuildInfo, renderer: Renderer, dataset: Dataset) -> Document:
    gaps = GapRecorder()
    title = f"Datasheet: {dataset.name}"
    catalogue = load_catalogue("datasheet_questions")
    sections = []
    for section in catalogue["sections"]:
        answers = []
        for question in section["questions"]:
            value = as_answer(field_value(dataset, question["field"]))
            if value is None and question.get("optional"):
                continue
            point = f"{section['title']}: {question['question']}"
            answers.append(Answer(question["question"], gaps.require(value, point, f"datasets/{dataset.id}.yaml `{question['field']}`")))
        sections.append({"title": section["title"], "answers": answers})
    governance = [
        {"point": item["point"], "topic": item["topic"],
         "answer": gaps.require(as_answer(field_value(dataset, item["field"])), f"{item['point']} {item['topic']}",
                                f"datasets/{dataset.id}.yaml `{item['field']}`")}
        for item in catalogue["data_governance"]
    ]
    models = [link(document_id(project, "model-card", m.id), m.name) for m in project.models
              if dataset.id in m.training_data or dataset.id in m.evaluation_data]
    context = {
        "dataset": dataset,
        "sections": sections,
        "governance": governance,
        "models": models,
        "evidence": [e for e in project.evidence if e.id in dataset.evidence],
    }
    return compose_document(project, build, renderer, KIND, SECTION, title, "datasheet/datasheet.md.j2", context, gaps.gaps, dataset.id)
