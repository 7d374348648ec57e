"""Datasheets for datasets (Gebru et al. 2021), one per dataset, with EU AI Act Art. 10 data-governance facts."""

from __future__ import annotations

from techfile.assess.datasheets import datasheet_answers
from techfile.assess.lineage import DatasetLineage, project_lineage
from techfile.documents.base import BuildInfo, Chart, Document, present_or_missing
from techfile.documents.charts import dataset_chart, lineage_chart
from techfile.documents.common import compose_document, document_gaps, document_id, entity_sources, link
from techfile.documents.render import Renderer
from techfile.project import Dataset, Project

KIND = "datasheet"
SECTION = "Datasheets"


def datasheet_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    return [_datasheet(project, build, renderer, dataset) for dataset in project.datasets]


def _datasheet(project: Project, build: BuildInfo, renderer: Renderer, dataset: Dataset) -> Document:
    sections: dict[str, list[dict[str, object]]] = {}
    for answer in datasheet_answers(dataset):
        point = f"{answer.section}: {answer.question}"
        text = present_or_missing(answer.answer, point, f"datasets/{dataset.id}.yaml `{answer.field}`")
        sections.setdefault(answer.section, []).append({"question": answer.question, "answer": text})
    models = [link(document_id(project, "model-card", m.id), m.name) for m in project.models
              if dataset.id in m.training_data or dataset.id in m.evaluation_data]
    chart = dataset_chart(dataset)
    lineage = project_lineage(project, dataset)
    diagrams = [_lineage_diagram(dataset, found) for found in lineage]
    context = {
        "dataset": dataset,
        "sections": [{"title": title, "answers": answers} for title, answers in sections.items()],
        "models": models,
        "chart": chart,
        "lineage": [{"found": found, "diagram": diagram} for found, diagram in zip(lineage, diagrams, strict=True)],
        "evidence": [e for e in project.evidence if e.id in dataset.evidence],
    }
    title = f"Datasheet: {dataset.name}"
    sources = entity_sources(dataset, *(found.graph for found in lineage))
    document = compose_document(project, build, renderer, KIND, SECTION, title, "datasheet/datasheet.md.j2", context,
                                document_gaps(project, KIND, dataset.id), dataset.id, sources)
    return document.with_assets(chart, *diagrams)


def _lineage_diagram(dataset: Dataset, found: DatasetLineage) -> Chart:
    alt = (f"Lineage of {dataset.name} in {found.graph.title}: the datasets and jobs upstream of it"
           + (" and the jobs that read it" if found.consumers else ""))
    return lineage_chart(f"lineage-{found.graph.id}-{dataset.id}", found.diagram, alt)
