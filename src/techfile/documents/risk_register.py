"""The risk register (ordered by residual level, with a heat map of inherent against residual level) and, when the
NIST AI RMF is in scope, its profile: every subcategory with the controls, risks and procedures that address it.

Bounded at portfolio scale: the register always lists every risk in one summary row; a profile row names a few of its
controls and risks and counts the rest (lists.py). A register of more than RISK_DETAIL_IN_ONE_DOCUMENT risks gives each
risk's detail in one document per risk source (assess/pages.py), linked from the summary; the spreadsheet edition keeps
every full row."""

from __future__ import annotations

from typing import Any

from techfile.assess.grades import assess
from techfile.assess.pages import risk_detail_parts, risk_source
from techfile.documents.base import BuildInfo, Document, Table, table_text
from techfile.documents.charts import risk_heatmap
from techfile.documents.common import compose_document, document_gaps, document_id, grade_row, link
from techfile.documents.lists import SHOWN_IN_A_CELL, bounded_ids, full_lists_in
from techfile.documents.render import Renderer
from techfile.project import Control, Project, Risk

KIND = "risk-register"
SECTION = "Risk management"
LEVEL_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
SOURCE_TITLES = {"data": "Data", "model": "Model", "human-oversight": "Human oversight", "deployment": "Deployment",
                 "cybersecurity": "Cybersecurity", "organisational": "Organisational", "other": "Other"}


def risk_register_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    assert project.settings is not None
    risks = sorted(project.risks, key=lambda r: (LEVEL_ORDER.get(r.residual_level, 9), LEVEL_ORDER.get(r.inherent_level, 9), r.id))
    controls = {c.id: c for c in project.controls}
    treatments = {r.id: [controls[c] for c in r.treatment.controls if c in controls] for r in risks}
    parts = {source: link(document_id(project, KIND, source), f"{SOURCE_TITLES.get(source, source)} risks")
             for source in risk_detail_parts(project)}
    chart = risk_heatmap(risks)
    context = {
        "risks": risks,
        "detail": {r.id: parts[risk_source(r.source)] for r in risks} if parts else {},
        "parts": list(parts.values()),
        "detailed": [] if parts else risks,
        "treatments": treatments,
        "chart": chart,
        "profile": _nist_profile(project) if "nist-ai-rmf" in project.settings.frameworks else [],
        "assessment_date": assess(project).date,
        "shown": SHOWN_IN_A_CELL,
    }
    grades = assess(project).framework("nist-ai-rmf")
    context["summary"] = grades.summary if grades else ""
    title = "Risk register" + (" and NIST AI RMF profile" if context["profile"] else "")
    document = compose_document(project, build, renderer, KIND, SECTION, title, "risk-register/risk-register.md.j2", context,
                                document_gaps(project, KIND), sources=("risks", "controls", "qms"))
    register = document.with_assets(chart).with_tables(*risk_tables(context))
    details = [_detail_document(project, build, renderer, source, part, [r for r in risks if risk_source(r.source) == source],
                                treatments, register)
               for source, part in parts.items()]
    return [register, *details]


def _detail_document(project: Project, build: BuildInfo, renderer: Renderer, source: str, part: dict[str, object],
                     risks: list[Risk], treatments: dict[str, list[Control]], register: Document) -> Document:
    """The detail of the risks of one source, in the register's order, linked back to the register."""
    title = f"Risk register: {str(part['title']).lower()}"
    context = {"risks": risks, "detailed": risks, "treatments": treatments, "source": source,
               "what": str(part["title"]).lower(), "register": link(register.id, register.title)}
    return compose_document(project, build, renderer, KIND, SECTION, title, "risk-register/risk-register-part.md.j2",
                            context, [], entity_id=source, sources=("risks", "controls"))


def risk_tables(context: dict[str, Any]) -> list[Table]:
    """The register (and the NIST AI RMF profile) with every full row, for the spreadsheet edition."""
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
                                                           ("title", "grade", "required", "all_controls", "procedures",
                                                            "all_risks")))
                        for f in context["profile"] for r in f["rows"])
        tables.append(Table("NIST AI RMF profile", ("Function", "Subcategory", "Title", "Grade", "Required", "Controls",
                                                    "Procedures", "Risks"), profile))
    return tables


def _nist_profile(project: Project) -> list[dict[str, object]]:
    """Each function's subcategories, graded, with the controls, risks and procedures that address them (a few named,
    the rest counted)."""
    grades = assess(project).framework("nist-ai-rmf")
    assert grades is not None
    controls_where = full_lists_in(project)
    framework = grades.framework
    risks_of: dict[str, list[str]] = {}
    for risk in project.risks:
        for item_id in risk.nist_ai_rmf:
            risks_of.setdefault(item_id, []).append(risk.id)
    functions = []
    for function in (i for i in framework.items if i.kind == "function"):
        categories = {i.id for i in framework.items if i.parent == function.id}
        rows = []
        for item in (i for i in framework.items if i.kind == "subcategory" and i.parent in categories):
            graded = grades.item(item.id)
            assert graded is not None
            risks = risks_of.get(item.id, [])
            rows.append(dict(grade_row(graded), controls=bounded_ids(graded.controls, controls_where),
                             all_controls=", ".join(graded.controls) or "—",
                             risks=bounded_ids(risks, "each risk's detail"), all_risks=", ".join(risks) or "—"))
        functions.append({"function": function, "rows": rows})
    return functions
