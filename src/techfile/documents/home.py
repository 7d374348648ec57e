"""The site's home page: the system at a glance, each framework's grades, and a status board of every document."""

from __future__ import annotations

from techfile.assess.grades import assess
from techfile.documents.base import BuildInfo, Document
from techfile.documents.common import drop_repeated_headings, link
from techfile.documents.render import Renderer
from techfile.project import Project

KIND = "home"


def status_board(documents: list[Document]) -> list[dict[str, object]]:
    """One row per document: its status as its cover shows it and the number of gaps it lists. A document the site
    does not show (the internal instructions for use) links the page that stands for it (their deployer edition)."""
    return [{"link": link(d.site_name or d.id, d.title), "section": d.section, "status": d.status, "gaps": len(d.gaps)}
            for d in documents]


def home_document(project: Project, build: BuildInfo, renderer: Renderer, documents: list[Document]) -> Document:
    assert project.settings is not None and project.system is not None
    assessment = assess(project)
    context = {
        "settings": project.settings,
        "system": project.system,
        "build": build,
        "commit": build.commit[:12] if build.commit else "not in git",
        "board": status_board(documents),
        "total_gaps": sum(len(d.gaps) for d in documents),
        "frameworks": [g.summary for g in assessment.frameworks],
        "assessment_date": assessment.date,
        "counts": [
            ("Pipeline stages", len(project.pipeline_stages)), ("Datasets", len(project.datasets)),
            ("Models", len(project.models)), ("Risks", len(project.risks)), ("Controls", len(project.controls)),
            ("QMS procedures", len(project.procedures)), ("Evidence items", len(project.evidence)),
            ("Logbook entries", len(project.logbook)), ("Changes", len(project.changes)),
        ],
    }
    markdown = drop_repeated_headings(renderer.render("home/index.md.j2", context))  # as compose_document does
    return Document("index", KIND, project.settings.title, "Home", markdown, (), in_pdf=False, status="")
