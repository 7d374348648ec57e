"""Results from a Fairlearn MetricFrame exported as JSON, added to a model's results (a minimal edit; conflicts kept).

Accepted exports, from a MetricFrame `mf` whose metrics are named after the model's metric ids or functions
(`recall`, `recall_score`, `selection_rate`, …):

- `mf.by_group.to_json(orient="table")`: self-describing; the sensitive features are the table's primary key.
- `mf.by_group.to_json()` or `json.dumps(mf.by_group.to_dict())` (the default orient): `{metric: {group: value}}`,
  with `--attributes` naming the sensitive features in order (pandas writes a tuple group as "('female', '60+')").
  A single-metric frame's Series gives `{group: value}`: name the metric with `--metric`.
- An object `{"by_group": <one of the above>, "overall": mf.overall.to_dict(), "sensitive_features": [...]}`, which
  also carries the overall values.

A `count` column (`fairlearn.metrics.count`) gives each result its n. Results of the model's reference-group
metrics are derived from the imported values of their function (group ÷ or − reference group), as
`techfile evaluate` computes them. Groups whose values the model does not declare are reported, not imported.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from techfile.assess.metrics import reference_for, slice_label
from techfile.diagnostics import finding
from techfile.integrations import UnknownEntity
from techfile.loading import load_project
from techfile.project import Model
from techfile.sources.model_results import ResultsEditError, results_text

ALIASES = {"accuracy_score": "accuracy", "precision_score": "precision", "recall_score": "recall", "f1_score": "f1",
           "roc_auc_score": "auroc", "roc_auc": "auroc", "true_positive_rate": "recall", "true_negative_rate": "specificity",
           "sensitivity": "recall", "balanced_accuracy_score": None}
CLOSE = {"rel_tol": 1e-9, "abs_tol": 1e-12}


class FairlearnImportError(Exception):
    """The export cannot be imported; nothing was written."""

    def __init__(self, message: str, path: str = "", hint: str = "") -> None:
        self.diagnostic = finding("TF817", path or "-", 1, 1, message, hint or
                                  'Export `mf.by_group.to_json(orient="table")`, or name the sensitive features with --attributes.')
        super().__init__(message)


@dataclass
class FairlearnImport:
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


def read_metric_frame(text: str, attributes: list[str] | None, metric: str | None, shown: str) -> tuple[
        dict[str, dict[tuple[tuple[str, str], ...], float]], list[str]]:
    """metric name → {slice: value} from an export (the overall slice is `()`), and the sensitive features."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise FairlearnImportError(f"not JSON: {error}", shown) from None
    overall: dict[str, float] = {}
    if isinstance(data, dict) and "by_group" in data:
        attributes = attributes or data.get("sensitive_features") or data.get("attributes")
        raw_overall = data.get("overall")
        if isinstance(raw_overall, dict):
            overall = {str(k): v for k, v in raw_overall.items() if _number(v)}
        elif _number(raw_overall) and metric:
            overall = {metric: raw_overall}
        data = data["by_group"]
        if isinstance(data, str):
            data = json.loads(data)
    values: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    if isinstance(data, dict) and "schema" in data and "data" in data:
        keys = list(data["schema"].get("primaryKey") or [])
        attributes = attributes or keys
        if len(attributes) != len(keys):
            raise FairlearnImportError(f"--attributes names {len(attributes)} features; the table has {len(keys)} ({', '.join(keys)})",
                                       shown)
        for row in data["data"]:
            group = tuple((a, str(row[k])) for a, k in zip(attributes, keys, strict=True))
            for name, value in row.items():
                if name not in keys and _number(value):
                    values.setdefault(str(name), {})[group] = float(value)
    elif isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
        for name, groups in data.items():
            for group, value in groups.items():
                if _number(value):
                    values.setdefault(str(name), {})[_group(group, attributes, shown)] = float(value)
    elif isinstance(data, dict) and data:
        if not metric:
            raise FairlearnImportError("a single metric's by_group (a Series) does not name its metric", shown,
                                       "Name the metric with --metric, or export a MetricFrame with metrics={name: function}.")
        values[metric] = {_group(g, attributes, shown): float(v) for g, v in data.items() if _number(v)}
    else:
        raise FairlearnImportError("not a MetricFrame export: expected by_group as a table, a {metric: {group: value}} "
                                   "mapping or a {group: value} mapping", shown)
    for name, value in overall.items():
        values.setdefault(name, {})[()] = float(value)
    return values, list(attributes or [])


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _group(key: str, attributes: list[str] | None, shown: str) -> tuple[tuple[str, str], ...]:
    if not attributes:
        raise FairlearnImportError("the export does not name its sensitive features", shown,
                                   "Name them in order with --attributes (e.g. --attributes sex,age_band), or export "
                                   '`mf.by_group.to_json(orient="table")`.')
    parts: tuple[Any, ...] = (key,)
    if len(attributes) > 1:
        try:
            parsed = ast.literal_eval(key)
        except (ValueError, SyntaxError):
            parsed = None
        if not isinstance(parsed, tuple) or len(parsed) != len(attributes):
            raise FairlearnImportError(f"group {key!r} is not a tuple of {len(attributes)} values ({', '.join(attributes)})", shown)
        parts = parsed
    return tuple((a, str(v)) for a, v in zip(attributes, parts, strict=True))


def _metric_for(name: str, model: Model) -> list[str]:
    """The model's plain metrics a Fairlearn metric name stands for: by id, else by function."""
    by_id = [m.id for m in model.metrics if m.id == name and not m.comparison]
    if by_id:
        return by_id
    function = ALIASES.get(name, name)
    functions = {function, "recall" if function == "sensitivity" else function}
    return [m.id for m in model.metrics if not m.comparison and m.decision_threshold is None and m.function is not None
            and ALIASES.get(m.function, m.function) in functions]


def import_metric_frame(project_dir: str | Path, export: str | Path, model_id: str, dataset_id: str | None = None,
                        attributes: list[str] | None = None, metric: str | None = None, replace: bool = False) -> FairlearnImport:
    root, path = Path(project_dir), Path(export)
    shown = path.name
    loaded = load_project(root)
    models = {m.id: m for m in loaded.project.models}
    if model_id not in models:
        raise UnknownEntity("model", model_id, models)
    model = models[model_id]
    dataset = dataset_id or (model.evaluation_data[0] if len(model.evaluation_data) == 1 else None)
    if dataset is None or dataset not in model.evaluation_data:
        raise FairlearnImportError(f"name the evaluation dataset of model {model_id!r} the export is on with --dataset "
                                   f"({', '.join(model.evaluation_data) or 'none'})", shown)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FairlearnImportError(f"cannot read the export: {error}", shown) from None
    values, _ = read_metric_frame(text, attributes, metric, shown)
    declared = {g.attribute: g.values for g in model.factors.subgroups}
    report = FairlearnImport()
    counts = values.pop("count", {})
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    method = f"Fairlearn MetricFrame, imported from {shown} (sha256 {digest[:12]})"
    new: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, Any]] = {}
    by_function: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for name, groups in values.items():
        targets = _metric_for(name, model)
        function = ALIASES.get(name, name)
        by_function.setdefault("recall" if function == "sensitivity" else function, groups)
        if not targets:
            report.unmapped.append(f"metric {name!r}: no metric of model {model_id!r} has this id or function")
            continue
        for group, value in groups.items():
            problem = _undeclared(group, declared)
            if problem:
                report.unmapped.append(f"{name} ({slice_label(dict(group))}): {problem}")
                continue
            for target in targets:
                new[(target, group)] = _result(target, value, group, dataset, counts.get(group), method)
    for metric_ in model.metrics:  # reference-group metrics from the imported values of their function
        if not metric_.comparison or metric_.function is None:
            continue
        groups = by_function.get(ALIASES.get(metric_.function, metric_.function), {})
        for group, value in groups.items():
            reference = reference_for(metric_, dict(group))
            if reference is None or _undeclared(group, declared):
                continue
            base = groups.get(tuple((a, reference[a]) for a, _ in group))
            if base is None:
                continue
            derived = value - base if metric_.comparison == "difference" else (value / base if base else math.nan)
            if math.isfinite(derived):
                new[(metric_.id, group)] = _result(metric_.id, derived, group, dataset, counts.get(group), method)
    if not new:
        raise FairlearnImportError(f"no value of the export maps to a result of model {model_id!r}", shown,
                                   "Name the MetricFrame's metrics after the model's metric ids or functions.")
    existing = {(r.metric, tuple(sorted(r.slice.items())), r.dataset): (i, r) for i, r in enumerate(model.results)}
    appended, replaced = [], {}
    for (metric_id, group), result in new.items():
        label = f"{metric_id} ({slice_label(dict(group))}) on {dataset}"
        found = existing.get((metric_id, tuple(sorted(group)), dataset))
        if found is None:
            appended.append(result)
            report.added.append(f"{label}: {result['value']:g}")
        elif math.isclose(found[1].value, result["value"], **CLOSE):
            report.unchanged.append(f"{label}: {result['value']:g}")
        elif replace:
            replaced[found[0]] = result
            report.replaced.append(f"{label}: {found[1].value:g} → {result['value']:g}")
        else:
            report.conflicts.append(f"{label}: the export has {result['value']!r}, {found[1].location.path}:"
                                    f"{found[1].location.line} records {found[1].value!r}; kept the recorded value")
    if appended or replaced:
        model_path = root / model.location.path
        try:
            model_path.write_bytes(results_text(model_path, appended, replaced).encode("utf-8"))
        except ResultsEditError as error:
            raise FairlearnImportError(str(error), shown) from None
    return report


def _undeclared(group: tuple[tuple[str, str], ...], declared: dict[str, list[str]]) -> str | None:
    for attribute, value in group:
        if attribute not in declared:
            return f"{attribute!r} is not a declared subgroup attribute"
        if value not in declared[attribute]:
            return f"{value!r} is not a declared value of {attribute}"
    return None


def _result(metric_id: str, value: float, group: tuple[tuple[str, str], ...], dataset: str, count: float | None,
            method: str) -> dict[str, Any]:
    result: dict[str, Any] = {"metric": metric_id, "value": value}
    if group:
        result["slice"] = dict(group)
    result["dataset"] = dataset
    if count is not None and float(count).is_integer():
        result["n"] = int(count)
    result["method"] = method
    return result
