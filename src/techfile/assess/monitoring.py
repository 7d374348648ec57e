"""The post-market monitoring plan (Art. 72) and its reviews: which plan elements the sources give, each indicator's
threshold (its own, or the declared threshold of the model metric it follows), how each review's figures compare,
and when the next review is due by the plan's own frequency (judged on the assessment date, never the clock)."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from techfile.assess.completeness import fact_location
from techfile.frameworks.catalogue import load_catalogue
from techfile.project import Figure, Indicator, Location, Metric, Model, MonitoringReview, Project


@cache
def _data() -> dict[str, Any]:
    return load_catalogue("post_market")  # type: ignore[no-any-return]


@dataclass(frozen=True)
class PlanElement:
    """One element of the monitoring plan (frameworks/post_market.yaml) and whether monitoring.yaml gives it."""

    id: str
    title: str
    ref: str
    field: str
    present: bool
    location: Location


def plan_elements(project: Project) -> list[PlanElement]:
    plan = project.monitoring
    found = []
    for element in _data()["monitoring_plan_elements"]:
        value = getattr(plan, element["field"], None) if plan else None
        where = fact_location(project, f"monitoring.{element['field']}") or Location("monitoring.yaml")
        found.append(PlanElement(element["id"], element["title"], element["ref"], element["field"],
                                 value not in (None, "", []), where))
    return found


@dataclass(frozen=True)
class IndicatorRule:
    """An indicator with the threshold that applies to it and where that threshold comes from."""

    indicator: Indicator
    threshold: float | None
    higher_is_better: bool
    basis: str
    model: Model | None = None
    metric: Metric | None = None

    def passes(self, value: float) -> bool | None:
        if self.threshold is None:
            return None
        return value >= self.threshold if self.higher_is_better else value <= self.threshold


def indicator_rules(project: Project) -> dict[str, IndicatorRule]:
    """Indicator id → its rule: the plan's own threshold, else the declared threshold of the model metric it follows."""
    plan = project.monitoring
    if plan is None:
        return {}
    models = {m.id: m for m in project.models}
    rules = {}
    for indicator in plan.indicators:
        model = models.get(indicator.model or "")
        metric = next((m for m in model.metrics if m.id == indicator.metric), None) if model else None
        if indicator.threshold is not None:
            threshold, basis = indicator.threshold, "monitoring.yaml"
        elif metric is not None and metric.threshold is not None:
            threshold, basis = metric.threshold, f"declared for metric {metric.id} of model {model.id}"  # type: ignore[union-attr]
        else:
            threshold, basis = None, "no threshold: neither the plan nor the model metric declares one"
        direction = indicator.higher_is_better
        if direction is None:
            direction = metric.higher_is_better if metric is not None else True
        rules[indicator.id] = IndicatorRule(indicator, threshold, direction, basis, model, metric)
    return rules


@dataclass(frozen=True)
class FigureResult:
    review: MonitoringReview
    figure: Figure
    rule: IndicatorRule | None
    passed: bool | None


def figure_results(project: Project) -> list[FigureResult]:
    """Every figure of every review, with the rule of its indicator and whether it meets the threshold."""
    rules = indicator_rules(project)
    results = []
    for review in project.monitoring_reviews:
        for figure in review.figures:
            rule = rules.get(figure.indicator)
            results.append(FigureResult(review, figure, rule, rule.passes(figure.value) if rule else None))
    return results


def add_interval(day: dt.date, frequency: str) -> dt.date:
    """`day` plus one review interval (calendar months, the day clamped to the month's end)."""
    step = _data()["review_frequencies"][frequency]
    if "days" in step:
        return day + dt.timedelta(days=int(step["days"]))
    months = day.month - 1 + int(step["months"])
    year, month = day.year + months // 12, months % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class ReviewSchedule:
    """When the next review is due: one interval after the last review (or after the plan took effect)."""

    frequency: str
    since: str  # the date the interval runs from
    since_what: str  # "the last review (id)" or "the plan took effect"
    next_due: dt.date
    as_of: dt.date

    @property
    def overdue_days(self) -> int:
        return max(0, (self.as_of - self.next_due).days)

    @property
    def overdue(self) -> bool:
        return self.as_of > self.next_due


def review_schedule(project: Project, as_of: str) -> ReviewSchedule | None:
    """The review schedule on `as_of`, or None when the plan states no frequency (or there is no plan)."""
    plan = project.monitoring
    if plan is None or plan.review_frequency is None:
        return None
    reviews = sorted(project.monitoring_reviews, key=lambda r: (r.date, r.id))
    if reviews:
        since, what = reviews[-1].date, f"the last review ({reviews[-1].id})"
    else:
        since, what = plan.date, "the plan took effect (no review is recorded yet)"
    due = add_interval(dt.date.fromisoformat(since), plan.review_frequency)
    return ReviewSchedule(plan.review_frequency, since, what, due, dt.date.fromisoformat(as_of))
