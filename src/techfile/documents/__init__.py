"""render: one module per document kind, each turning the resolved project into Markdown through a template."""

from __future__ import annotations

from collections.abc import Callable

from techfile.assess.gaps import requested_documents
from techfile.assess.pages import planned_documents
from techfile.documents.base import BuildInfo, Document
from techfile.documents.datasheet import datasheet_documents
from techfile.documents.declaration import declaration_documents
from techfile.documents.fria import fria_documents
from techfile.documents.gpai import (
    copyright_policy,
    gpai_downstream_information,
    gpai_technical_documentation,
    training_content_summary,
)
from techfile.documents.gspr import gspr_documents, mdr_index_documents
from techfile.documents.home import home_document
from techfile.documents.incident_report import incident_report_documents
from techfile.documents.instructions import instructions_documents
from techfile.documents.logbook import logbook_documents
from techfile.documents.model_card import model_card_documents
from techfile.documents.monitoring_report import monitoring_report_documents
from techfile.documents.pms_plan import pms_plan_documents
from techfile.documents.qms_manual import qms_manual_documents
from techfile.documents.registration import registration_documents
from techfile.documents.render import Renderer
from techfile.documents.risk_register import risk_register_documents
from techfile.documents.soa import soa_documents
from techfile.documents.soc2 import soc2_documents
from techfile.documents.technical_file import technical_file_documents
from techfile.documents.traceability import traceability_documents
from techfile.project import Project
from techfile.validation.prose import LinkPolicy

DocumentBuilder = Callable[[Project, BuildInfo, Renderer], list[Document]]

# Output kind (as named in techfile.yaml `outputs.documents`) → the builder that makes its documents, in site order.
DOCUMENT_BUILDERS: dict[str, DocumentBuilder] = {
    "technical-file": technical_file_documents,
    "declaration-of-conformity": declaration_documents,
    "instructions-for-use": instructions_documents,
    "model-cards": model_card_documents,
    "datasheets": datasheet_documents,
    "risk-register": risk_register_documents,
    "statement-of-applicability": soa_documents,
    "soc2-readiness": soc2_documents,
    "traceability": traceability_documents,
    "qms-manual": qms_manual_documents,
    "logbook": logbook_documents,
    "gspr-checklist": gspr_documents,
    "mdr-index": mdr_index_documents,
    "fria": fria_documents,
    "pms-plan": pms_plan_documents,
    "monitoring-report": monitoring_report_documents,
    "incident-reports": incident_report_documents,
    "eu-database-registration": registration_documents,
    "gpai-technical-documentation": gpai_technical_documentation,
    "gpai-downstream-information": gpai_downstream_information,
    "copyright-policy": copyright_policy,
    "training-content-summary": training_content_summary,
}


def render_documents(project: Project, build: BuildInfo, renderer: Renderer, only: set[str] | None = None,
                     rendered: Callable[[Document], None] | None = None) -> list[Document]:
    """Every document the project asks for (or `only` those kinds), then the home page that lists them.

    A project that names no documents gets the ones its EU AI Act risk class requires (all, outside the EU AI Act).
    Prose may link to every document of a full build and show images from the project (collected in the renderer's
    policy); the site drops the links to documents `only` leaves out. Each document is passed to `rendered` as soon
    as it is rendered.
    """
    renderer.policy = LinkPolicy(pages=frozenset(planned_documents(project)), root=project.root)
    wanted = requested_kinds(project)
    documents: list[Document] = []
    for kind, builder in DOCUMENT_BUILDERS.items():
        if kind in wanted and (only is None or kind in only):
            for document in builder(project, build, renderer):
                documents.append(document)
                if rendered is not None:
                    rendered(document)
    home = home_document(project, build, renderer, documents)
    if rendered is not None:
        rendered(home)
    return [home, *documents]


def requested_kinds(project: Project) -> list[str]:
    """The document kinds to build: those techfile.yaml names, else those the classification requires."""
    return requested_documents(project)


def unavailable_kinds(project: Project) -> list[str]:
    """Document kinds the project asks for that this techfile does not produce yet."""
    assert project.settings is not None
    return [kind for kind in project.settings.outputs.documents if kind not in DOCUMENT_BUILDERS]
