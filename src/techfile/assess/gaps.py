"""Every gap of every document, found once: `check` reports each as a diagnostic and each document lists its own, in
the same words. A gap is a point a document must show that the sources leave missing, or an item below its gate."""

from __future__ import annotations

from dataclasses import dataclass

from techfile.assess.datasheets import datasheet_answers
from techfile.assess.grades import APPROVED, DESCRIBED, EVIDENCED, MISSING, NO_GATE, Assessment, ItemGrade, assess
from techfile.assess.metrics import judge_results
from techfile.diagnostics import Diagnostic, finding
from techfile.frameworks.gpai import GPAI_DOCUMENTS, point_document
from techfile.frameworks.registry import builtin_framework, gpai_in_scope
from techfile.project import Location, Project

# Every document kind techfile makes, in site order (documents/ has one builder for each).
DOCUMENT_KINDS = ("technical-file", "declaration-of-conformity", "instructions-for-use", "model-cards", "datasheets",
                  "risk-register", "statement-of-applicability", "soc2-readiness", "traceability", "qms-manual", "logbook",
                  "gspr-checklist", "mdr-index",
                  "fria", "pms-plan", "monitoring-report", "incident-reports", "eu-database-registration",
                  *GPAI_DOCUMENTS)
# The documents of the MDR pack: made when `mdr` is in scope (assess/gspr.py).
MDR_DOCUMENTS = ("gspr-checklist", "mdr-index")
# Document kind → the EU AI Act catalogue section whose points it shows.
DOCUMENT_SECTIONS = {"technical-file": "annex_iv", "instructions-for-use": "article_13_3",
                     "declaration-of-conformity": "annex_v", "qms-manual": "article_17_1", "fria": "article_27",
                     "eu-database-registration": "annex_viii"}
# The code of a missing point, for a high-risk system and otherwise (TF601/TF602 unless named here): a required FRIA
# and a required registration lack a point whatever the class.
SECTION_GAP_CODES = {"article_27": ("TF960", "TF960"), "annex_viii": ("TF955", "TF955")}
FRAMEWORK_DOCUMENTS = {"iso-42001": "statement-of-applicability", "nist-ai-rmf": "risk-register", "soc2": "soc2-readiness",
                       "mdr": "gspr-checklist", "iso-13485": "qms-manual", "iso-14971": "risk-register"}
_GPAI_NAMES = {"gpai-technical-documentation": "GPAI technical documentation (Annex XI)",
               "gpai-downstream-information": "information for downstream providers (Annex XII)",
               "copyright-policy": "copyright policy", "training-content-summary": "public summary of training content"}


@dataclass(frozen=True)
class Gap:
    """A point a document needs that the sources do not give (or give below the grade required), where to fix it,
    and the documents that show it."""

    point: str
    message: str
    hint: str
    code: str
    location: Location
    documents: tuple[tuple[str, str | None], ...]  # (document kind, entity id or None)
    subjects: tuple[str, ...] = ()  # the items and entities it is about (a broken one holds it back)

    def diagnostic(self) -> Diagnostic:
        where = self.location
        return finding(self.code, where.path, where.line, where.col, self.message, self.hint)

    def shown_in(self, kind: str, entity_id: str | None = None) -> bool:
        return (kind, entity_id) in self.documents


def requested_documents(project: Project) -> list[str]:
    """The document kinds to build: those techfile.yaml names, else those the classification requires (all, outside
    the EU AI Act)."""
    from techfile.assess.classification import classify

    assert project.settings is not None and project.system is not None
    from techfile.assess.post_market import EU_ONLY_DOCUMENTS, post_market_documents

    if project.settings.outputs.documents:
        return list(project.settings.outputs.documents)
    mdr = list(MDR_DOCUMENTS) if "mdr" in project.settings.frameworks else []
    packs = mdr + (list(GPAI_DOCUMENTS) if gpai_in_scope(project) else [])
    if "eu-ai-act" in project.settings.frameworks:
        return classify(project.system).required_documents + post_market_documents(project) + packs
    return [kind for kind in DOCUMENT_KINDS
            if kind not in EU_ONLY_DOCUMENTS and kind not in MDR_DOCUMENTS and kind not in GPAI_DOCUMENTS] + packs


_GAPS: list[tuple[Project, Assessment, tuple[str, ...], list[Gap]]] = []


def project_gaps(project: Project, requested: list[str], assessment: Assessment | None = None) -> list[Gap]:
    """The gaps of the documents in `requested` (document kinds), in a stable order; found once per assessment."""
    assessment = assessment or assess(project)
    for known, known_assessment, known_requested, gaps in _GAPS:
        if known is project and known_assessment is assessment and known_requested == tuple(requested):
            return gaps
    gaps = _find_gaps(project, requested, assessment)
    _GAPS.append((project, assessment, tuple(requested), gaps))
    del _GAPS[:-8]
    return gaps


def _find_gaps(project: Project, requested: list[str], assessment: Assessment) -> list[Gap]:
    from techfile.assess.post_market import post_market_gaps

    assert project.settings is not None and project.system is not None
    high_risk = _high_risk(project)
    gaps: list[Gap] = []
    fallback = project.system.location
    for kind, section in DOCUMENT_SECTIONS.items():
        if kind not in requested or "eu-ai-act" not in project.settings.frameworks and kind != "qms-manual":
            continue
        for item in assessment.section(section):
            if _is_heading(item, assessment) or not item.applicable:
                continue
            if item.grade == MISSING:
                code = SECTION_GAP_CODES.get(section, ("TF601", "TF602"))[0 if high_risk else 1]
                gaps.append(Gap(f"{item.ref}: {item.title}", f"{item.ref} is missing from the {_DOCUMENT_NAMES[kind]}: "
                                f"{item.reason}", f"{item.ref}: {item.title}. Or declare it in system.yaml `not_applicable` "
                                "with a justification.", code, item.location or fallback, _documents(kind, item, requested),
                                _subjects(item)))
            elif item.below_gate:
                gaps.append(_gate_gap(item, fallback, _documents(kind, item, requested)))
    if "qms-manual" in requested and not project.procedures:
        gaps.append(Gap("QMS procedures", "the QMS manual has no procedures", "Add procedures under qms/ (qms/*.yaml).",
                        "TF923", project.settings.location, (("qms-manual", None),)))
    for grades in assessment.frameworks:
        if grades.framework.id == "eu-ai-act":
            items = [i for i in grades.items if i.section == "requirements"]
        else:
            items = list(grades.items)
        if grades.framework.id == "gpai":  # a missing point is the gap of its document (TF991), not a gate's
            items = [i for i in items if i.grade != MISSING]
        for item in items:
            if item.below_gate and not _is_heading(item, assessment):
                kinds = [k for k in ("traceability", FRAMEWORK_DOCUMENTS.get(grades.framework.id)) if k in requested]
                gaps.append(_gate_gap(item, project.settings.location, tuple((k, None) for k in kinds)))
    gaps += _soa_gaps(project, requested)
    gaps += gspr_gaps(project, requested)
    gaps += gpai_gaps(project, requested, assessment)
    gaps += _entity_gaps(project, requested, high_risk)
    gaps += post_market_gaps(project, requested, assessment)
    return gaps


def _high_risk(project: Project) -> bool:
    from techfile.assess.classification import classify

    assert project.settings is not None and project.system is not None
    return "eu-ai-act" in project.settings.frameworks and classify(project.system).high_risk


_DOCUMENT_NAMES = {"technical-file": "technical file", "instructions-for-use": "instructions for use",
                   "declaration-of-conformity": "declaration of conformity", "qms-manual": "QMS manual",
                   "fria": "fundamental rights impact assessment", "eu-database-registration": "registration data sheet"}


def _documents(kind: str, item: ItemGrade, requested: list[str]) -> tuple[tuple[str, str | None], ...]:
    found = [(kind, None)]
    if "traceability" in requested:
        found.append(("traceability", None))
    return tuple(found)


def _is_heading(item: ItemGrade, assessment: Assessment) -> bool:
    """A parent graded from its points: its points carry the gaps."""
    grades = assessment.framework(item.framework)
    return bool(grades) and any(i.parent == item.id or i.id.startswith(f"{item.id}.") for i in grades.items if i is not item)


def _gate_gap(item: ItemGrade, fallback: Location, documents: tuple[tuple[str, str | None], ...]) -> Gap:
    if item.grade == MISSING:
        message = f"{item.framework} {item.label} is missing ({item.reason}); it must be {item.gate}"
        hint = "Describe how it is met (a control that claims it), or record why it does not apply."
    else:
        message = f"{item.framework} {item.label} is {item.grade} ({item.reason}); it must be {item.gate}"
        hint = ("Attach current evidence (file with matching sha256, within `valid_until`) to a working control that claims it"
                if item.gate != APPROVED else "Record the approval on its evidence (`approved_by`, `approved_on`)")
        hint += ", or change the gate in techfile.yaml `gates`."
    return Gap(item.label, message, hint, "TF920", item.location or fallback, documents, _subjects(item))


def _subjects(item: ItemGrade) -> tuple[str, ...]:
    return (item.id, *item.controls, *item.procedures, *item.evidence)


def _soa_gaps(project: Project, requested: list[str]) -> list[Gap]:
    """A Statement of Applicability decides every Annex A control, each with its justification."""
    assert project.settings is not None
    if "iso-42001" not in project.settings.frameworks:
        return []
    kinds = tuple((k, None) for k in ("statement-of-applicability",) if k in requested)
    controls = builtin_framework("iso-42001").assessable_items()
    if project.soa is None:
        return [Gap("Statement of Applicability", "ISO/IEC 42001 is in scope but the project has no soa.yaml",
                    f"Create soa.yaml with a decision for each of the {len(controls)} Annex A controls.", "TF901",
                    Location("soa.yaml"), kinds)]
    decided = {d.control for d in project.soa.decisions}
    gaps = [Gap(f"{c.id} {c.title}", f"Annex A control {c.id} ({c.title}) is missing from the Statement of Applicability",
                "Add a decision: applicable or not, with the justification.", "TF901", project.soa.location, kinds,
                (c.id,))
            for c in controls if c.id not in decided]
    for decision in project.soa.decisions:
        if not (decision.justification or "").strip():
            verb = "included" if decision.applicable else "excluded"
            gaps.append(Gap(f"{decision.control}: justification", f"Annex A control {decision.control} is {verb} without a justification",
                            "Say why the control is needed (or not), e.g. with the risk or requirement behind it.", "TF902",
                            decision.location, kinds, (decision.control,)))
    return gaps


def gspr_gaps(project: Project, requested: list[str]) -> list[Gap]:
    """The GSPR checklist decides every MDR Annex I requirement; one it excludes says why."""
    assert project.settings is not None
    if "mdr" not in project.settings.frameworks:
        return []
    kinds = tuple((k, None) for k in ("gspr-checklist",) if k in requested)
    requirements = builtin_framework("mdr").assessable_items()
    if project.gspr is None:
        return [Gap("GSPR checklist", "MDR is in scope but the project has no gspr.yaml (GSPR checklist)",
                    f"Create gspr.yaml with a decision for each of the {len(requirements)} Annex I requirements.", "TF980",
                    Location("gspr.yaml"), kinds)]
    decided = {d.requirement for d in project.gspr.decisions}
    gaps = [Gap(f"{r.id} {r.title}", f"MDR {r.id} ({r.title}) is not decided in the GSPR checklist",
                "Add a decision: applicable or not, with the standards or solutions applied, or the justification.",
                "TF981", project.gspr.location, kinds, (r.id,))
            for r in requirements if r.id not in decided]
    for decision in project.gspr.decisions:
        if not decision.applicable and not (decision.justification or "").strip():
            gaps.append(Gap(f"{decision.requirement}: justification",
                            f"MDR {decision.requirement} is excluded from the GSPR checklist without a justification",
                            "Say why the requirement does not apply to the device.", "TF982", decision.location, kinds,
                            (decision.requirement,)))
    return gaps


def gpai_gaps(project: Project, requested: list[str], assessment: Assessment) -> list[Gap]:
    """A general-purpose model's provider keeps gpai_model.yaml (TF990); each point of its documents that the sources
    leave missing is a gap of the document that shows it (TF991)."""
    assert project.settings is not None
    grades = assessment.framework("gpai")
    if grades is None:
        return []
    gaps = []
    if project.gpai_model is None:
        gaps.append(Gap("gpai_model.yaml", "the project provides a general-purpose AI model but has no gpai_model.yaml",
                        "Create gpai_model.yaml (schema gpai_model.schema.json) with the facts of Annex XI and XII, the "
                        "copyright policy and the training-content summary.", "TF990", Location("gpai_model.yaml"),
                        tuple((k, None) for k in GPAI_DOCUMENTS if k in requested)))
    for item in grades.items:
        if item.grade != MISSING:
            continue
        kind = point_document(item.id)
        shown = tuple((k, None) for k in (kind, "traceability") if k in requested)
        name = _GPAI_NAMES.get(kind or "", "GPAI documentation")
        gaps.append(Gap(f"{item.ref}: {item.title}", f"{item.ref} ({item.title}) is missing from the {name}: {item.reason}",
                        f"{item.ref}: {item.title}. Or declare it in system.yaml `not_applicable` (framework gpai) with a "
                        "justification.", "TF991", item.location or project.settings.location, shown, _subjects(item)))
    return gaps


def _entity_gaps(project: Project, requested: list[str], high_risk: bool) -> list[Gap]:
    """Facts that model cards, datasheets, the risk register and the logbook need."""
    gaps: list[Gap] = []
    assert project.settings is not None
    if "model-cards" in requested:
        for model in project.models:
            where, doc = model.location, (("model-card", model.id),)
            if not model.license:
                gaps.append(Gap("Model details: licence", f"model {model.id!r}: the model card has no licence",
                                "Add `license` (an SPDX id or \"proprietary\").", "TF923", where, doc, (model.id,)))
            if model.compute is None:
                gaps.append(Gap("Model details: compute and energy", f"model {model.id!r}: the model card has no compute and energy figures",
                                "Add `compute` (hardware, training hours, energy, emissions).", "TF923", where, doc, (model.id,)))
            if not any(v.scope != "overall" for v in judge_results(model)):
                gaps.append(Gap("Quantitative analyses: disaggregated results",
                                f"model {model.id!r}: the model card has no results per subgroup",
                                "Report `results` with a `slice` for each declared subgroup.", "TF923", where, doc, (model.id,)))
    if "datasheets" in requested:
        trained_on = {d for m in project.models for d in m.training_data}
        for dataset in project.datasets:
            code = "TF803" if high_risk and dataset.id in trained_on else "TF804"
            for answer in datasheet_answers(dataset):
                if answer.answer is None:
                    gaps.append(Gap(f"{answer.section}: {answer.question}",
                                    f"dataset {dataset.id!r}: datasheet question unanswered: {answer.section}: {answer.question}",
                                    f"Answer it in `{answer.field}`.", code, dataset.location, (("datasheet", dataset.id),),
                                    (dataset.id,)))
    if "risk-register" in requested and not project.risks:
        gaps.append(Gap("Risks", "the risk register has no risks", "Add risks under risks/ (risks/*.yaml).", "TF923",
                        project.settings.location, (("risk-register", None),)))
    if "logbook" in requested and not project.logbook:
        gaps.append(Gap("Training and evaluation runs", "the development logbook has no entries",
                        "Add logbook entries under logbook/ (`techfile logbook append`).", "TF923", project.settings.location,
                        (("logbook", None),)))
    return gaps


def approval_findings(assessment: Assessment) -> list[Diagnostic]:
    """With `--strict`: every described or evidenced item under a gate whose evidence carries no approval (TF921)."""
    findings = []
    for grades in assessment.frameworks:
        for item in grades.items:
            if item.grade in (DESCRIBED, EVIDENCED) and item.gate != NO_GATE and not _is_heading(item, assessment):
                where = item.location or Location("techfile.yaml")
                findings.append(finding("TF921", where.path, where.line, where.col,
                                        f"{item.framework} {item.label} is {item.grade}, not approved",
                                        "Record who approved its evidence, in what role and when (`approved_by`, `approved_on`)."))
    return findings
