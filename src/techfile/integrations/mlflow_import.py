"""MLflow runs as logbook entries: one run, read with MLflow's own client, becomes a new hash-chained logbook/ entry,
and its metrics become results of the model it trained or evaluated.

Works with any store MLflow's client reads: a file store (`file:///path/mlruns` or a plain path), SQLite
(`sqlite:///path/mlflow.db`) or a tracking server. mlflow is imported only inside the functions that need it
(`pip install 'techfile[mlflow]'`). Nothing is invented: a fact the run does not hold is reported, never guessed.

Beyond MLflow's own tags (mlflow.user, mlflow.source.git.commit and .repoURL, mlflow.runName, …) a run may carry
`techfile.run_type` (default training), `techfile.performed_by` (over mlflow.user, a login name),
`techfile.environment.hardware` and `.os`. MLflow's dataset digests are short hashes of a sample, never a sha256: an input
logged with `mlflow.log_input(dataset, context="evaluation", tags={"sha256": ...})` pins the content it used; without
that tag the entry records the sha256 the dataset's own source records, and its notes name MLflow's digest.

Metric names → model results. MLflow names allow only letters, digits, `_ - . /` and spaces (and `:` outside
Windows), so a slice follows the metric id after a slash, as `<attribute>:<value>` pairs:

    auroc                                    overall (`auroc/overall` as well)
    sensitivity/sex:female                   subgroup
    sensitivity/sex:female/age_band:75       intersection (pairs joined by `/`, or by spaces)

A file store keeps each name as a file path, so no name there can be the folder of another: write the overall value as
`auroc/overall` next to `auroc/sex:female`, and join an intersection's pairs with spaces (`…/sex:female age_band:75`).
Also read: `=` for `:` and `,` or `&` between pairs (the logbook's own `sensitivity/sex=female&age_band=75+`), and
path segments where colons are not allowed (`sensitivity/sex/female`). A value MLflow cannot spell (`75+`) matches the
declared subgroup value whose MLflow spelling it is (`75`) when exactly one does. Only metrics the model declares become
results, on the run's one input dataset that is among the model's evaluation_data; a result already recorded with
another value is a conflict and is left as it is. The logbook entry keeps the metric names as MLflow has them.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlparse

from techfile.assess.logbook import LOGBOOK_FOLDER, entry_sha256
from techfile.diagnostics import Diagnostic
from techfile.integrations import MissingExtra, UnknownEntity
from techfile.loading import load_project
from techfile.project import Dataset, LogbookEntry, Model, Project
from techfile.sources.logbook_entries import entry_modeline, entry_problems, next_entry_id
from techfile.sources.model_results import ResultsEditError, results_text
from techfile.sources.writer import source_yaml

__all__ = ["MissingExtra", "MlflowImport", "MlflowImportError", "MlflowRun", "RunInput", "UnknownEntity", "import_mlflow_run",
           "read_mlflow_run"]

RUN_TYPES = ("training", "fine-tuning", "evaluation", "validation", "calibration")
TRAINING_CONTEXTS = frozenset({"train", "training"})
# mlflow.models.evaluate's default classifier evaluator: its metric names → techfile metric functions
EVALUATOR_METRICS = {"accuracy_score": "accuracy", "precision_score": "precision", "recall_score": "recall",
                     "f1_score": "f1", "roc_auc": "auroc"}
EVALUATOR_COUNTS = frozenset({"true_positives", "false_positives", "true_negatives", "false_negatives", "example_count"})

# Run tags: MLflow's own, and the techfile ones a training script may set.
TAG_RUN_TYPE = "techfile.run_type"
TAG_PERFORMED_BY = "techfile.performed_by"
TAG_HARDWARE = "techfile.environment.hardware"
TAG_OS = "techfile.environment.os"
TAG_USER = "mlflow.user"
TAG_RUN_NAME = "mlflow.runName"
TAG_NOTE = "mlflow.note.content"
TAG_COMMIT = "mlflow.source.git.commit"
TAG_DIRTY = "mlflow.source.git.dirty"
TAG_SOURCE_NAME = "mlflow.source.name"
TAG_MODEL_HISTORY = "mlflow.log-model.history"
INPUT_TAG_SHA256 = "sha256"  # mlflow.log_input(dataset, context=..., tags={"sha256": ...})
COMMIT_TAGS = (TAG_COMMIT, "mlflow.databricks.gitRepoCommit")
REPOSITORY_TAGS = ("mlflow.source.git.repoURL", "mlflow.gitRepoURL", "mlflow.databricks.gitRepoUrl")
# Tags that say nothing a logbook entry holds, and are not worth reporting as left out.
QUIET_TAGS = frozenset({"mlflow.source.type", "mlflow.runSourceType", "mlflow.autologging", "mlflow.loggedArtifacts"})

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_COMMIT = re.compile(r"^[0-9a-fA-F]{7,40}$")
_INT = re.compile(r"^-?(0|[1-9]\d*)$")
_FLOAT = re.compile(r"^-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$")
_DIGITS = re.compile(r"^-?\d+$")
_SLICE_PART = re.compile(r"^(?P<attribute>[^=:]+?)\s*[=:]\s*(?P<value>[^=:]+?)$")
# Between pairs: `/`, `,` or `&`, or spaces before the next `attribute:` (a value may hold spaces).
_PAIR_SEPARATOR = re.compile(r"\s*[/,&]\s*|\s+(?=[^\s/,&=:]+\s*[=:])")
_NOT_IN_MLFLOW_NAMES = re.compile(r"[^\w.\- :/]")


class MlflowImportError(Exception):
    """A run techfile cannot import: the store or run cannot be read, or the run lacks a fact the logbook requires."""


@dataclass(frozen=True)
class MlflowImport:
    """What an import wrote, what it mapped from where, what it left out and why, and the results it added or refused."""

    entry_path: Path
    entry_id: str
    mapped: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    results_added: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RunInput:
    """One input dataset of an MLflow run."""

    name: str
    digest: str
    source: str
    context: str | None
    sha256: str | None  # the input tag `sha256`: MLflow's own digests are at most 36 characters


@dataclass(frozen=True)
class MlflowRun:
    """The parts of an MLflow run a logbook entry can hold, as plain values."""

    run_id: str
    name: str | None
    experiment: str
    status: str
    start_ms: int | None
    end_ms: int | None
    user_id: str | None
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    inputs: list[RunInput]


@dataclass
class _Report:
    mapped: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    used_tags: set[str] = field(default_factory=set)

    def tag(self, run: MlflowRun, *keys: str) -> tuple[str, str] | None:
        """The first of these tags the run has (non-empty), as (key, value); marks it as used."""
        for key in keys:
            value = run.tags.get(key, "").strip()
            if value:
                self.used_tags.add(key)
                return key, value
        return None


# --- the import -------------------------------------------------------------------------------


def import_mlflow_run(project_dir: str | Path, tracking_uri: str, run_id: str, model_id: str | None = None) -> MlflowImport:
    """Write MLflow run `run_id` as the next logbook entry of the project; with `model_id`, add the run's results to
    that model (never changing a result already recorded)."""
    root = Path(project_dir)
    loaded = load_project(root)
    project = loaded.project
    _refuse_broken_sources(loaded.errors, project, model_id)
    model = _target_model(project, model_id)
    run = read_mlflow_run(tracking_uri, run_id)
    _refuse_duplicate(project, run)

    report = _Report()
    entry_id = _next_entry_id(project, run)
    entry_path = root / LOGBOOK_FOLDER / f"{entry_id}.yaml"
    if entry_path.exists():
        raise MlflowImportError(f"{LOGBOOK_FOLDER}/{entry_id}.yaml already exists; nothing was written "
                                "(an import never overwrites a logbook entry)")
    entry, uses = _entry(project, model, run, entry_id, report)
    if report.missing:
        problems = "\n".join(f"  - {problem}" for problem in report.missing)
        raise MlflowImportError(f"MLflow run {run.run_id} lacks what a logbook entry requires; nothing was written:\n{problems}")
    _check_entry(entry)

    results_added: list[str] = []
    model_text: str | None = None
    if model_id is None:
        report.unmapped.append(f"results of model {model.id!r}: not updated; name the model (--model {model.id}) to add "
                               "the run's results to it")
    else:
        new_results, results_added = _new_results(model, run, uses, report)
        if new_results:
            model_text = _with_results(root / model.location.path, new_results)

    entry_path.parent.mkdir(parents=True, exist_ok=True)
    with entry_path.open("x", encoding="utf-8", newline="\n") as handle:
        handle.write(_entry_yaml(entry, _modeline(project)))
    if model_text is not None:
        (root / model.location.path).write_bytes(model_text.encode("utf-8"))
    unused = sorted(k for k in run.tags if k not in report.used_tags and k not in QUIET_TAGS)
    report.unmapped += [f"tag {key} ({_short(run.tags[key])}): no logbook entry field" for key in unused]
    return MlflowImport(entry_path, entry_id, report.mapped, report.unmapped, report.conflicts, results_added)


def _target_model(project: Project, model_id: str | None) -> Model:
    models = {m.id: m for m in project.models}
    if model_id is not None:
        if model_id not in models:
            raise UnknownEntity("model", model_id, models)
        return models[model_id]
    if len(models) == 1:
        return next(iter(models.values()))
    known = ", ".join(models) or "none"
    raise MlflowImportError(f"a logbook entry names the model its run trained or evaluated; the project has several "
                            f"models ({known}): name one with --model")


def _refuse_broken_sources(errors: list[Diagnostic], project: Project, model_id: str | None) -> None:
    """A logbook with errors cannot be extended; a model file that does not load is no model to add results to."""
    unloaded_model = model_id is not None and all(m.id != model_id for m in project.models)
    blocking = [e for e in errors if e.path.startswith(f"{LOGBOOK_FOLDER}/")
                or (unloaded_model and e.path in (f"models/{model_id}.yaml", f"models/{model_id}.yml"))]
    if blocking:
        listed = "\n".join(f"  - {e.path}:{e.line}: {e.message}" for e in blocking[:10])
        raise MlflowImportError(f"fix these errors first (`techfile check`); nothing was written:\n{listed}")


def _refuse_duplicate(project: Project, run: MlflowRun) -> None:
    for entry in project.logbook:
        if entry.notes is not None and run.run_id in entry.notes.text:
            raise MlflowImportError(f"MLflow run {run.run_id} is already in the logbook as {entry.id!r}; nothing was written")


def _next_entry_id(project: Project, run: MlflowRun) -> str:
    """`lb-0007` after `lb-0006` when every entry id is one prefix and a number; else `mlflow-<run id prefix>`."""
    return next_entry_id(project, f"mlflow-{run.run_id[:8].lower()}")


def _modeline(project: Project) -> str:
    return entry_modeline(project)


# --- reading the run --------------------------------------------------------------------------


def read_mlflow_run(tracking_uri: str, run_id: str) -> MlflowRun:
    """Run `run_id` from the store at `tracking_uri`, read with MLflow's client; MlflowImportError when it cannot be read."""
    mlflow = _mlflow()
    from mlflow.exceptions import MlflowException

    uri, file_store = _store_uri(tracking_uri)
    try:
        with _file_store_allowed(file_store):
            client = mlflow.tracking.MlflowClient(tracking_uri=uri)
            run = client.get_run(run_id)
            experiment = client.get_experiment(run.info.experiment_id)
    except MlflowException as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise MlflowImportError(f"no MLflow run {run_id!r} in the store {tracking_uri}") from None
        raise MlflowImportError(f"MLflow cannot read run {run_id!r} from {tracking_uri}: {_first_line(error.message)}") from None
    except Exception as error:  # the store's own errors: SQLAlchemy, OSError, HTTP
        raise MlflowImportError(f"MLflow cannot read the store {tracking_uri}: {_first_line(str(error))}") from None
    inputs = []
    for dataset_input in run.inputs.dataset_inputs if run.inputs else []:
        tags = {t.key: t.value for t in dataset_input.tags}
        dataset = dataset_input.dataset
        inputs.append(RunInput(name=dataset.name, digest=dataset.digest or "", source=_input_source(dataset.source),
                               context=tags.get("mlflow.data.context"), sha256=tags.get(INPUT_TAG_SHA256)))
    return MlflowRun(
        run_id=run.info.run_id, name=run.info.run_name, experiment=experiment.name if experiment else run.info.experiment_id,
        status=run.info.status, start_ms=run.info.start_time, end_ms=run.info.end_time, user_id=run.info.user_id,
        params=dict(run.data.params), metrics=dict(run.data.metrics), tags=dict(run.data.tags), inputs=inputs,
    )


def _mlflow() -> ModuleType:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # reading a run is no reason to report usage
    try:
        import mlflow
        import mlflow.tracking
    except ImportError:
        raise MissingExtra("mlflow") from None
    return mlflow


def _store_uri(tracking_uri: str) -> tuple[str, bool]:
    """The URI to hand MLflow, and whether it is a file store. Local stores must exist: MLflow would create them."""
    parsed = urlparse(tracking_uri)
    if parsed.scheme == "file" or parsed.scheme == "" or (len(parsed.scheme) == 1 and tracking_uri[1:3] in (":\\", ":/")):
        path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(tracking_uri)
        if not path.is_dir():
            raise MlflowImportError(f"no MLflow file store at {path.as_posix()}: the folder does not exist")
        return path.resolve().as_uri(), True
    if parsed.scheme.startswith("sqlite"):
        database = tracking_uri.split("://", 1)[1][1:] if "://" in tracking_uri else ""
        if not database or database == ":memory:" or not Path(database).is_file():
            raise MlflowImportError(f"no MLflow SQLite store at {tracking_uri}: the database file does not exist")
    return tracking_uri, False


@contextmanager
def _file_store_allowed(file_store: bool) -> Iterator[None]:
    """MLflow 3 refuses file stores unless MLFLOW_ALLOW_FILE_STORE is set; reading an existing one is what we want."""
    previous = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    if file_store:
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        yield
    finally:
        if file_store and previous is None:
            del os.environ["MLFLOW_ALLOW_FILE_STORE"]
        elif file_store and previous is not None:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = previous


def _first_line(message: str) -> str:
    """The gist of a store's error (SQLAlchemy appends the SQL and a link)."""
    return next((line.strip() for line in str(message).splitlines() if line.strip()), "unknown error")


def _input_source(source: str | None) -> str:
    """`s3://bucket/test.parquet` from MLflow's JSON source description, or the text as it is."""
    try:
        data = json.loads(source or "")
    except ValueError:
        return source or ""
    if isinstance(data, dict):
        for key in ("uri", "url", "path", "table_name", "hf_dataset_name"):
            if data.get(key):
                return str(data[key])
    return source or ""


# --- the logbook entry ------------------------------------------------------------------------


@dataclass(frozen=True)
class _DatasetUse:
    dataset: str
    sha256: str
    split: str | None


def _entry(project: Project, model: Model, run: MlflowRun, entry_id: str,
           report: _Report) -> tuple[dict[str, Any], list[tuple[_DatasetUse, RunInput]]]:
    """The logbook entry for the run, in schema order, and which input dataset each `datasets` item came from."""
    last: LogbookEntry | None = project.logbook[-1] if project.logbook else None
    entry: dict[str, Any] = {"id": entry_id, "sequence": last.sequence + 1 if last else 1,
                             "run_type": _run_type(run, report), "model": model.id}
    entry["started"] = _time(run.start_ms, "started", "start", report)
    entry["ended"] = _time(run.end_ms, "ended", "end", report)
    entry["performed_by"] = _performed_by(run, report)
    uses = _dataset_uses(project, run, report)
    entry["datasets"] = [{"dataset": u.dataset, "sha256": u.sha256} | ({"split": u.split} if u.split else {})
                         for u, _ in uses]
    entry["code_version"] = _code_version(run, report)
    if run.params:
        entry["hyperparameters"] = {key: _typed(value) for key, value in sorted(run.params.items())}
        report.mapped.append(f"hyperparameters ← {len(run.params)} params")
    entry["metrics"] = _metrics(run, report)
    environment = _environment(run, report)
    if environment:
        entry["environment"] = environment
    entry["notes"] = _notes(run, uses, report)
    if last is not None:
        entry["previous_entry_sha256"] = entry_sha256(project, last)
        report.mapped.append(f"previous_entry_sha256 ← sha256 of {last.id}")
    return {k: v for k, v in entry.items() if v is not None}, uses


def _run_type(run: MlflowRun, report: _Report) -> str:
    found = report.tag(run, TAG_RUN_TYPE)
    if found is None and any(_undoubled(k).rpartition("/")[2] == "example_count" for k in run.metrics):
        report.mapped.append("run_type ← evaluation (an mlflow.models.evaluate run; no techfile.run_type tag)")
        return "evaluation"
    if found is None:
        report.mapped.append("run_type ← training (no techfile.run_type tag)")
        return "training"
    if found[1] not in RUN_TYPES:
        report.missing.append(f"tag {TAG_RUN_TYPE} is {found[1]!r}; it must be one of {', '.join(RUN_TYPES)}")
    else:
        report.mapped.append(f"run_type ← tag {TAG_RUN_TYPE}")
    return found[1]


def _time(milliseconds: int | None, name: str, what: str, report: _Report) -> str | None:
    """ISO 8601 in UTC, with milliseconds only when there are any."""
    if milliseconds is None:
        report.missing.append(f"the run has no {what} time" + (" (is it still running?)" if what == "end" else ""))
        return None
    moment = datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{milliseconds % 1000:03d}" if milliseconds % 1000 else "") + "Z"
    report.mapped.append(f"{name} ← run {what} time")
    return text


def _performed_by(run: MlflowRun, report: _Report) -> str | None:
    found = report.tag(run, TAG_PERFORMED_BY, TAG_USER)
    if found is not None:
        report.mapped.append(f"performed_by ← tag {found[0]}")
        return found[1]
    if run.user_id:
        report.mapped.append("performed_by ← run user")
        return run.user_id
    report.missing.append(f"no one is recorded as running it: set the tag {TAG_PERFORMED_BY} (or {TAG_USER})")
    return None


def _dataset_uses(project: Project, run: MlflowRun, report: _Report) -> list[tuple[_DatasetUse, RunInput]]:
    """Each input dataset that is a techfile dataset, pinned by a sha256 the run or the dataset's source records."""
    uses: list[tuple[_DatasetUse, RunInput]] = []
    for run_input in run.inputs:
        label = f"input dataset {run_input.name!r} (digest {run_input.digest or 'none'})"
        dataset = _matching_dataset(project.datasets, run_input)
        if dataset is None:
            known = ", ".join(d.id for d in project.datasets) or "none"
            report.unmapped.append(f"{label}: no techfile dataset has this id or name (dataset ids: {known}); "
                                   "log the input with name=<dataset id>")
            continue
        pinned = (run_input.sha256 or "").strip().lower()
        if _SHA256.match(pinned):
            sha256 = pinned
            report.mapped.append(f"datasets[{dataset.id}] ← {label}, input tag {INPUT_TAG_SHA256}")
            if dataset.sha256 and dataset.sha256 != pinned:
                report.conflicts.append(f"dataset {dataset.id!r}: the run's sha256 {pinned} differs from the sha256 "
                                        f"{dataset.sha256} in {dataset.location.path}; the entry records the run's")
        elif run_input.sha256:
            report.missing.append(f"{label}: input tag {INPUT_TAG_SHA256} is {run_input.sha256!r}, not a sha256")
            continue
        elif dataset.sha256:
            sha256 = dataset.sha256
            report.mapped.append(f"datasets[{dataset.id}] ← {label}; sha256 from {dataset.location.path}")
            report.unmapped.append(f"{label}: MLflow's digest is not a sha256; the entry records the sha256 of "
                                   f"{dataset.location.path} and names the digest in its notes")
        else:
            report.missing.append(f"{label} is dataset {dataset.id!r}, but neither the run (input tag "
                                  f"{INPUT_TAG_SHA256}) nor {dataset.location.path} records its sha256")
            continue
        use = _DatasetUse(dataset.id, sha256, run_input.context)
        if all(use != u for u, _ in uses):
            uses.append((use, run_input))
    if not uses and not report.missing:
        names = ", ".join(repr(i.name) for i in run.inputs) or "none"
        report.missing.append(f"no input dataset of the run is a techfile dataset (inputs: {names}); log each dataset "
                              "with mlflow.log_input(..., name=<techfile dataset id>)")
    return uses


def _matching_dataset(datasets: list[Dataset], run_input: RunInput) -> Dataset | None:
    """The techfile dataset with the input's name as id, else the only one with it as name, else the only one with the
    sha256 the input is tagged with."""
    name = run_input.name.strip()
    for dataset in datasets:
        if dataset.id == name:
            return dataset
    for same in (lambda d: d.name == name, lambda d: d.name.casefold() == name.casefold(),
                 lambda d: bool(d.sha256) and d.sha256 == (run_input.sha256 or "").strip().lower()):
        found = [d for d in datasets if same(d)]
        if len(found) == 1:
            return found[0]
    return None


def _code_version(run: MlflowRun, report: _Report) -> dict[str, str] | None:
    commit = report.tag(run, *COMMIT_TAGS)
    repository = report.tag(run, *REPOSITORY_TAGS)
    if repository is None and run.tags.get(TAG_SOURCE_NAME, "").strip() not in ("", "-"):
        repository = report.tag(run, TAG_SOURCE_NAME)
    problems = []
    if commit is None:
        problems.append(f"no code version: the tag {TAG_COMMIT} is not set (MLflow sets it when the run starts inside "
                        "a git checkout with GitPython installed)")
    elif not _COMMIT.match(commit[1]):
        problems.append(f"tag {commit[0]} is {commit[1]!r}, not a git commit hash")
    if repository is None:
        problems.append("no repository: set the tag mlflow.source.git.repoURL")
    if problems or commit is None or repository is None:
        report.missing += problems
        return None
    report.mapped += [f"code_version.commit ← tag {commit[0]}", f"code_version.repository ← tag {repository[0]}"]
    return {"repository": repository[1], "commit": commit[1].lower()}


def _metrics(run: MlflowRun, report: _Report) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for key, value in sorted(run.metrics.items()):
        if math.isfinite(value):
            metrics[key] = value
        else:
            report.unmapped.append(f"metric {key} ({value}): not a finite number")
    report.mapped.append(f"metrics ← {len(metrics)} metrics (latest value of each)")
    return metrics


def _environment(run: MlflowRun, report: _Report) -> dict[str, Any]:
    """Hardware and OS from techfile tags; mlflow and python versions from the log-model history MLflow records."""
    environment: dict[str, Any] = {}
    for name, tag in (("hardware", TAG_HARDWARE), ("os", TAG_OS)):
        found = report.tag(run, tag)
        if found:
            environment[name] = found[1]
            report.mapped.append(f"environment.{name} ← tag {tag}")
    packages: dict[str, str] = {}
    history = report.tag(run, TAG_MODEL_HISTORY)
    if history:
        try:
            logged = json.loads(history[1])
        except ValueError:
            logged = None
        model = logged[-1] if isinstance(logged, list) and logged and isinstance(logged[-1], dict) else {}
        pyfunc = (model.get("flavors") or {}).get("python_function") or {}
        for package, version in (("mlflow", model.get("mlflow_version")), ("python", pyfunc.get("python_version"))):
            if version:
                packages[package] = str(version)
                report.mapped.append(f"environment.packages.{package} ← tag {TAG_MODEL_HISTORY}")
    if packages:
        environment["packages"] = packages
    return environment


def _notes(run: MlflowRun, uses: list[tuple[_DatasetUse, RunInput]], report: _Report) -> str:
    """Where the entry comes from (the run id, which also guards against importing the run twice) and what the run said."""
    report.used_tags.add(TAG_RUN_NAME)
    name = f' "{run.name}"' if run.name else ""
    parts = [f"Imported from MLflow run {run.run_id}{name} (experiment \"{run.experiment}\", status {run.status})."]
    note = report.tag(run, TAG_NOTE)
    if note:
        parts.append(note[1])
    if uses:
        described = "; ".join((i.name if i.name == u.dataset else f"{i.name} as {u.dataset}")
                              + f" (MLflow digest {i.digest or 'none'}" + (f", source {i.source}" if i.source else "") + ")"
                              for u, i in uses)
        parts.append(f"Inputs: {described}.")
    dirty = report.tag(run, TAG_DIRTY)
    if dirty and dirty[1].lower() == "true":
        parts.append("The git working tree had uncommitted changes when the run started (mlflow.source.git.dirty).")
    return "\n\n".join(parts)


def _typed(text: str) -> str | int | float | bool:
    """A param as the value it spells exactly: `30` → 30, `0.0003` → 0.0003, `True` → true; anything else stays text."""
    if text in ("True", "true"):
        return True
    if text in ("False", "false"):
        return False
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text) and not _DIGITS.match(text) and math.isfinite(float(text)):
        return float(text)
    return text


def _check_entry(entry: dict[str, Any]) -> None:
    errors = [f"  - {problem}" for problem in entry_problems(entry)]
    if errors:
        raise MlflowImportError("the entry made from the run does not fit the logbook schema; nothing was written:\n"
                                + "\n".join(errors))


def _entry_yaml(entry: dict[str, Any], modeline: str) -> str:
    return source_yaml(entry, modeline)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the model's results ----------------------------------------------------------------------


def _new_results(model: Model, run: MlflowRun, uses: list[tuple[_DatasetUse, RunInput]],
                 report: _Report) -> tuple[list[dict[str, Any]], list[str]]:
    """Results to append to the model (metric ids it declares, slices it declares), and a line for each."""
    metric_ids = {m.id for m in model.metrics}
    evaluated, facts = _evaluator_metrics(model, run)
    candidates = [(key, value) for key, value in sorted(run.metrics.items())
                  if key.split("/", 1)[0] in metric_ids and math.isfinite(value)] + evaluated
    if not candidates:
        report.unmapped.append(f"results: no metric of the run is named after a metric of model {model.id!r} "
                               f"({', '.join(sorted(metric_ids))})")
        return [], []
    datasets = list(dict.fromkeys(u.dataset for u, _ in uses
                                  if u.dataset in model.evaluation_data and (u.split or "").lower() not in TRAINING_CONTEXTS))
    if len(datasets) != 1:
        why = f"several ({', '.join(datasets)})" if datasets else "none"
        report.unmapped.append(f"results: not updated; of the run's input datasets, {why} is an evaluation dataset of "
                               f"model {model.id!r}, and results need exactly one")
        return [], []
    dataset = datasets[0]
    recorded = {(r.metric, _slice_key(r.slice), r.dataset): r for r in model.results}
    seen: set[tuple[str, frozenset[tuple[str, str]]]] = set()
    added: list[dict[str, Any]] = []
    lines: list[str] = []
    for key, value in candidates:
        metric, _, rest = key.partition("/")
        slice_, problem = _slice(rest, model)
        if problem:
            report.unmapped.append(f"metric {key}: {problem}; in the logbook entry only")
            continue
        label = f"{metric} ({', '.join(f'{k}={v}' for k, v in slice_.items()) or 'overall'}) on {dataset}"
        if (metric, _slice_key(slice_)) in seen:
            report.unmapped.append(f"metric {key}: another metric name of the run already gave {label}; in the logbook entry only")
            continue
        seen.add((metric, _slice_key(slice_)))
        existing = recorded.get((metric, _slice_key(slice_), dataset))
        if existing is None:
            result: dict[str, Any] = {"metric": metric, "value": value}
            if slice_:
                result["slice"] = slice_
            result["dataset"] = dataset
            result.update(facts.get(key, {}))
            added.append(result)
            lines.append(f"{label}: {value:g}")
        elif math.isclose(existing.value, value, rel_tol=1e-9, abs_tol=1e-12):
            report.mapped.append(f"results {label} = {value:g}: already recorded")
        else:
            report.conflicts.append(f"results {label}: the run has {value!r}, {existing.location.path}:{existing.location.line} "
                                    f"records {existing.value!r}; kept the recorded value")
    return added, lines


def _evaluator_metrics(model: Model, run: MlflowRun) -> tuple[list[tuple[str, float]], dict[str, dict[str, Any]]]:
    """Metrics of `mlflow.models.evaluate` (default classifier evaluator) as `<metric id>/<slice>` names, for the
    model's metrics whose `function` they compute: `accuracy_score`, `recall_score`, … overall, and per slice when each
    slice was evaluated with `evaluator_config={"metric_prefix": "<attribute>:<value>/"}`. Specificity, the false
    positive and negative rates and the selection rate follow from the confusion counts the evaluator logs; n is
    its `example_count`. Also the n and method of each such result."""
    prefixed: dict[str, dict[str, float]] = {}
    for key, value in run.metrics.items():
        name = _undoubled(key)
        prefix, _, metric = name.rpartition("/")
        if metric in EVALUATOR_METRICS or metric in EVALUATOR_COUNTS:
            prefixed.setdefault(prefix, {})[metric] = value
    names: list[tuple[str, float]] = []
    facts: dict[str, dict[str, Any]] = {}
    for prefix, logged in sorted(prefixed.items()):
        if "example_count" not in logged:
            continue
        values = {EVALUATOR_METRICS[m]: v for m, v in logged.items() if m in EVALUATOR_METRICS}
        tp, fp, tn, fn = (logged.get(c) for c in ("true_positives", "false_positives", "true_negatives", "false_negatives"))
        if None not in (tp, fp, tn, fn):
            for function, numerator, denominator in (("specificity", tn, tn + fp), ("false_positive_rate", fp, fp + tn),
                                                     ("false_negative_rate", fn, fn + tp),
                                                     ("selection_rate", tp + fp, tp + fp + tn + fn)):
                if denominator:
                    values.setdefault(function, numerator / denominator)
        for function, value in sorted(values.items()):
            for metric in model.metrics:
                if metric.function is None or metric.comparison or metric.decision_threshold is not None:
                    continue
                if ("recall" if metric.function == "sensitivity" else metric.function) != function or not math.isfinite(value):
                    continue
                synthetic = f"{metric.id}/{prefix}" if prefix else metric.id
                names.append((synthetic, value))
                facts[synthetic] = {"n": int(logged["example_count"]),
                                    "method": f"MLflow evaluate (default classifier evaluator), run {run.run_id}"}
    return names, facts


def _undoubled(key: str) -> str:
    """MLflow 3 logs a prefixed evaluator metric as `<prefix><name>/<prefix><name>`: the name once."""
    half, rest = len(key) // 2, len(key) % 2
    if rest == 1 and key[half] == "/" and key[:half] == key[half + 1:]:
        return key[:half]
    return key


def _slice(text: str, model: Model) -> tuple[dict[str, str], str | None]:
    """The slice a metric name spells after its first `/`, in the model's declared names, or why it spells none."""
    pairs = _slice_pairs(text)
    if pairs is None:
        return {}, f"{text!r} is not a slice: write <attribute>:<value> pairs or <attribute>/<value> segments"
    declared = {g.attribute: g.values for g in model.factors.subgroups}
    slice_: dict[str, str] = {}
    for attribute, value in pairs:
        if attribute in slice_:
            return {}, f"attribute {attribute!r} appears twice"
        if declared and attribute not in declared:
            return {}, f"{attribute!r} is not a subgroup attribute of model {model.id!r} ({', '.join(declared)})"
        values = declared.get(attribute)
        if values and value not in values:
            spelled = [v for v in values if _NOT_IN_MLFLOW_NAMES.sub("", v) == value]
            if len(spelled) != 1:
                return {}, f"{value!r} is not a declared value of {attribute} ({', '.join(values)})"
            value = spelled[0]
        slice_[attribute] = value
    return slice_, None


def _slice_pairs(text: str) -> list[tuple[str, str]] | None:
    """(attribute, value) pairs from `sex:female/age_band:75`, `sex:female age_band:75`, `sex=female,age_band=75+` or
    `sex/female/age_band/75`; None when the text is none of these."""
    if text.strip() in ("", "overall"):
        return []
    if not re.search(r"[=:]", text):
        segments = [s.strip() for s in text.split("/")]
        if len(segments) % 2 or not all(segments):
            return None
        return list(zip(segments[::2], segments[1::2], strict=True))
    pairs = []
    for piece in _PAIR_SEPARATOR.split(text.strip()):
        match = _SLICE_PART.match(piece)
        if match is None:
            return None
        pairs.append((match.group("attribute"), match.group("value")))
    return pairs


def _slice_key(slice_: dict[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset(slice_.items())


def _with_results(path: Path, results: list[dict[str, Any]]) -> str:
    """The model file's text with `results` appended to its results list in the list's own style; nothing else changes."""
    try:
        return results_text(path, results)
    except ResultsEditError as error:
        raise MlflowImportError(str(error)) from None
