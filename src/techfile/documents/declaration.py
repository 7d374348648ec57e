"""The EU declaration of conformity (Art. 47, Annex V points 1-8)."""

from __future__ import annotations

from techfile.assess.declaration import declaration_points
from techfile.documents.base import BuildInfo, Document
from techfile.documents.common import compose_document, document_gaps
from techfile.documents.render import Renderer
from techfile.documents.technical_file import related_documents
from techfile.project import Project

KIND = "declaration-of-conformity"
SECTION = "EU AI Act"


def declaration_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    assert project.system is not None
    points = declaration_points(project)
    title = f"EU declaration of conformity: {project.system.name}"
    assert project.settings is not None
    conformity = project.system.conformity
    declaration = conformity.declaration if conformity else None
    signature = None if declaration is None else {
        "place": declaration.place, "date": declaration.date, "signatory": declaration.signatory,
        "function": declaration.function, "on_behalf_of": declaration.on_behalf_of or project.settings.provider.name}
    context = {
        "points": points,
        "links": related_documents(project),
        "signature": signature,
        "sectoral": _medical_device(project),
    }
    return [compose_document(project, build, renderer, KIND, SECTION, title, "declaration-of-conformity/declaration.md.j2", context,
                             document_gaps(project, KIND))]


def _medical_device(project: Project) -> dict[str, object] | None:
    """The MDR's own declaration items, where the sources name them, so that one declaration serves both acts."""
    assert project.system is not None
    product = project.system.classification.annex_i_product
    device = product.medical_device
    if not product.applies or device is None:
        return None
    items = [("Single registration number (SRN)", device.srn), ("Basic UDI-DI", device.basic_udi_di),
             ("Risk class", device.device_class), ("Classification rule", device.classification_rule)]
    return {"title": "Regulation (EU) 2017/745 (MDR): declaration items (Art. 47(3))",
            "rows": [(label, value or "MISSING: system.yaml `classification.annex_i_product.medical_device`")
                      for label, value in items]}
