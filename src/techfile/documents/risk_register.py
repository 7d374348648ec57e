"""The risk register: every risk with inherent and residual levels, treatments and owners."""

from __future__ import annotations

from techfile.documents.base import BuildInfo, Document, GapRecorder
from techfile.documents.common import compose_document
from techfile.documents.render import Renderer
from techfile.project import Project

KIND = "risk-register"
SECTION = "Risk management"
LEVEL_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def risk_register_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    gaps = GapRecorder()
    title = "Risk register"
    risks = sorted(project.risks, key=lambda r: (LEVEL_ORDER.get(r.residual_level, 9), LEVEL_ORDER.get(r.inherent_level, 9), r.id))
    controls = {c.id: c for c in project.controls}
    if not risks:
        gaps.require(None, "Risks", "risks/*.yaml")
    context = {
        "risks": risks,
        "treatments": {r.id: [controls[c] for c in r.treatment.controls if c in controls] for r in risks},
    }
    return [compose_document(project, build, renderer, KIND, SECTION, title, "risk-register/risk-register.md.j2", context, gaps.gaps)]
