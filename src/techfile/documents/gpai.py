"""The documents of a general-purpose AI model's provider: the technical documentation (Annex XI, with Art. 53(1)(a) and
Art. 55(1)), the information for downstream providers (Annex XII, Art. 53(1)(b)), the copyright policy (Art. 53(1)(c))
and the public summary of training content in the sections of the AI Office template (Art. 53(1)(d)). Each point shows
the facts of gpai_model.yaml that fill it and its grade from the one assessment."""

from __future__ import annotations

import dataclasses
from typing import Any

from techfile.assess.classification import classify
from techfile.assess.completeness import fact_source, field_fact
from techfile.assess.grades import MISSING, NOT_APPLICABLE, ItemGrade, assess, summarise
from techfile.documents.base import BuildInfo, Document, Missing, Table, table_text
from techfile.documents.common import compose_document, document_gaps, entity_sources, grade_row
from techfile.documents.render import Renderer
from techfile.frameworks.catalogue import load_catalogue
from techfile.frameworks.gpai import TEMPLATE_NAME, point_ref, point_sources, under
from techfile.frameworks.registry import Framework, gpai_in_scope
from techfile.project import Project, Prose

SECTION = "GPAI model"
# Document kind → (title, the pack's points it shows, in this order).
DOCUMENTS = {
    "gpai-technical-documentation": ("Technical documentation (AI Act Annex XI)", ["annex_xi", "art_53.1.a", "art_55"]),
    "gpai-downstream-information": ("Information for downstream providers (AI Act Annex XII)", ["annex_xii", "art_53.1.b"]),
    "copyright-policy": ("Copyright policy (AI Act Art. 53(1)(c))", ["art_53.1.c"]),
    "training-content-summary": ("Public summary of training content (AI Act Art. 53(1)(d))", ["summary", "art_53.1.d"]),
}


def gpai_technical_documentation(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    return _documents(project, build, renderer, "gpai-technical-documentation")


def gpai_downstream_information(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    return _documents(project, build, renderer, "gpai-downstream-information")


def copyright_policy(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    return _documents(project, build, renderer, "copyright-policy")


def training_content_summary(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    return _documents(project, build, renderer, "training-content-summary")


def _documents(project: Project, build: BuildInfo, renderer: Renderer, kind: str) -> list[Document]:
    """One document of the pack (nothing when the project provides no general-purpose model: check reports the
    request, TF992)."""
    assert project.system is not None and project.settings is not None
    if not gpai_in_scope(project):
        return []
    assessment = assess(project)
    grades = assessment.framework("gpai")
    assert grades is not None
    subject, prefixes = DOCUMENTS[kind]
    shown = [i for p in prefixes for i in grades.items if under(i.id, [p])]
    groups = _groups(project, grades.framework, shown)
    facts = project.gpai_model
    outcome = classify(project.system).gpai
    name = facts.name if facts else project.system.name
    context = {
        "facts": facts,
        "model_name": name,
        "provider": project.settings.provider,
        "systemic_risk": (("with" if outcome.systemic_risk else "without") + f" systemic risk ({outcome.ref}: {outcome.reason})")
        if outcome else Missing("system.yaml `classification.gpai_model`"),
        "groups": groups,
        "grades": [grade_row(i) for i in shown],
        "summary": summarise(shown, subject.split(" (")[0]),
        "assessment_date": assessment.date,
        "template_name": TEMPLATE_NAME,
        "template_followed": facts.training_summary.template if facts and facts.training_summary else None,
        "kind": kind,
    }
    title = f"{subject}: {name}"
    sources = entity_sources(facts) if facts else ("gpai_model.yaml",)
    document = compose_document(project, build, renderer, kind, SECTION, title, "gpai/gpai.md.j2", context,
                                document_gaps(project, kind), sources=(*sources, "system.yaml"))
    rows = tuple((row["ref"], row["title"], *(table_text(row[k]) for k in ("grade", "required", "basis", "evidence")))
                 for row in context["grades"])
    return [document.with_tables(Table(subject.split(" (")[0], ("Point", "Title", "Grade", "Required", "Basis", "Evidence"), rows))]


def _groups(project: Project, pack: Framework, shown: list[ItemGrade]) -> list[dict[str, Any]]:
    """The points under their headings (the numbered point or section they belong to), in catalogue order."""
    groups: list[dict[str, Any]] = []
    for item in shown:
        entry = pack.item(item.id)
        parent = pack.item(entry.parent) if entry and entry.parent else None
        if not groups or groups[-1]["heading"] is not parent:
            groups.append({"heading": parent, "points": []})
        groups[-1]["points"].append(_point(project, pack, item, entry.summary if entry else None))
    return groups


def _point(project: Project, pack: Framework, item: ItemGrade, asks: str | None) -> dict[str, Any]:
    sources = point_sources(item.id)
    facts = [f for need in sources.get("needs", []) for f in _fact(project, need, required=True)]
    facts += [f for show in sources.get("shows", []) for f in _fact(project, show, required=False)]
    return {"item": item, "row": grade_row(item), "asks": asks or "", "facts": facts,
            "not_applicable": item.grade == NOT_APPLICABLE, "missing": item.grade == MISSING,
            "rests_on": "; ".join(_cited(pack, p) for p in sources.get("from", []))}


def _cited(pack: Framework, item_id: str) -> str:
    """A point or heading as the text names it: its reference, or the title of an annex or template."""
    found = pack.item(item_id)
    reference = point_ref(item_id)
    return reference if reference != item_id or found is None else found.title


def _fact(project: Project, fact: str, required: bool) -> list[dict[str, Any]]:
    """A fact as the rows a point shows: a label and its value (a section of several fields gives a row for each)."""
    label = _label(fact.rsplit(".", 1)[-1])
    value = field_fact(project, fact)
    if value in (None, "", [], {}):
        return [{"label": label, "value": Missing(fact_source(project, fact)), "prose": False}] if required else []
    if dataclasses.is_dataclass(value) and not isinstance(value, (type, Prose)):
        rows = []
        for name in (f.name for f in dataclasses.fields(value) if f.name not in ("field_locations", "location")):
            part = getattr(value, name)
            if part not in (None, "", [], {}):
                rows.append({"label": f"{label}: {_label(name).lower()}", "value": _value(part), "prose": isinstance(part, Prose)})
        return rows
    return [{"label": label, "value": _value(value), "prose": isinstance(value, Prose)}]


def _value(value: Any) -> Any:
    """A fact's value as the document shows it: prose as it is, numbers readable, lists and records joined."""
    if isinstance(value, Prose):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list):
        return "; ".join(str(_value(v)) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, (type, Prose)):
        parts = [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value) if f.name not in ("field_locations", "location")]
        shown = [str(_value(v).text if isinstance(v, Prose) else _value(v)) for _, v in parts if v not in (None, "", [])]
        return " — ".join(shown)
    return str(value)


def _label(name: str) -> str:
    labels: dict[str, str] = load_catalogue("gpai_sources").get("labels", {})
    return labels.get(name, name.replace("_", " ").capitalize())
