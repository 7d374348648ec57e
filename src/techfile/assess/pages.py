"""Which documents a build makes and their ids, known before anything is rendered (so prose can link to them)."""

from __future__ import annotations

import json
from functools import cache

from techfile.assess.gaps import DOCUMENT_KINDS, requested_documents
from techfile.project import Project
from techfile.resources import schemas_dir

PER_ENTITY = {"model-cards": "model-card", "datasheets": "datasheet"}  # one document per model, per dataset
# A register of more risks than this keeps its summary, and gives each risk's detail in one document per risk source
# (schemas/risk.schema.json `source`), so that no single document grows with the whole portfolio.
RISK_DETAIL_IN_ONE_DOCUMENT = 40


def document_id(project: Project, kind: str, entity_id: str | None = None) -> str:
    """`<project>-<kind>[-<entity>]`: stable, readable, and the file name of the PDF and Markdown."""
    assert project.settings is not None
    return "-".join(p for p in (project.settings.id, kind, entity_id) if p)


def planned_documents(project: Project, only: set[str] | None = None) -> list[str]:
    """The ids of the documents a build makes (of the kinds in `only`, when given), in site order."""
    wanted = requested_documents(project)
    ids: list[str] = []
    for kind in DOCUMENT_KINDS:
        if kind not in wanted or (only is not None and kind not in only):
            continue
        if kind == "model-cards":
            ids.extend(document_id(project, PER_ENTITY[kind], m.id) for m in project.models)
        elif kind == "datasheets":
            ids.extend(document_id(project, PER_ENTITY[kind], d.id) for d in project.datasets)
        elif kind == "risk-register":
            ids.append(document_id(project, kind))
            ids.extend(document_id(project, kind, source) for source in risk_detail_parts(project))
        else:
            ids.append(document_id(project, kind))
    return ids


@cache
def risk_sources() -> tuple[str, ...]:
    """The sources a risk may name, in the schema's order."""
    schema = json.loads((schemas_dir() / "risk.schema.json").read_text(encoding="utf-8"))
    return tuple(schema["properties"]["source"]["enum"])


def risk_source(source: str | None) -> str:
    """The part of a split register a risk's detail is in: its source, `other` when it states none."""
    return source if source in risk_sources() else "other"


def risk_detail_parts(project: Project) -> list[str]:
    """The risk sources that have a detail document of their own, in schema order; none for a register small enough
    to hold its detail itself."""
    if len(project.risks) <= RISK_DETAIL_IN_ONE_DOCUMENT:
        return []
    used = {risk_source(r.source) for r in project.risks}
    return [source for source in risk_sources() if source in used]
