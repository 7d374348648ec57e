"""SOC 2 readiness of the AI pipeline: the criteria in scope per pipeline stage, the controls meeting them, and the gaps."""

from __future__ import annotations

from techfile.assess.coverage import COVERED, MISSING, OUT_OF_SCOPE, PARTIAL, framework_coverage
from techfile.documents.base import BuildInfo, Document
from techfile.documents.common import compose_document
from techfile.documents.render import Renderer
from techfile.frameworks.registry import builtin_framework
from techfile.project import Project

KIND = "soc2-readiness"
SECTION = "SOC 2"
CATEGORY_TITLES = {"security": "Security", "availability": "Availability", "confidentiality": "Confidentiality",
                   "processing-integrity": "Processing integrity", "privacy": "Privacy"}


def soc2_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    coverage = framework_coverage(project, builtin_framework("soc2"))
    stages = project.pipeline_stages
    in_scope = [row for row in coverage.items if row.status != OUT_OF_SCOPE]
    categories = []
    for category, label in CATEGORY_TITLES.items():
        rows = [r for r in in_scope if r.item.category == category]
        if rows:
            covered = sum(r.status == COVERED for r in rows)
            categories.append({"title": label, "criteria": len(rows), "covered": covered,
                               "partial": sum(r.status == PARTIAL for r in rows),
                               "missing": sum(r.status == MISSING for r in rows),
                               "readiness": f"{100.0 * covered / len(rows):.0f}%"})
    matrix = []
    for row in in_scope:
        cells = []
        for stage in stages:
            ids = [c.id for c in row.controls if stage.id in c.pipeline_stages]
            cells.append(", ".join(ids) or "—")
        unstaged = [c.id for c in row.controls if not c.pipeline_stages]
        matrix.append({"row": row, "cells": cells, "all_stages": ", ".join(unstaged) or "—"})
    context = {"categories": categories, "stages": stages, "matrix": matrix,
               "gap_rows": [{"row": r, "claimed_by": ", ".join(c.id for c in r.controls) or "no control"}
                            for r in in_scope if r.status in (PARTIAL, MISSING)],
               "out_of_scope": sorted({r.item.category for r in coverage.items if r.status == OUT_OF_SCOPE})}
    title = "SOC 2 readiness of the AI pipeline"
    # Readiness gaps are this report's findings, not facts missing from the sources: they do not make it a draft.
    return [compose_document(project, build, renderer, KIND, SECTION, title, "soc2-readiness/soc2-readiness.md.j2", context, [])]
