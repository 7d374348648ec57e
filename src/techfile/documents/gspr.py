"""The MDR documents: the GSPR checklist (Annex I, each requirement graded) and the index of the single technical
documentation (MDR Annexes II and III, with the place of each AI Act Annex IV point in it)."""

from __future__ import annotations

from typing import Any

from techfile.assess.gaps import requested_documents
from techfile.assess.grades import NOT_APPLICABLE, ItemGrade, assess
from techfile.documents.base import BuildInfo, Document, Missing, Table, table_text
from techfile.documents.common import compose_document, document_gaps, document_id, grade_row, link
from techfile.documents.render import Renderer
from techfile.frameworks.catalogue import load_catalogue
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.frameworks.registry import Framework, builtin_framework, pack_links
from techfile.project import CatalogueItem, GsprDecision, Project

GSPR_KIND = "gspr-checklist"
INDEX_KIND = "mdr-index"
SECTION = "MDR"
# Techfile's own documents, by kind, with the title a link to them shows.
DOCUMENT_TITLES = {"technical-file": "Technical documentation (AI Act Annex IV)", "instructions-for-use": "Instructions for use",
                   "declaration-of-conformity": "EU declaration of conformity", "gspr-checklist": "GSPR checklist",
                   "risk-register": "Risk register", "qms-manual": "QMS manual", "logbook": "Development logbook",
                   "traceability": "Traceability matrix"}


def _in_scope(project: Project) -> bool:
    assert project.settings is not None
    return "mdr" in project.settings.frameworks


def gspr_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    """The GSPR checklist: every Annex I requirement by chapter and section, decided, with the standards or solutions
    applied, the controls that claim it, its current evidence and its grade (nothing when `mdr` is not in scope: check
    reports the request, TF985)."""
    if not _in_scope(project):
        return []
    assessment = assess(project)
    grades = assessment.framework("mdr")
    assert grades is not None
    pack = grades.framework
    decisions: dict[str, GsprDecision] = {}
    for decision in project.gspr.decisions if project.gspr else []:
        decisions.setdefault(decision.requirement, decision)
    evidence = {e.id: e for e in project.evidence}
    chapters: list[dict[str, Any]] = []
    for item in grades.items:
        chapter, section = _place(pack, item.id)
        if not chapters or chapters[-1]["chapter"] is not chapter:
            chapters.append({"chapter": chapter, "groups": []})
        groups = chapters[-1]["groups"]
        if not groups or groups[-1]["heading"] is not section:
            groups.append({"heading": section, "number": _number(section.id) if section else "", "rows": []})
        groups[-1]["rows"].append(_gspr_row(item, decisions.get(item.id), evidence))
    applicable = grades.applicable
    context = {"checklist": project.gspr, "chapters": chapters, "summary": grades.summary, "assessment_date": assessment.date,
               "total": len(grades.items), "applicable": applicable, "excluded": len(grades.items) - applicable,
               "decided": sum(1 for i in grades.items if i.id in decisions)}
    title = "GSPR checklist (MDR Annex I)"
    document = compose_document(project, build, renderer, GSPR_KIND, SECTION, title, "gspr-checklist/gspr-checklist.md.j2",
                                context, document_gaps(project, GSPR_KIND),
                                sources=("gspr.yaml", "controls", "evidence", "system.yaml"))
    return [document.with_tables(_checklist_table(chapters))]


def _checklist_table(chapters: list[dict[str, Any]]) -> Table:
    """The checklist's rows as the Markdown shows them, one per requirement, for the spreadsheet edition."""
    headers = ("Chapter", "Section", "GSPR", "Requirement", "Applies", "Justification", "Standards and solutions", "Controls",
               "Evidence", "Grade", "Required")
    rows = []
    for chapter in chapters:
        for group in chapter["groups"]:
            section = f"{group['number']} {group['heading'].title}" if group["heading"] else "—"
            for r in group["rows"]:
                rows.append((chapter["chapter"].title, section, r["number"], r["title"],
                             *(table_text(v) for v in (r["applies"], r["justification"], r["means"], r["controls"],
                                                        r["evidence_cell"], r["grade"], r["required"]))))
    return Table("GSPR checklist", headers, tuple(rows))


def _place(pack: Framework, item_id: str) -> tuple[CatalogueItem | None, CatalogueItem | None]:
    """The chapter a requirement belongs to, and the numbered section heading right below that chapter (None for the
    requirements of Chapter I, which are not grouped): 10.4.1 belongs to Chapter II, Section 10."""
    chain = []
    current = pack.item(item_id)
    while current is not None and current.parent:
        current = pack.item(current.parent)
        if current is not None:
            chain.append(current)
    chapter = next((c for c in chain if c.kind == "chapter"), None)
    sections = [c for c in chain if c.kind == "section"]
    return chapter, (sections[-1] if sections else None)


def _number(item_id: str) -> str:
    """The number as the Regulation writes it: annex_i.17.2 → 17.2."""
    return item_id.split(".", 1)[1] if "." in item_id and not item_id.split(".", 1)[1].startswith("chapter") else ""


def _gspr_row(item: ItemGrade, decision: GsprDecision | None, evidence: dict[str, Any]) -> dict[str, Any]:
    row = grade_row(item)
    if decision is None:
        applies: object = Missing("no decision in gspr.yaml")
    else:
        applies = "yes" if decision.applicable else "no"
    means: list[str] = []
    if decision is not None and decision.applicable:
        means += decision.standards + decision.common_specifications
        if decision.solutions and decision.solutions.text.strip():
            means.append(decision.solutions.text)
    why = decision.justification if decision is not None and decision.justification else ""
    shown = [_evidence_label(evidence[e]) for e in item.evidence if e in evidence]
    if item.grade == NOT_APPLICABLE:
        evidence_cell = "—"
    else:
        evidence_cell = "; ".join(shown) or "none current"
    return dict(row, number=_number(item.id), applies=applies, justification=why or "—",
                means="; ".join(means) or "—", evidence_cell=evidence_cell)


def _evidence_label(record: Any) -> str:
    """An evidence record as the checklist cites it: its id and, where recorded, its document id and revision."""
    document = " ".join(p for p in (record.document_id, f"rev. {record.revision}" if record.revision else None) if p)
    return f"{record.id} ({document})" if document else record.id


# --- the index ------------------------------------------------------------------------------------------------------


def mdr_index_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    """The index of the single technical documentation: each AI Act Annex IV point with its place in MDR Annexes II and
    III (mappings of the mdr pack, each with its authority and source), and the MDR structure with what sits where."""
    if not _in_scope(project):
        return []
    pack = builtin_framework("mdr")
    act = eu_ai_act()
    assessment = assess(project)
    requested = requested_documents(project)
    places = _annex_iv_places(pack)
    documents = load_catalogue("mdr_documents")
    technical_file = _document_link(project, "technical-file", requested)
    points = []
    for item in act.section("annex_iv"):
        if any(child.parent == item.id for child in act.section("annex_iv")):
            continue  # points 1 and 2 are headings of their lettered points
        graded = assessment.grade("eu-ai-act", item.id)
        points.append({"item": item, "places": places.get(item.id, []),
                       "grade": grade_row(graded)["grade"] if graded else "—",
                       "where": technical_file or "—"})
    structure = []
    for section in (i for i in pack.items if i.kind == "documentation"):
        placed = [p["item"].ref for p in points if any(place["id"] == section.id for place in p["places"])]
        links = [link_ for kind in documents.get(section.id, []) if (link_ := _document_link(project, kind, requested))]
        structure.append({"section": section, "number": _td_number(section.id), "annex_iv": ", ".join(placed) or "—",
                          "documents": links})
    context = {"points": points, "structure": structure, "assessment_date": assessment.date,
               "eu_in_scope": assessment.framework("eu-ai-act") is not None}
    title = "Technical documentation index (MDR Annexes II and III, AI Act Annex IV)"
    document = compose_document(project, build, renderer, INDEX_KIND, SECTION, title, "mdr-index/mdr-index.md.j2", context,
                                document_gaps(project, INDEX_KIND))
    placements = tuple((p["item"].ref, p["item"].title, f"Annex {place['ref'].removeprefix('Annex ')} {place['title']}",
                        place["note"] or "—", f"{place['authority']} ({place['source']})", table_text(p["grade"]))
                       for p in points for place in p["places"])
    sections = tuple((f"Annex {s['number']}", s["section"].title, table_text(s["section"].summary), s["annex_iv"],
                      ", ".join(str(link_["title"]) for link_ in s["documents"]) or "—") for s in structure)
    return [document.with_tables(
        Table("Annex IV points", ("Annex IV point", "What it asks", "MDR section", "Where in it", "Basis", "Grade"), placements),
        Table("MDR structure", ("MDR section", "Title", "What it holds", "Annex IV points", "Documents"), sections))]


def _annex_iv_places(pack: Framework) -> dict[str, list[dict[str, str]]]:
    """Annex IV point → the MDR Annex II/III sections the pack places it in, with the mapping's basis."""
    found: dict[str, list[dict[str, str]]] = {}
    for link_ in pack_links("mdr"):
        if link_.from_framework == "eu-ai-act" and link_.from_item.startswith("annex_iv.") and link_.to_framework == "mdr":
            section = pack.item(link_.to_item)
            if section is None:
                continue
            found.setdefault(link_.from_item, []).append({
                "id": section.id, "ref": f"Annex {_td_number(section.id)}", "title": section.title,
                "note": link_.note.rstrip("."), "authority": link_.authority, "source": link_.source})
    return found


def _td_number(item_id: str) -> str:
    """annex_ii.1.1 → II 1.1; annex_iii.1.2 → III 1.2."""
    annex, _, number = item_id.partition(".")
    return f"{annex.removeprefix('annex_').upper()} {number}".strip()


def _document_link(project: Project, kind: str, requested: list[str]) -> dict[str, object] | None:
    if kind not in requested or kind not in DOCUMENT_TITLES:
        return None
    return link(document_id(project, kind), DOCUMENT_TITLES[kind])
