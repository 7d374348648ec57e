"""The EU declaration of conformity (Art. 47, Annex V): each of the eight points filled from the sources, or missing."""

from __future__ import annotations

from dataclasses import dataclass

from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.project import Conformity, NotifiedBody, Project


@dataclass(frozen=True)
class DeclarationPoint:
    """One Annex V point: its id and reference, our title, the statement, or what is missing."""

    id: str
    ref: str
    title: str
    statement: str | None
    missing: str | None = None  # the source fact to add, when the statement cannot be made

    @property
    def status(self) -> str:
        return "missing" if self.missing else "complete"


def declaration_points(project: Project) -> list[DeclarationPoint]:
    """The eight Annex V points in order."""
    assert project.settings is not None and project.system is not None
    act = eu_ai_act()
    system, provider = project.system, project.settings.provider
    conformity = system.conformity
    declaration = conformity.declaration if conformity else None
    body = system.classification.annex_i_product.notified_body
    personal_data = [d.name for d in project.datasets if d.personal_data and d.personal_data.contains]
    representative = provider.authorised_representative

    statements: dict[str, tuple[str | None, str | None]] = {
        "annex_v.1": (f"{system.name}, version {system.version}" + (f" ({system.type})" if system.type else "")
                      + f"; identifier: {_identifier(project.settings.id, system.id, system.version)}.", None),
        "annex_v.2": (f"{provider.name}, {provider.address}" + (
            f"; authorised representative: {representative.name}, {representative.address}" if representative else "") + ".",
            None),
        "annex_v.3": (f"This declaration of conformity is issued under the sole responsibility of {provider.name}.", None),
        "annex_v.4": (f"{system.name} {system.version} conforms to Regulation (EU) 2024/1689"
                      + (f" and to {system.classification.annex_i_product.legislation}"
                         if system.classification.annex_i_product.applies and system.classification.annex_i_product.legislation
                         else "") + ".", None),
        "annex_v.5": _data_protection(system.name, personal_data),
        "annex_v.6": (("; ".join(f"{s.reference} ({s.title}, applied {s.extent})" for s in system.standards_applied) + ".")
                      if system.standards_applied else None, "system.yaml `standards_applied`"),
        "annex_v.7": _notified_body(conformity, body),
        "annex_v.8": ((f"Issued at {declaration.place} on {declaration.date}, signed by {declaration.signatory}, "
                       f"{declaration.function}, for and on behalf of {declaration.on_behalf_of or provider.name}.")
                      if declaration else None, "system.yaml `conformity.declaration` (place, date, signatory, function)"),
    }
    return [DeclarationPoint(item.id, item.ref, item.title, statements[item.id][0],
                             statements[item.id][1] if statements[item.id][0] is None else None)
            for item in act.section("annex_v")]


def _identifier(project_id: str, system_id: str, version: str) -> str:
    """`project/system/version`, the project id left out where it is the system's own."""
    return "/".join(dict.fromkeys([project_id, system_id])) + f"/{version}"


def _data_protection(name: str, personal_data: list[str]) -> tuple[str | None, str | None]:
    if not personal_data:
        return (f"{name} does not process personal data; Regulations (EU) 2016/679 and (EU) 2018/1725 and "
                "Directive (EU) 2016/680 do not apply to it."), None
    return (f"{name} processes personal data (in: " + ", ".join(personal_data) + "). That processing complies with "
            "Regulations (EU) 2016/679 and (EU) 2018/1725 and Directive (EU) 2016/680."), None


def _notified_body(conformity: Conformity | None, body: NotifiedBody | None) -> tuple[str | None, str | None]:
    if conformity is None:
        return None, "system.yaml `conformity` (procedure, certificate)"
    if conformity.procedure == "annex-vi-internal-control":
        return "Conformity was assessed by internal control (Annex VI); no Notified Body was involved.", None
    if body is None or not conformity.certificate:
        return None, "system.yaml `classification.annex_i_product.notified_body` and `conformity.certificate`"
    described = f" {conformity.description}" if conformity.description else ""
    return (f"Notified Body {body.name}, number {body.number}.{described} Certificate: {conformity.certificate}.", None)
