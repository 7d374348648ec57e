"""The ISO/IEC 42001 Statement of Applicability (clause 6.1.3): all Annex A controls, decided and justified."""

from __future__ import annotations

from techfile.documents.base import BuildInfo, Document, GapRecorder
from techfile.documents.common import compose_document
from techfile.documents.render import Renderer
from techfile.frameworks.registry import builtin_framework
from techfile.project import Project

KIND = "statement-of-applicability"
SECTION = "ISO/IEC 42001"


def soa_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    gaps = GapRecorder()
    decisions = {d.control: d for d in project.soa.decisions} if project.soa else {}
    controls = {c.id: c for c in project.controls}
    rows = []
    for item in builtin_framework("iso-42001").assessable_items():
        decision = decisions.get(item.id)
        if decision is None:
            rows.append({"item": item, "decision": gaps.require(None, f"{item.id} {item.title}: no decision", "soa.yaml")})
            continue
        implementing = [controls[c] for c in decision.implemented_by if c in controls]
        if decision.applicable and not implementing:
            gaps.require(None, f"{item.id} {item.title}: applicable, but no implementing control", "soa.yaml `implemented_by`")
        rows.append({
            "item": item, "decision": decision,
            "applicable": "yes" if decision.applicable else "no",
            "justification": gaps.require(decision.justification, f"{item.id} {item.title}: justification", "soa.yaml"),
            "implementing": ", ".join(f"{c.title} ({c.id})" for c in implementing) or "—",
            "evidence": ", ".join(sorted({e for c in implementing for e in c.evidence})) or "—",
        })
    context = {"soa": project.soa, "rows": rows,
               "applicable": sum(1 for r in rows if r.get("applicable") == "yes"),
               "excluded": sum(1 for r in rows if r.get("applicable") == "no")}
    title = "Statement of Applicability (ISO/IEC 42001)"
    return [compose_document(project, build, renderer, KIND, SECTION, title, "soa/soa.md.j2", context, gaps.gaps,
                             sources=("soa.yaml", "controls"))]
