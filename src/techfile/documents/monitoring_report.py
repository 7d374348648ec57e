"""The post-market monitoring report: every review under the plan, each indicator's figures against its threshold,
the actions decided and whether the next review is due or overdue (Art. 72)."""

from __future__ import annotations

from techfile.assess.gaps import requested_documents
from techfile.assess.grades import assess
from techfile.assess.monitoring import figure_results, indicator_rules, review_schedule
from techfile.documents.base import BuildInfo, Document
from techfile.documents.common import compose_document, document_gaps, document_id, link
from techfile.documents.render import Renderer
from techfile.project import Project

KIND = "monitoring-report"
SECTION = "After the market"


def monitoring_report_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    assert project.system is not None
    assessment = assess(project)
    built = requested_documents(project)
    results = figure_results(project)
    rules = indicator_rules(project)
    reviews = sorted(project.monitoring_reviews, key=lambda r: (r.date, r.id), reverse=True)
    context = {
        "system": project.system,
        "plan": project.monitoring,
        "reviews": [{"review": r, "results": [x for x in results if x.review is r],
                     "breaches": sum(x.passed is False for x in results if x.review is r),
                     "open_actions": sum(a.status == "open" for a in r.actions)} for r in reviews],
        "by_indicator": [{"rule": rule, "results": sorted((x for x in results if x.figure.indicator == key),
                                                          key=lambda x: x.review.date)}
                         for key, rule in rules.items()],
        "schedule": review_schedule(project, assessment.date),
        "assessment_date": assessment.date,
        "plan_link": link(document_id(project, "pms-plan"), "Post-market monitoring plan") if "pms-plan" in built else None,
    }
    title = f"Post-market monitoring report: {project.system.name}"
    return [compose_document(project, build, renderer, KIND, SECTION, title, "monitoring-report/monitoring-report.md.j2",
                             context, document_gaps(project, KIND), sources=("monitoring", "monitoring.yaml"))]
