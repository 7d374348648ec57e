"""The risk register (ordered by residual level, with a heat map of inherent against residual level) and, when the
NIST AI RMF is in scope, its profile: every subcategory with the controls, risks and procedures that address it."""

from __future__ import annotations

from typing import Any

from techfile.assess.grades import assess
from techfile.documents.base import BuildInfo, Document, Table, table_text
from techfile.documents.charts import risk_heatmap
from techfile.documents.common import compose_document, document_gaps, grade_row
from techfile.documents.render import Renderer
from techfile.project import Project

KIND = "risk-register"
SECTION = "Risk management"
LEVEL_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def risk_register_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    assert project.settings is not None
    risks = sorted(project.risks, key=lambda r: (LEVEL_ORDER.get(r.residual_level, 9), LEVEL_ORDER.get(r.inherent_level, 9), r.id))
    controls = {c.id: c for c in project.controls}
    chart = risk_heatmap(risks)
    context = {
        "risks": risks,
        "treatments": {r.id: [controls[c] for c in r.treatment.controls if c in controls] for r in risks},
        "chart": chart,
        "profile": _nist_profile(project) if "nist-ai-rmf" in project.settings.frameworks else [],
        "assessment_date": assess(project).date,
    }
    grades = assess(project).framework("nist-ai-rmf")
    context["summary"] = grades.summary if grades else ""
    title = "Risk register" + (" and NIST AI RMF profile" if context["profile"] else "")
    document = compose_document(project, build, renderer, KIND, SECTION, title, "risk-register/risk-register.md.j2", context,
                                document_gaps(project, KIND), sources=("risks", "controls", "qms"))
    return [document.with_assets(chart).with_tables(*risk_tables(context))]


def risk_tables(context: dict[str, Any]) -> list[Table]:
    """The register (and the NIST AI RMF profile) as the Markdown shows them, for the spreadsheet edition."""
    headers = ("Risk", "Title", "Inherent level", "Residual level", "Likelihood", "Severity", "Residual likelihood",
               "Residual severity", "Treatment", "Treating controls", "Owner", "Status", "Stakeholders", "NIST AI RMF",
               "Art. 9 step", "Last review")
    rows = tuple(
        (r.id, *(table_text(v) for v in (
            r.title, r.inherent_level, r.residual_level, r.likelihood, r.severity, r.residual_likelihood, r.residual_severity,
            r.treatment.strategy, [f"{c.title} ({c.id})" for c in context["treatments"][r.id]], r.owner, r.status,
            r.stakeholders, r.nist_ai_rmf, r.art_9_step, r.last_review)))
        for r in context["risks"])
    tables = [Table("Risk register", headers, rows)]
    if context["profile"]:
        profile = tuple((f["function"].id, r["item"].id, *(table_text(r[k]) for k in
                                                           ("title", "grade", "required", "controls", "procedures", "risks")))
                        for f in context["profile"] for r in f["rows"])
        tables.append(Table("NIST AI RMF profile", ("Function", "Subcategory", "Title", "Grade", "Required", "Controls",
                                                    "Procedures", "Risks"), profile))
    return tables


def _nist_profile(project: Project) -> list[dict[str, object]]:
    """Each function's subcategories, graded, with the controls, risks and procedures that address them."""
    grades = assess(project).framework("nist-ai-rmf")
    assert grades is not None
    framework = grades.framework
    functions = []
    for function in (i for i in framework.items if i.kind == "function"):
        categories = {i.id for i in framework.items if i.parent == function.id}
        rows = []
        for item in (i for i in framework.items if i.kind == "subcategory" and i.parent in categories):
            graded = grades.item(item.id)
            assert graded is not None
            risks = [r.id for r in project.risks if item.id in r.nist_ai_rmf]
            rows.append(dict(grade_row(graded), risks=", ".join(risks) or "—"))
        functions.append({"function": function, "rows": rows})
    return functions
