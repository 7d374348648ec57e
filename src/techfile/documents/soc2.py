"""SOC 2 readiness of the AI pipeline: the criteria in scope per pipeline stage, the controls meeting them, and the gaps."""

from __future__ import annotations

from typing import Any

from techfile.assess.grades import EVIDENCED, GRADES, assess, summarise
from techfile.documents.base import BuildInfo, Document, Table, table_text
from techfile.documents.common import compose_document, document_gaps, grade_row
from techfile.documents.lists import bounded_ids, full_lists_in
from techfile.documents.render import Renderer
from techfile.project import Project

KIND = "soc2-readiness"
SECTION = "SOC 2"
CATEGORY_TITLES = {"security": "Security", "availability": "Availability", "confidentiality": "Confidentiality",
                   "processing-integrity": "Processing integrity", "privacy": "Privacy"}


def soc2_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    assessment = assess(project)
    grades = assessment.framework("soc2")
    assert grades is not None
    category_of = {i.id: i.category for i in grades.framework.items}
    stages = project.pipeline_stages
    controls = {c.id: c for c in project.controls}
    in_scope = [row for row in grades.items if row.applicable]
    categories = []
    for category, label in CATEGORY_TITLES.items():
        rows = [r for r in in_scope if category_of.get(r.id) == category]
        if rows:
            ready = sum(GRADES.index(r.grade) >= GRADES.index(EVIDENCED) for r in rows)
            categories.append({"title": label, "criteria": len(rows), "ready": ready,
                               **{grade: sum(r.grade == grade for r in rows) for grade in GRADES},
                               "readiness": f"{100.0 * ready / len(rows):.0f}%"})
    where = full_lists_in(project)
    matrix = []
    for row in in_scope:
        claiming = [controls[c] for c in row.controls if c in controls]
        staged = [[c.id for c in claiming if stage.id in c.pipeline_stages] for stage in stages]
        unstaged = [c.id for c in claiming if not c.pipeline_stages]
        matrix.append({"row": grade_row(row), "cells": [bounded_ids(ids, where) for ids in staged],
                       "all_stages": bounded_ids(unstaged, where), "full_cells": [", ".join(ids) or "—" for ids in staged],
                       "full_all_stages": ", ".join(unstaged) or "—"})
    context = {"categories": categories, "stages": stages, "matrix": matrix, "summary": summarise(in_scope, "SOC 2"),
               "assessment_date": assessment.date,
               "gap_rows": [dict(grade_row(r), controls=bounded_ids(r.controls, where), all_controls=", ".join(r.controls) or "—")
                            for r in in_scope if GRADES.index(r.grade) < GRADES.index(EVIDENCED)],
               "out_of_scope": sorted({str(category_of.get(r.id)) for r in grades.items if not r.applicable})}
    title = "SOC 2 readiness of the AI pipeline"
    document = compose_document(project, build, renderer, KIND, SECTION, title, "soc2-readiness/soc2-readiness.md.j2", context,
                                document_gaps(project, KIND))
    return [document.with_tables(*soc2_tables(context))]


def soc2_tables(context: dict[str, Any]) -> list[Table]:
    """The gap list, the readiness by category and the stage matrix, with every full list."""
    gaps = tuple((g["item"].id, *(table_text(g[k]) for k in ("title", "grade", "required", "basis", "all_controls")))
                 for g in context["gap_rows"])
    categories = tuple((c["title"], *(str(c[k]) for k in ("criteria", "approved", "evidenced", "described", "missing")),
                        c["readiness"]) for c in context["categories"])
    stages = tuple(table_text(s.name) for s in context["stages"])
    matrix = tuple((m["row"]["item"].id, table_text(m["row"]["title"]), table_text(m["row"]["grade"]), *m["full_cells"],
                    m["full_all_stages"]) for m in context["matrix"])
    return [Table("Gap list", ("Criterion", "Title", "Grade", "Required", "Why", "Claimed by"), gaps),
            Table("Readiness by category", ("Category", "Criteria in scope", "Approved", "Evidenced", "Described", "Missing",
                                            "Ready"), categories),
            Table("Criteria by stage", ("Criterion", "Title", "Grade", *stages, "All stages"), matrix)]
