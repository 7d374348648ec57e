"""`techfile evaluate`: compute a model's declared metrics from a predictions file, write them into the model's
results with their provenance, record the run in the logbook, and judge them as the CI gate.

Nothing is written unless everything can be: the results are a minimal edit of the model file (conflicts are
reported and kept unless `replace`), the logbook entry is chained to the last one and checked against its
schema first, and a second run on the same file changes nothing. The verdicts come from assess/metrics.py.
"""

from __future__ import annotations

import math
import os
import platform
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from techfile import __version__
from techfile.assess.logbook import LOGBOOK_FOLDER, entry_sha256
from techfile.assess.metrics import ResultVerdict, gate_passes, judge, slice_label
from techfile.diagnostics import Diagnostic, finding
from techfile.evaluate.bootstrap import BootstrapSettings, Interval, intervals, target_key, target_value
from techfile.evaluate.compute import point_values, strata_of
from techfile.evaluate.plan import Plan, SliceKey, Target, evaluation_plan, slice_key
from techfile.evaluate.predictions import PredictionsError, read_predictions
from techfile.integrations import MissingExtra, UnknownEntity
from techfile.loading import load_project
from techfile.project import Location, MetricResult, Model, Project
from techfile.sources.logbook_entries import entry_modeline, entry_problems, next_entry_id
from techfile.sources.model_results import ResultsEditError, results_text, with_list_item
from techfile.sources.writer import source_yaml

CLOSE = {"rel_tol": 1e-9, "abs_tol": 1e-12}
PARALLEL_ROWS = 200_000  # below this, starting worker processes costs more than it saves
MAX_JOBS = 8
# Findings about the results themselves (including a CI that excludes its value, TF930): an evaluation is how they
# get fixed, so they do not block it.
RESULT_FINDINGS = frozenset({"TF801", "TF802", "TF805", "TF806", "TF810", "TF930"})


class EvaluationError(Exception):
    """The evaluation cannot run or cannot be written; nothing was written. `diagnostics` locate the problem."""

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None) -> None:
        self.diagnostics = diagnostics or []
        super().__init__(message)


@dataclass(frozen=True)
class EvaluatedResult:
    """One computed result, what happened to it in the model file, and its verdict."""

    result: dict[str, Any]  # as written (or as it would be)
    verdict: ResultVerdict
    action: str  # "added", "replaced", "unchanged", "conflict", "not written"
    note: str = ""  # a conflict's recorded value, why there is no CI


@dataclass
class Evaluation:
    """What `techfile evaluate` computed, wrote and decided."""

    model: str
    dataset: str
    predictions: str
    predictions_sha256: str
    rows: int
    method: str
    results: list[EvaluatedResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # results that could not be computed, and why
    entry_id: str | None = None
    entry_written: bool = False
    model_written: bool = False
    evidence_id: str | None = None

    @property
    def passed(self) -> bool:
        return gate_passes([r.verdict for r in self.results])

    @property
    def conflicts(self) -> list[EvaluatedResult]:
        return [r for r in self.results if r.action == "conflict"]


def evaluate_model(project_dir: str | Path, model_id: str, predictions_file: str | Path, dataset_id: str | None = None, *,
                   replace_conflicts: bool = False, write: bool = True, keep_predictions: bool = False,
                   performed_by: str | None = None, code_version: str | None = None, jobs: int | None = None) -> Evaluation:
    """Evaluate `model_id` on `predictions_file` and (unless `write` is False) record the results and the run.
    `jobs` processes share the work on large files (default: the CPU count)."""
    root = Path(project_dir)
    loaded = load_project(root)
    project = loaded.project
    model = _model(project, model_id, loaded.errors)
    dataset = _dataset(model, dataset_id)
    path = Path(predictions_file)
    plan = evaluation_plan(model)
    assert model.evaluation is not None
    settings = model.evaluation
    try:
        import fairlearn  # noqa: F401
        import numpy  # noqa: F401
        import pandas  # noqa: F401
        import scipy  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError:
        raise MissingExtra("evaluate") from None
    shown = _display(root, path)
    needs_unit = any(s.function.name == "calibration_error" for s in plan.metrics)
    try:
        predictions = read_predictions(path, model, shown, need_score_in_unit=needs_unit)
    except PredictionsError as error:
        raise EvaluationError(f"cannot evaluate {shown}", error.diagnostics) from None
    started = _now()
    strata = strata_of(predictions, plan)
    boot = BootstrapSettings(settings.bootstrap.resamples, settings.bootstrap.seed, settings.bootstrap.confidence,
                             settings.bootstrap.score_bins, settings.calibration_bins)
    with _workers(jobs, predictions.rows) as pool:
        point = point_values(predictions, plan, strata, settings.calibration_bins, pool)
        cis, exact_levels = intervals(predictions, plan, strata, point, boot, pool)
    method = _method(boot, plan, exact_levels)
    evaluation = Evaluation(model.id, dataset, shown, predictions.sha256, predictions.rows, method)

    recorded = _recorded_entry(project, model, predictions.sha256, boot)
    entry_id = recorded or next_entry_id(project, f"eval-{model.id[:40]}-{predictions.sha256[:8]}")
    computed = _computed(plan, point, cis, dataset, predictions.sha256, method, entry_id, evaluation.skipped)
    existing = {(r.metric, slice_key(r.slice), r.dataset): (index, r) for index, r in enumerate(model.results)}
    appended: list[dict[str, Any]] = []
    replaced: dict[int, dict[str, Any]] = {}
    actions: list[tuple[dict[str, Any], str, str]] = []
    for result in computed:
        found = existing.get((result["metric"], slice_key(result.get("slice", {})), dataset))
        if found is None:
            appended.append(result)
            actions.append((result, "added", ""))
        elif _same(found[1], result):
            actions.append((result, "unchanged", ""))
        elif replace_conflicts:
            replaced[found[0]] = result
            actions.append((result, "replaced", f"was {_recorded(found[1])}"))
        else:
            actions.append((result, "conflict", f"{found[1].location.path}:{found[1].location.line} records {_recorded(found[1])}"))
    changes = bool(appended or replaced)
    if write and (changes or recorded is None):
        model_path = root / model.location.path
        evidence = _evidence(project, model, path, predictions.sha256, performed_by) if keep_predictions else None
        try:
            model_text = results_text(model_path, appended, replaced) if changes else None
            if evidence is not None and evidence[0] not in model.evidence:
                model_text = with_list_item(model_text or model_path.read_text(encoding="utf-8"), "evidence", evidence[0])
        except ResultsEditError as error:
            raise EvaluationError(str(error)) from None
        if recorded is None:
            entry = _entry(project, model, entry_id, dataset, predictions, computed, boot, plan, method, started,
                           performed_by, code_version, evidence[0] if evidence else None, shown)
            _write_entry(root, project, entry_id, entry)
            evaluation.entry_written = True
        if evidence is not None:
            _write_evidence(root, *evidence)
            evaluation.evidence_id = evidence[0]
        if model_text is not None:
            model_path.write_bytes(model_text.encode("utf-8"))
            evaluation.model_written = True
    evaluation.entry_id = entry_id if (recorded or evaluation.entry_written) else None
    evaluation.results = _judged(root, model, actions, write, cis, plan)
    return evaluation


@contextmanager
def _workers(jobs: int | None, rows: int) -> Iterator[Any]:
    """A pool of processes for a large file (spawned: a forked child of a threaded process can deadlock), else None."""
    count = min(jobs or os.cpu_count() or 1, MAX_JOBS)
    if count < 2 or rows < PARALLEL_ROWS:
        yield None
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def _model(project: Project, model_id: str, errors: list[Diagnostic]) -> Model:
    models = {m.id: m for m in project.models}
    blocking = [e for e in errors if e.code not in RESULT_FINDINGS and (
        e.path.startswith(f"{LOGBOOK_FOLDER}/") or e.path in (f"models/{model_id}.yaml", f"models/{model_id}.yml"))]
    if blocking:
        raise EvaluationError("fix these errors first (`techfile check`); nothing was written", blocking)
    if model_id not in models:
        raise UnknownEntity("model", model_id, models)
    model = models[model_id]
    where = model.location
    if model.evaluation is None or not any(m.function for m in model.metrics):
        what = "no `evaluation` section" if model.evaluation is None else "no metric with a `function`"
        raise EvaluationError(f"model {model_id!r} cannot be evaluated", [finding(
            "TF812", where.path, where.line, where.col,
            f"model {model_id!r} has {what}, so techfile does not know what to compute from the predictions",
            "Add `evaluation: {label: <column>, prediction: <column>, score: <column>}` and a `function` to each metric "
            "to compute (see the README, `techfile evaluate`).")])
    return model


def _dataset(model: Model, dataset_id: str | None) -> str:
    where = model.location
    if dataset_id is None and len(model.evaluation_data) == 1:
        return model.evaluation_data[0]
    if dataset_id is not None and dataset_id in model.evaluation_data:
        return dataset_id
    known = ", ".join(model.evaluation_data) or "none"
    message = (f"model {model.id!r} has several evaluation datasets ({known}): name the one the predictions are on"
               if dataset_id is None else f"{dataset_id!r} is not an evaluation dataset of model {model.id!r} ({known})")
    raise EvaluationError(message, [finding("TF816", where.path, where.line, where.col, message,
                                            "Name one of the model's `evaluation_data` with --dataset.")])


def _display(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def _now() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _method(settings: BootstrapSettings, plan: Plan, exact_levels: bool) -> str:
    text = "techfile evaluate, Fairlearn MetricFrame over scikit-learn"
    if settings.resamples <= 0:
        return text + "; no CI"
    strata = " × ".join(plan.attributes) or "none"
    text += (f"; {settings.confidence:.0%} CI: percentile, stratified bootstrap ({strata}), {settings.resamples} resamples, "
             f"seed {settings.seed}")
    if not exact_levels:
        text += f"; score in {settings.score_bins} quantile bins for resampling"
    return text


def _computed(plan: Plan, point: Any, cis: dict[tuple[str, SliceKey], Interval], dataset: str, sha256: str, method: str,
              entry_id: str, skipped: list[str]) -> list[dict[str, Any]]:
    """The results to write, in the plan's order, with provenance; a result that cannot be computed is skipped."""
    results = []
    for target in plan.targets:
        label = f"{target.spec.metric.id} ({target.slice.label})"
        n = point.n[target.slice.key]
        if n == 0:
            skipped.append(f"{label}: no rows of this slice in the file")
            continue
        if target.reference is not None and point.n[target.reference.key] == 0:
            skipped.append(f"{label}: no rows of the reference group {target.reference.label} in the file")
            continue
        value = target_value(point.values, target)
        if not math.isfinite(value):
            skipped.append(f"{label}: undefined on these rows ({_undefined_why(target)})")
            continue
        result: dict[str, Any] = {"metric": target.spec.metric.id, "value": value}
        interval = cis[target_key(target)]
        if interval.low is not None and interval.high is not None:
            result["ci"] = [interval.low, interval.high]
        if target.slice.slice:
            result["slice"] = dict(target.slice.slice)
        result.update({"dataset": dataset, "n": n, "method": method, "predictions_sha256": sha256, "logbook": entry_id})
        results.append(result)
    return results


def _undefined_why(target: Target) -> str:
    if target.reference is not None:
        return f"the reference group's {target.spec.function.name} is zero or undefined"
    return {"auroc": "it needs both classes", "precision": "nothing is predicted positive",
            "calibration_error": "no rows"}.get(target.spec.function.name, "a class is missing")


def _same(recorded: MetricResult, result: dict[str, Any]) -> bool:
    if not math.isclose(recorded.value, result["value"], **CLOSE) or recorded.n != result["n"]:
        return False
    ci = result.get("ci")
    if ci is None or len(recorded.ci) != 2:
        return ci is None and not recorded.ci
    return all(math.isclose(a, b, **CLOSE) for a, b in zip(recorded.ci, ci, strict=True))


def _recorded(result: MetricResult) -> str:
    parts = [f"{result.value:g}"]
    if len(result.ci) == 2:
        parts.append(f"CI [{result.ci[0]:g}, {result.ci[1]:g}]")
    if result.n is not None:
        parts.append(f"n {result.n}")
    return ", ".join(parts)


def _recorded_entry(project: Project, model: Model, sha256: str, settings: BootstrapSettings) -> str | None:
    """The logbook entry that already records this evaluation (same model, file and bootstrap), if any."""
    for entry in project.logbook:
        h = entry.hyperparameters
        if (entry.model == model.id and entry.run_type == "evaluation" and h.get("predictions_sha256") == sha256
                and h.get("bootstrap_resamples") == settings.resamples and h.get("bootstrap_seed") == settings.seed
                and h.get("confidence_level") == settings.confidence):
            return entry.id
    return None


def _entry(project: Project, model: Model, entry_id: str, dataset_id: str, predictions: Any, computed: list[dict[str, Any]],
           settings: BootstrapSettings, plan: Plan, method: str, started: str, performed_by: str | None,
           code_version: str | None, evidence_id: str | None, shown: str) -> dict[str, Any]:
    last = project.logbook[-1] if project.logbook else None
    dataset = next((d for d in project.datasets if d.id == dataset_id), None)
    where = model.location
    if dataset is None or not dataset.sha256:
        path = dataset.location.path if dataset else "datasets/"
        message = f"dataset {dataset_id!r} records no sha256, and the logbook pins every dataset of a run by its content hash"
        raise EvaluationError(message, [finding("TF816", path, 1, 1, message,
                                                f"Record the dataset's sha256 in {path} (`sha256sum` of its released content).")])
    entry: dict[str, Any] = {
        "id": entry_id, "sequence": last.sequence + 1 if last else 1, "run_type": "evaluation", "model": model.id,
        "started": started, "ended": _now(), "performed_by": performed_by or _who(project.root),
        "datasets": [{"dataset": dataset.id, "sha256": dataset.sha256}],
        "code_version": _code_version(project.root, code_version, where),
        "hyperparameters": {
            "predictions_file": shown, "predictions_sha256": predictions.sha256, "predictions_rows": predictions.rows,
            "bootstrap_resamples": settings.resamples, "bootstrap_seed": settings.seed, "confidence_level": settings.confidence,
            "bootstrap_strata": " x ".join(plan.attributes) or "none", "score_bins": settings.score_bins,
            "calibration_bins": settings.calibration_bins,
        },
        "metrics": {_logbook_name(r): r["value"] for r in computed},
        "environment": {"os": f"{platform.system()} {platform.release()}", "packages": _packages()},
        "notes": _notes(plan, method, shown, predictions.sha256, evidence_id),
    }
    if last is not None:
        entry["previous_entry_sha256"] = entry_sha256(project, last)
    problems = entry_problems(entry)
    if problems:
        raise EvaluationError("the logbook entry for this evaluation does not fit the logbook schema; nothing was written:\n"
                              + "\n".join(f"  - {p}" for p in problems))
    return entry


def _logbook_name(result: dict[str, Any]) -> str:
    """`sensitivity`, `sensitivity/sex=female`, `sensitivity/sex=female&age_band=75+` (the logbook's convention)."""
    pairs = "&".join(f"{k}={v}" for k, v in sorted(result.get("slice", {}).items()))
    return f"{result['metric']}/{pairs}" if pairs else result["metric"]


def _notes(plan: Plan, method: str, shown: str, sha256: str, evidence_id: str | None) -> str:
    lines = [f"Evaluated with techfile evaluate {__version__} on {shown} (sha256 {sha256})"
             + (f", kept as evidence {evidence_id}." if evidence_id else ", hashed only (the file is not kept in the project)."),
             "", f"Method: {method}.", "", "Metric definitions:"]
    for spec in plan.metrics:
        metric = spec.metric
        comparison = (f"; {metric.comparison} to the reference group {slice_label(metric.reference_group)}"
                      if metric.comparison else "")
        lines.append(f"- {metric.id}: {spec.function.name} = {spec.function.definition}, by {spec.function.library}, "
                     f"on {spec.rule_text}{comparison}.")
    return "\n".join(lines)


def _packages() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    packages = {"python": platform.python_version(), "techfile": __version__}
    for name in ("fairlearn", "scikit-learn", "numpy", "pandas", "scipy"):
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            continue
    return packages


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def _who(root: Path) -> str:
    return _git(root, "config", "user.name") or os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"


def _code_version(root: Path, given: str | None, where: Location) -> dict[str, str]:
    """REPOSITORY@COMMIT as given, else the project's git commit and remote (or the repository's folder name)."""
    if given:
        repository, _, commit = given.rpartition("@")
        return {"repository": repository or given, "commit": commit.lower()}
    commit = _git(root, "rev-parse", "HEAD")
    if commit is None:
        raise EvaluationError(
            "the logbook entry needs the code version, and the project is not in a git repository with a commit; "
            "commit it, or pass --code-version REPOSITORY@COMMIT; nothing was written")
    top = _git(root, "rev-parse", "--show-toplevel")
    repository = _git(root, "config", "--get", "remote.origin.url") or (Path(top).name if top else root.name)
    return {"repository": repository, "commit": commit}


def _write_entry(root: Path, project: Project, entry_id: str, entry: dict[str, Any]) -> None:
    path = root / LOGBOOK_FOLDER / f"{entry_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(source_yaml(entry, entry_modeline(project)))
    except FileExistsError:
        raise EvaluationError(f"{LOGBOOK_FOLDER}/{entry_id}.yaml already exists; nothing was written") from None


def _evidence(project: Project, model: Model, path: Path, sha256: str, owner: str | None) -> tuple[str, dict[str, Any], Path, Path]:
    """The evidence record for the predictions file: (id, record, source file, where the file goes)."""
    evidence_id = f"ev-predictions-{model.id[:40]}-{sha256[:8]}"
    inside = _display(project.root, path) if path.resolve().is_relative_to(project.root.resolve()) else None
    target = project.root / (inside or f"evidence/files/{evidence_id}{path.suffix.lower()}")
    record = {"id": evidence_id, "title": f"Predictions of model {model.id} evaluated by techfile evaluate", "type": "test-report",
              "file": target.relative_to(project.root).as_posix(), "sha256": sha256,
              "collected": datetime.now(tz=UTC).strftime("%Y-%m-%d"), "owner": owner or _who(project.root),
              "description": f"The predictions file {path.name} the results of model {model.id} with this sha256 were computed from."}
    return evidence_id, record, path, target


def _write_evidence(root: Path, evidence_id: str, record: dict[str, Any], source: Path, target: Path) -> None:
    if source.resolve() != target.resolve():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    record_path = root / "evidence" / f"{evidence_id}.yaml"
    if not record_path.exists():
        record_path.parent.mkdir(parents=True, exist_ok=True)
        record_path.write_text(source_yaml(record, "# yaml-language-server: $schema=../schemas/evidence.schema.json"),
                               encoding="utf-8")


def _judged(root: Path, model: Model, actions: list[tuple[dict[str, Any], str, str]], written: bool,
            cis: dict[tuple[str, SliceKey], Interval], plan: Plan) -> list[EvaluatedResult]:
    """The verdict on each computed result, located where the model file holds it (after writing)."""
    reloaded = next((m for m in load_project(root).project.models if m.id == model.id), model) if written else model
    located = {(r.metric, slice_key(r.slice), r.dataset): r.location for r in reloaded.results}
    metrics = {m.id: m for m in model.metrics}
    judged = []
    for result, action, note in actions:
        key = (result["metric"], slice_key(result.get("slice", {})), result["dataset"])
        where = located.get(key, Location(model.location.path)) if written or action in ("unchanged", "conflict") else Location("")
        metric_result = MetricResult(result["metric"], result["value"], ci=list(result.get("ci", [])),
                                     slice=dict(result.get("slice", {})), dataset=result["dataset"], n=result["n"],
                                     method=result["method"], predictions_sha256=result["predictions_sha256"],
                                     logbook=result["logbook"], location=where)
        interval = cis.get((result["metric"], key[1]))
        if not note and interval is not None and interval.note:
            note = f"no CI: {interval.note}"
        judged.append(EvaluatedResult(result, judge(metric_result, metrics[result["metric"]]),
                                      action if written or action in ("unchanged", "conflict") else "not written", note))
    return judged


__all__ = ["Evaluation", "EvaluatedResult", "EvaluationError", "evaluate_model"]
