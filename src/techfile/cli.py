"""The `techfile` command: parse options, call the pipeline, print, exit. Nothing else lives here."""

from __future__ import annotations

import datetime as dt
import os
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from techfile import __version__
from techfile.integrations import MissingExtra

if TYPE_CHECKING:
    from techfile.loading import LoadResult

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

ProjectDir = click.Path(exists=True, file_okay=False, dir_okay=True, path_type=str)


def _guarded(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn any unexpected exception into a one-line TF900 message and exit 3, never a traceback."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except MissingExtra as missing:
            click.echo(f"techfile: {missing}", err=True)
            sys.exit(EXIT_USAGE)
        except Exception as err:  # noqa: BLE001 - the last line of defence
            if os.environ.get("TECHFILE_DEBUG"):
                traceback.print_exc()
            click.echo(f"techfile: TF900 error: internal error: {type(err).__name__}: {err}", err=True)
            click.echo("    hint: this is a bug in techfile; set TECHFILE_DEBUG=1 for details and report it.", err=True)
            sys.exit(EXIT_INTERNAL)

    return run


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="techfile")
def main() -> None:
    """Compile an AI system's compliance sources (YAML in git) into documents."""


@main.command()
@click.argument("directory", default=".", type=ProjectDir)
@click.option("--format", "output_format", type=click.Choice(["text", "json", "sarif", "github"]), default="text", show_default=True,
              help="How to print the findings.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@_guarded
def check(directory: str, output_format: str, strict: bool) -> None:
    """Validate a project: YAML, schemas, references, files and conventions."""
    from techfile.diagnostics import has_failures
    from techfile.loading import load_project
    from techfile.reporting import REPORTERS

    result = load_project(directory, strict=strict)
    click.echo(REPORTERS[output_format](result.diagnostics, directory, len(result.source_files)))
    sys.exit(EXIT_FINDINGS if has_failures(result.diagnostics, strict) else EXIT_OK)


@main.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=str))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Folder to write the schemas to [default: DIRECTORY/schemas].")
@_guarded
def schema(directory: str, out_dir: str | None) -> None:
    """Write the JSON Schemas of every source kind, for editors to complete and check sources."""
    from techfile.schemas import write_schemas

    target = Path(out_dir) if out_dir else Path(directory) / "schemas"
    written = write_schemas(target)
    click.echo(f"wrote {len(written)} schemas to {target.as_posix()}")


def _clean_project(directory: str, purpose: str) -> LoadResult:
    """Load the project, or print its errors and exit 1: `purpose` needs sources that load, validate and resolve
    (gaps and other findings of the assessment do not stop it)."""
    from techfile.loading import load_project
    from techfile.reporting import report_text

    result = load_project(directory)
    if not result.complete or result.project.system is None:
        click.echo(report_text(result.errors, directory, len(result.source_files)))
        click.echo(f"cannot {purpose}: fix the errors above first (see `techfile check`).")
        sys.exit(EXIT_FINDINGS)
    return result


def _document_kinds() -> list[str]:
    from techfile.documents import DOCUMENT_BUILDERS

    return list(DOCUMENT_BUILDERS)


def _parse_only(value: str | None) -> set[str] | None:
    if not value:
        return None
    kinds = {part.strip() for part in value.split(",") if part.strip()}
    unknown = sorted(kinds - set(_document_kinds()))
    if unknown:
        raise click.BadParameter(f"unknown document kind(s): {', '.join(unknown)}; choose from {', '.join(_document_kinds())}",
                                 param_hint="--only")
    return kinds


@main.command()
@click.argument("directory", default=".", type=ProjectDir)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Output folder [default: DIRECTORY/build].")
@click.option("--only", "only", default=None, metavar="KIND,...", help="Build only these document kinds.")
@click.option("--no-site", is_flag=True, help="Skip the MkDocs site.")
@click.option("--no-pdf", is_flag=True, help="Skip the PDFs.")
@click.option("--no-docx", is_flag=True, help="Skip the Word (DOCX) editions.")
@click.option("--no-xlsx", is_flag=True, help="Skip the spreadsheet (XLSX) editions.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="PDFs and DOCX made in parallel [default: CPU count].")
@click.option("--sign", "sign_key", type=click.Path(dir_okay=False, path_type=str), default=None, metavar="KEY",
              help="Sign every approved PDF (PAdES) with this PKCS#12 file or PEM private key (needs techfile[sign]).")
@click.option("--sign-cert", type=click.Path(dir_okay=False, path_type=str), default=None, metavar="CERT",
              help="PEM certificate (and chain) for a PEM key that does not hold its certificate.")
@click.option("--sign-password-env", default="TECHFILE_SIGN_PASSWORD", show_default=True, metavar="NAME",
              help="Environment variable holding the key's password.")
@_guarded
def build(directory: str, out_dir: str | None, only: str | None, no_site: bool, no_pdf: bool, no_docx: bool, no_xlsx: bool,
          jobs: int | None, sign_key: str | None, sign_cert: str | None, sign_password_env: str) -> None:
    """Build the documents: Markdown, the MkDocs site, the PDFs, DOCX and XLSX, and the manifest, into one folder."""
    from techfile.publish.build import BuildFailure, BuildFindings
    from techfile.publish.build import build as run_build
    from techfile.publish.progress import progress_reporter
    from techfile.publish.signing import SigningProblem
    from techfile.reporting import report_text

    kinds = _parse_only(only)
    key = None
    if sign_key is not None:
        if no_pdf:
            raise click.BadParameter("--sign signs PDFs; it cannot be used with --no-pdf", param_hint="--sign")
        from techfile.publish.signing import load_signing_key

        try:
            key = load_signing_key(sign_key, sign_cert, sign_password_env)
        except SigningProblem as problem:
            click.echo(report_text([problem.diagnostic], "", 0).rsplit("\n", 1)[0], err=True)
            sys.exit(EXIT_USAGE)
    with progress_reporter() as progress:
        try:
            result = run_build(directory, out_dir, kinds, site=not no_site, pdf=not no_pdf, jobs=jobs, progress=progress,
                               docx=not no_docx, xlsx=not no_xlsx, sign=key)
        except SigningProblem as problem:
            click.echo(report_text([problem.diagnostic], "", 0).rsplit("\n", 1)[0], err=True)
            click.echo("    nothing was built; the previous output folder was left as it was.", err=True)
            sys.exit(EXIT_USAGE)
        except BuildFindings as findings:
            click.echo(report_text(findings.diagnostics, directory, 0).rsplit("\n", 1)[0])
            click.echo(f"build refused: {len(findings.diagnostics)} error(s) in the sources; fix them (see `techfile check`).")
            sys.exit(EXIT_FINDINGS)
        except BuildFailure as failure:
            click.echo(f"techfile: build failed: {failure}", err=True)
            click.echo("    hint: the previous output folder was left as it was.", err=True)
            sys.exit(EXIT_INTERNAL)
    pages = sum(result.pages.values())
    click.echo(f"built {len(result.documents)} documents ({pages} PDF pages, {result.gap_count} gaps) "
               f"into {result.out.as_posix()} in {result.seconds:.1f} s")
    for kind in result.unavailable:
        click.echo(f"note: document kind {kind!r} is asked for in techfile.yaml but this techfile does not produce it yet")
    if not no_site:
        click.echo(f"site: {(result.out / 'site' / 'index.html').as_posix()}")
    if not no_pdf:
        click.echo(f"PDFs: {(result.out / 'pdf').as_posix()}/")
    if not no_docx:
        click.echo(f"DOCX: {(result.out / 'docx').as_posix()}/")
    if key is not None:
        click.echo(f"signed {len(result.signed)} approved PDF(s) as {key.subject}")
        unsigned = sorted(f"pdf/{d.id}.pdf" for d in result.documents if d.in_pdf and f"pdf/{d.id}.pdf" not in result.signed)
        for path in unsigned:
            click.echo(f"note: {path} is a draft and was not signed")


@main.command()
@click.argument("directory", default=".", type=ProjectDir)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@_guarded
def serve(directory: str, host: str, port: int) -> None:
    """Preview the site with live reload: edit a source and the page refreshes."""
    from techfile.publish.build import BuildFailure
    from techfile.publish.serve import serve as run_server

    try:
        run_server(directory, host, port, lambda message: click.echo(message, err=True))
    except BuildFailure as failure:
        click.echo(f"techfile: {failure}", err=True)
        sys.exit(EXIT_FINDINGS)


def _iso_date(_context: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write it as YYYY-MM-DD") from None


@main.command()
@click.argument("directory", default=".", type=ProjectDir)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD", callback=_iso_date,
              help="List the obligations as they stand on this date [default: the build date].")
@_guarded
def classify(directory: str, output_format: str, as_of: dt.date | None) -> None:
    """Decide the system's EU AI Act risk class, with the reasoning, the roles and the dated obligations that follow."""
    from techfile.assess.grades import MISSING, assess
    from techfile.assess.obligations import eu_ai_act_report
    from techfile.loading import load_project
    from techfile.reporting import report_classification, report_text

    result = load_project(directory)
    project = result.project
    if not result.complete or project.system is None or project.settings is None:
        click.echo(report_text(result.errors, directory, len(result.source_files)))
        click.echo("cannot classify: the sources did not load and resolve; fix the errors above (see `techfile check`).")
        sys.exit(EXIT_FINDINGS)
    report = eu_ai_act_report(project, as_of)
    gaps = [(p.ref, "; ".join(p.missing)) for p in assess(project).section("annex_iv") if p.grade == MISSING and p.missing] \
        if report.classification.high_risk and (report.classification.decided or report.classification.certain) else []
    click.echo(report_classification(report, output_format, directory, gaps))
    sys.exit(EXIT_OK if report.decided else EXIT_FINDINGS)


@main.group()
def export() -> None:
    """Write the project's facts in another tool's format."""


@export.command("hf-card")
@click.argument("entity_id")
@click.argument("directory", default=".", type=ProjectDir)
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="File to write [default: standard output].")
@_guarded
def export_hf_card(entity_id: str, directory: str, out_file: str | None) -> None:
    """A Hugging Face card (README.md) for the model or dataset ENTITY_ID."""
    from techfile.integrations import UnknownEntity

    result = _clean_project(directory, "export")
    try:
        from techfile.integrations import huggingface

        is_dataset = any(d.id == entity_id for d in result.project.datasets)
        text = (huggingface.dataset_card if is_dataset else huggingface.model_card)(result.project, entity_id)
    except UnknownEntity as unknown:
        raise click.BadParameter(str(unknown), param_hint="ENTITY_ID") from None
    _write_or_print(text, out_file)


@export.command("cyclonedx")
@click.argument("directory", default=".", type=ProjectDir)
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="File to write [default: standard output].")
@_guarded
def export_cyclonedx(directory: str, out_file: str | None) -> None:
    """A CycloneDX 1.6 ML-BOM: the system, its models with their model cards, its datasets, validated."""
    from techfile.publish.build import BuildFailure, build_info

    result = _clean_project(directory, "export")
    try:
        from techfile.integrations.cyclonedx import ExportError, cyclonedx_bom

        date = build_info(result.project, Path(directory) / "build").date
        text = cyclonedx_bom(result.project, build_date=date)
    except (ExportError, BuildFailure) as err:
        click.echo(f"techfile: {err}", err=True)
        sys.exit(EXIT_INTERNAL)
    _write_or_print(text, out_file)


@export.command("json")
@click.argument("directory", default=".", type=ProjectDir)
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="File to write [default: standard output].")
@_guarded
def export_json(directory: str, out_file: str | None) -> None:
    """The whole resolved project as JSON (schema: schemas/export.schema.json), for other tools."""
    from techfile.integrations.json_export import project_json

    result = _clean_project(directory, "export")
    _write_or_print(project_json(result.project), out_file)


@export.command("eu-database")
@click.argument("directory", default=".", type=ProjectDir)
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="File to write [default: standard output].")
@_guarded
def export_eu_database(directory: str, out_file: str | None) -> None:
    """The EU database registration data (Annex VIII) as JSON (schema: schemas/eu-database-export.schema.json)."""
    from techfile.integrations.eu_database import eu_database_json

    result = _clean_project(directory, "export")
    _write_or_print(eu_database_json(result.project), out_file)


@main.group("import")
def import_() -> None:
    """Create sources from another tool's records."""


@import_.command("hf-card")
@click.argument("card", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.argument("directory", default=".", type=ProjectDir)
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="Source file to create [default: DIRECTORY/models/<id>.yaml].")
@_guarded
def import_hf_card(card: str, directory: str, out_file: str | None) -> None:
    """Create a model source from a Hugging Face model card, and report what did not map."""

    try:
        from techfile.integrations import huggingface

        imported = huggingface.import_model_card(Path(card).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        click.echo(f"{card}:1:1: TF102 error: cannot read the card: {err}", err=True)
        sys.exit(EXIT_FINDINGS)
    target = Path(out_file) if out_file else Path(directory) / "models" / f"{imported.model_id}.yaml"
    if target.exists():
        click.echo(f"techfile: {target.as_posix()} exists; not overwritten (choose another file with --out)", err=True)
        sys.exit(EXIT_FINDINGS)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(huggingface.to_yaml(imported.source), encoding="utf-8")
    click.echo(f"created {target.as_posix()}: mapped {', '.join(imported.mapped) or 'nothing'}")
    for item in imported.unmapped:
        click.echo(f"  not mapped: {item}")
    if imported.todo:
        click.echo("  still to write (required): " + ", ".join(imported.todo))
        click.echo("  run `techfile check` to see them located")


@import_.command("mlflow")
@click.option("--tracking-uri", required=True, help="MLflow tracking URI: a file store path or file:// URI, or sqlite:///PATH.")
@click.option("--run", "run_id", required=True, help="The MLflow run id.")
@click.option("--model", "model_id", default=None, help="Also add the run's metrics to this model's results.")
@click.option("-C", "--project", "directory", default=".", type=ProjectDir, show_default=True, help="The project folder.")
@_guarded
def import_mlflow(tracking_uri: str, run_id: str, model_id: str | None, directory: str) -> None:
    """A logbook entry (chained) from an MLflow run; with --model, its per-slice metrics as model results."""

    try:
        from techfile.integrations.mlflow_import import MlflowImportError, import_mlflow_run

        imported = import_mlflow_run(directory, tracking_uri, run_id, model_id)
    except MlflowImportError as err:
        click.echo(f"techfile: {err}", err=True)
        sys.exit(EXIT_FINDINGS)
    click.echo(f"created {imported.entry_path.as_posix()} ({imported.entry_id})")
    for line in imported.results_added:
        click.echo(f"  result added: {line}")
    for line in imported.conflicts:
        click.echo(f"  conflict, not changed: {line}")
    for line in imported.unmapped:
        click.echo(f"  not mapped: {line}")


@import_.command("fairlearn")
@click.argument("export", metavar="EXPORT.json", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.option("--model", "model_id", required=True, help="The model whose results these are.")
@click.option("--dataset", "dataset_id", default=None, help="The evaluation dataset [default: the model's only one].")
@click.option("--attributes", default=None, metavar="A,B", help="The MetricFrame's sensitive features, in order, when the export does not name them.")
@click.option("--metric", default=None, help="The metric of a single-metric export (a Series).")
@click.option("--replace", is_flag=True, help="Replace recorded results that differ, instead of keeping them.")
@click.option("-C", "--project", "directory", default=".", type=ProjectDir, show_default=True, help="The project folder.")
@_guarded
def import_fairlearn(export: str, model_id: str, dataset_id: str | None, attributes: str | None, metric: str | None,
                     replace: bool, directory: str) -> None:
    """A Fairlearn MetricFrame's by_group (and overall) values, exported as JSON, as the model's results."""
    from techfile.integrations import UnknownEntity
    from techfile.integrations.fairlearn_import import FairlearnImportError, import_metric_frame

    names = [a.strip() for a in attributes.split(",") if a.strip()] if attributes else None
    try:
        imported = import_metric_frame(directory, export, model_id, dataset_id, names, metric, replace)
    except UnknownEntity as unknown:
        raise click.BadParameter(str(unknown), param_hint="--model") from None
    except FairlearnImportError as err:
        d = err.diagnostic
        click.echo(f"{export}:{d.line}:{d.col}: {d.code} error: {d.message}\n    hint: {d.hint}", err=True)
        sys.exit(EXIT_FINDINGS)
    for label, lines in (("result added", imported.added), ("result replaced", imported.replaced),
                         ("already recorded", imported.unchanged), ("conflict, not changed", imported.conflicts),
                         ("not mapped", imported.unmapped)):
        for line in lines:
            click.echo(f"  {label}: {line}")
    click.echo(f"{len(imported.added)} added, {len(imported.replaced)} replaced, {len(imported.unchanged)} already recorded, "
               f"{len(imported.conflicts)} conflicts")


@import_.command("openlineage")
@click.argument("events", metavar="EVENTS.jsonl", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.option("-C", "--project", "directory", default=".", type=ProjectDir, show_default=True, help="The project folder.")
@click.option("--id", "lineage_id", default=None, help="Id of the lineage source to write [default: from the file name].")
@_guarded
def import_openlineage(events: str, directory: str, lineage_id: str | None) -> None:
    """A lineage graph (lineage/<id>.yaml) from OpenLineage RunEvents, attached to the datasets it names."""

    try:
        from techfile.integrations.openlineage_import import LineageError
        from techfile.integrations.openlineage_import import import_openlineage as read_events

        imported = read_events(directory, events, lineage_id)
    except (LineageError, FileExistsError) as err:
        click.echo(f"techfile: {err}", err=True)
        sys.exit(EXIT_FINDINGS)
    click.echo(f"created {imported.path.as_posix()} from {imported.events} events")
    for name in imported.mapped:
        click.echo(f"  mapped: {name}")
    for name in imported.unmapped:
        click.echo(f"  not mapped to a dataset: {name}")


@main.group()
def logbook() -> None:
    """The development logbook: append-only, hash-chained."""


@logbook.command("append")
@click.argument("entry", metavar="ENTRY.yaml", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.option("-C", "--project", "directory", default=".", type=ProjectDir, show_default=True, help="The project folder.")
@_guarded
def logbook_append(entry: str, directory: str) -> None:
    """Append ENTRY.yaml to the logbook as logbook/<id>.yaml, setting its sequence and the hash of the last entry."""
    from techfile.sources.append import AppendError, append_logbook_entry

    try:
        appended = append_logbook_entry(directory, entry)
    except AppendError as err:
        click.echo(f"techfile: {err}", err=True)
        sys.exit(EXIT_FINDINGS)
    chained = f", chained to {appended.previous}" if appended.previous else " (the first entry)"
    click.echo(f"wrote {appended.path.as_posix()}: {appended.entry_id}, sequence {appended.sequence}{chained}")


@main.command()
@click.argument("model_id", metavar="MODEL")
@click.option("--predictions", "predictions_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=str),
              help="The predictions file: CSV (with a header row) or Parquet, with the columns the model's `evaluation` maps.")
@click.option("--dataset", "dataset_id", default=None, help="The evaluation dataset the predictions are on [default: the model's only one].")
@click.option("-C", "--project", "directory", default=".", type=ProjectDir, show_default=True, help="The project folder.")
@click.option("--replace", "replace_conflicts", is_flag=True, help="Replace recorded results that differ, instead of keeping them.")
@click.option("--report", "table", is_flag=True, help="Also print every result as a table.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--no-write", is_flag=True, help="Compute and judge only; write neither results nor a logbook entry.")
@click.option("--keep-predictions", is_flag=True, help="Keep the predictions file as evidence (copied into evidence/files/).")
@click.option("--performed-by", default=None, help="Who ran the evaluation [default: git user.name].")
@click.option("--code-version", default=None, metavar="REPOSITORY@COMMIT",
              help="The code version to record when the project is not in git.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Processes for large files [default: CPU count].")
@_guarded
def evaluate(model_id: str, predictions_file: str, dataset_id: str | None, directory: str, replace_conflicts: bool, table: bool,
             output_format: str, no_write: bool, keep_predictions: bool, performed_by: str | None, code_version: str | None,
             jobs: int | None) -> None:
    """Compute MODEL's metrics per slice from a predictions file, write them with provenance, and gate on them."""
    from techfile.diagnostics import Severity
    from techfile.integrations import UnknownEntity

    try:
        from techfile.evaluate.run import EvaluationError, evaluate_model

        evaluation = evaluate_model(directory, model_id, predictions_file, dataset_id, replace_conflicts=replace_conflicts,
                                    write=not no_write, keep_predictions=keep_predictions, performed_by=performed_by,
                                    code_version=code_version, jobs=jobs)
    except UnknownEntity as unknown:
        raise click.BadParameter(str(unknown), param_hint="MODEL") from None
    except EvaluationError as err:
        for d in err.diagnostics:
            click.echo(f"{d.path}:{d.line}:{d.col}: {d.code} {Severity(d.severity).value}: {d.message}")
            if d.hint:
                click.echo(f"    hint: {d.hint}")
        click.echo(f"techfile: {err}", err=True)
        sys.exit(EXIT_FINDINGS)
    from techfile.evaluate.report import report_json, report_table, report_text

    if output_format == "json":
        click.echo(report_json(evaluation))
    else:
        from techfile.loading import load_project

        model = next(m for m in load_project(directory).project.models if m.id == model_id)
        if table:
            click.echo(report_table(evaluation))
        click.echo(report_text(evaluation, model))
    sys.exit(EXIT_OK if evaluation.passed else EXIT_FINDINGS)


def _write_or_print(text: str, out_file: str | None) -> None:
    if out_file is None:
        click.echo(text, nl=False)
        return
    Path(out_file).write_text(text, encoding="utf-8")
    click.echo(f"wrote {out_file}", err=True)


@main.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=str))
@click.option("--template", type=click.Choice(["medical", "fraud", "credit", "gpai", "sentiment", "minimal"]), default="minimal",
              show_default=True, help="medical: EU AI Act high-risk (the sample); fraud: SOC 2 readiness; "
              "credit: EU AI Act Annex III 5(b) with FRIA and registration; gpai: a general-purpose AI model's provider "
              "(Art. 53); sentiment: NIST AI RMF; "
              "minimal: the smallest valid project.")
@_guarded
def init(directory: str, template: str) -> None:
    """Create a project from a template. Existing files are never overwritten."""
    from techfile.scaffold import ScaffoldError, scaffold

    try:
        made = scaffold(directory, template)
    except ScaffoldError as err:
        click.echo(f"techfile: {err}", err=True)
        sys.exit(EXIT_FINDINGS)
    click.echo(f"created {len(made.files)} files in {made.directory.as_posix()} from the {template!r} template")
    click.echo(f"next: techfile check {directory}  then  techfile build {directory}")


@main.command()
@click.argument("directory", default=".", type=ProjectDir)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_guarded
def coverage(directory: str, output_format: str) -> None:
    """Per framework in scope: every requirement's grade (missing, described, evidenced, approved, not applicable)."""
    from techfile.assess.grades import assess
    from techfile.reporting import report_coverage

    result = _clean_project(directory, "compute coverage")
    click.echo(report_coverage(assess(result.project), output_format))


@main.command()
@click.argument("old")
@click.argument("new", required=False)
@click.option("-C", "--project", "directory", default=".", type=ProjectDir, show_default=True, help="The project folder.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Where the redlines go [default: PROJECT/build/diff].")
@click.option("--summary-only", is_flag=True, help="Print the summary; write no files.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when something changed, 0 when nothing did.")
@click.option("--pdf", "as_pdf", is_flag=True, help="Also write redline.pdf: the summary and every redline.")
@_guarded
def diff(old: str, new: str | None, directory: str, out_dir: str | None, summary_only: bool, exit_code: bool,
         as_pdf: bool) -> None:
    """What changed in the documents between git revision OLD and NEW (default: the working tree)."""
    from techfile.publish.redline import DiffError, diff_revisions, summary_markdown, write_redlines
    from techfile.reporting import report_text

    try:
        result = diff_revisions(directory, old, new)
    except DiffError as err:
        if err.diagnostics:
            click.echo(report_text(err.diagnostics, directory, 0).rsplit("\n", 1)[0])
        click.echo(f"techfile: {err}", err=True)
        sys.exit(EXIT_USAGE if not err.diagnostics else EXIT_FINDINGS)
    click.echo(summary_markdown(result), nl=False)
    if not summary_only:
        from techfile.publish.build import BuildFailure
        from techfile.publish.output import OutputBusy

        target = Path(out_dir) if out_dir else Path(directory) / "build" / "diff"
        try:
            write_redlines(result, target, pdf=as_pdf)
        except (BuildFailure, OutputBusy) as err:
            click.echo(f"techfile: {err}", err=True)
            sys.exit(EXIT_INTERNAL)
        click.echo(f"redlines: {target.as_posix()}/")
    sys.exit(EXIT_FINDINGS if exit_code and result.changed else EXIT_OK)


@main.command()
@click.argument("directory", default=".", type=ProjectDir)
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="The zip to write [default: DIRECTORY/build/<project-id>-submission.zip].")
@click.option("--sign", "sign_key", type=click.Path(dir_okay=False, path_type=str), default=None, metavar="KEY",
              help="Sign SHA256SUMS (SHA256SUMS.p7s, CMS) with this PKCS#12 file or PEM private key (needs techfile[sign]).")
@click.option("--sign-cert", type=click.Path(dir_okay=False, path_type=str), default=None, metavar="CERT",
              help="The certificate (and chain) of a PEM key, when the key file does not hold it.")
@click.option("--sign-password-env", default="TECHFILE_SIGN_PASSWORD", show_default=True, metavar="NAME",
              help="Environment variable holding the key's password (never a command-line argument).")
@_guarded
def bundle(directory: str, out_file: str | None, sign_key: str | None, sign_cert: str | None,
           sign_password_env: str) -> None:
    """A deterministic submission zip: PDFs, evidence, sources, index, manifest and SHA256SUMS (signed with --sign)."""
    from techfile.publish.build import BuildFailure, BuildFindings
    from techfile.publish.bundle import BundleError, UnsafeName, make_bundle
    from techfile.reporting import report_text

    if sign_cert and not sign_key:
        raise click.BadParameter("--sign-cert goes with --sign", param_hint="--sign-cert")
    key = None
    if sign_key is not None:
        from techfile.publish.signing import SigningProblem, load_signing_key

        try:
            key = load_signing_key(sign_key, sign_cert, sign_password_env)
        except SigningProblem as problem:
            click.echo(report_text([problem.diagnostic], "", 0).rsplit("\n", 1)[0], err=True)
            sys.exit(EXIT_USAGE)
    try:
        if out_file is None:
            from techfile.loading import load_project

            settings = load_project(directory).project.settings
            out_file = str(Path(directory) / "build" / f"{settings.id if settings else 'project'}-submission.zip")
        made = make_bundle(directory, out_file, signer=key)
    except BuildFindings as findings:
        click.echo(report_text(findings.diagnostics, directory, 0).rsplit("\n", 1)[0])
        click.echo(f"bundle refused: {len(findings.diagnostics)} error(s) in the sources.")
        sys.exit(EXIT_FINDINGS)
    except UnsafeName as err:
        click.echo(f"techfile: bundle refused: {err}", err=True)
        sys.exit(EXIT_FINDINGS)
    except (BuildFailure, BundleError) as err:
        click.echo(f"techfile: {err}", err=True)
        sys.exit(EXIT_INTERNAL)
    click.echo(f"wrote {made.zip_path} ({made.count} files, sha256 {made.sha256})")
    click.echo(f"SHA256SUMS sha256: {made.sums_sha256}")
    click.echo(f"    publish it apart from the bundle; recipients check with "
               f"`techfile verify {made.zip_path.name} --expect-sums {made.sums_sha256}`")
    if made.signed_by:
        click.echo(f"signed SHA256SUMS as {made.signed_by} ({made.zip_path.name} holds SHA256SUMS.p7s); "
                   "recipients check with `techfile verify --expect-cert CERT`")


@main.command()
@click.argument("target", metavar="BUNDLE.zip|FILE.pdf|BUILD_DIR", type=click.Path(path_type=str))
@click.option("--trust", "trust", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=str), metavar="CERT",
              help="A certificate (PEM or DER) to trust as signer or CA when checking PDF signatures; repeatable.")
@click.option("--expect-cert", type=click.Path(exists=True, dir_okay=False, path_type=str), default=None,
              metavar="CERT", help="Bundle: require SHA256SUMS.p7s to be a valid signature by this certificate's key.")
@click.option("--expect-sums", default=None, metavar="SHA256",
              help="Bundle: require SHA256SUMS to have this sha256 (the digest the sender published).")
@click.option("--max-gib", type=click.IntRange(min=1), default=64, show_default=True,
              help="Bundle: decompress at most this many GiB in all; a bundle claiming more is reported, not read.")
@_guarded
def verify(target: str, trust: tuple[str, ...], expect_cert: str | None, expect_sums: str | None, max_gib: int) -> None:
    """Check a submission bundle (hashes, manifest, signature), a signed PDF's signatures, or a build folder."""
    import re

    if Path(target).is_dir() or target.lower().endswith(".pdf"):
        if expect_cert or expect_sums:
            raise click.BadParameter("--expect-cert and --expect-sums check a bundle; for PDFs give --trust CERT",
                                     param_hint="--expect-cert")
        _verify_signatures(target, list(trust))
        return
    from techfile.publish.bundle import BundleError
    from techfile.publish.verify import verify_bundle

    if expect_sums is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", expect_sums):
        raise click.BadParameter("give the 64 hex digits of a sha256", param_hint="--expect-sums")
    try:
        result = verify_bundle(target, expect_cert, expect_sums, max_bytes=max_gib << 30)
    except BundleError as err:
        click.echo(f"techfile: {err}", err=True)
        sys.exit(EXIT_FINDINGS)
    for problem in result.problems:
        click.echo(f"{target}: {problem}")
    click.echo(f"{'ok' if result.ok else 'failed'}: {result.checked} files checked, {len(result.problems)} problem(s)")
    if result.sums_sha256:
        click.echo(f"SHA256SUMS sha256: {result.sums_sha256}")
    if result.signer:
        click.echo(f"signed by: {result.signer}" + ("" if expect_cert else
                                                      " (not checked against a certificate: give --expect-cert)"))
    sys.exit(EXIT_OK if result.ok else EXIT_FINDINGS)


def _verify_signatures(target: str, trust: list[str]) -> None:
    """`verify FILE.pdf` and `verify BUILD_DIR`: PAdES signatures (and, for a folder, the manifest's hashes)."""
    from techfile.diagnostics import has_failures
    from techfile.publish.signing import SigningProblem, load_trust, verify_build, verify_pdf
    from techfile.reporting import report_text

    try:
        anchors = load_trust(trust)
        if Path(target).is_dir():
            checks = verify_build(Path(target), anchors)
        else:
            try:
                data = Path(target).read_bytes()
            except OSError as err:
                click.echo(f"techfile: {target}: cannot be read: {err.strerror or err}", err=True)
                sys.exit(EXIT_FINDINGS)
            checks = [verify_pdf(data, Path(target).as_posix(), anchors)]
    except SigningProblem as problem:
        click.echo(report_text([problem.diagnostic], "", 0).rsplit("\n", 1)[0], err=True)
        sys.exit(EXIT_USAGE)
    diagnostics = [d for c in checks for d in c.diagnostics]
    for line in report_text(diagnostics, "", 0).split("\n")[:-1]:
        click.echo(line)
    for check in (c for c in checks if c.signers):
        signers = "; ".join(check.signers)
        if has_failures(check.diagnostics):
            click.echo(f"{check.path}: signature FAILED ({signers})")
        else:
            identity = "trusted through --trust" if trust else "signer's identity not checked: give --trust CERT"
            click.echo(f"{check.path}: signed by {signers} ({identity})")
    signed = sum(1 for c in checks if c.signers)
    verdict = "failed" if has_failures(diagnostics) else "ok"
    click.echo(f"{verdict}: {len(checks)} file(s) checked, {signed} signed, {len(diagnostics)} problem(s)")
    sys.exit(EXIT_FINDINGS if has_failures(diagnostics) else EXIT_OK)
