"""The `techfile` command: parse options, call the pipeline, print, exit. Nothing else lives here."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from techfile import __version__

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
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="How to print the findings.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@_guarded
def check(directory: str, output_format: str, strict: bool) -> None:
    """Validate a project: YAML, schemas, references, files and conventions."""
    from techfile.diagnostics import has_failures
    from techfile.loading import load_project
    from techfile.reporting import REPORTERS

    result = load_project(directory)
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
