"""A project's own templates (DIR/templates/): files inside the project, and Jinja that parses.

Templates are code: they are reviewed like code, and at build time they run in Jinja's sandbox with a loader that
reads only files inside the template folder. `check` refuses, before any build, a folder or file that points out of
the project and a template that does not parse (Jinja is imported only when the project has templates).
"""

from __future__ import annotations

from pathlib import Path

from techfile.diagnostics import Diagnostic, finding

TEMPLATES = "templates"


def check_templates(root: Path) -> list[Diagnostic]:
    """Every problem with the project's templates folder that would stop a build."""
    folder = root / TEMPLATES
    if not folder.exists() and not folder.is_symlink():
        return []
    boundary = root.resolve()
    if not folder.resolve().is_relative_to(boundary):
        return [finding("TF130", TEMPLATES, 1, 1, "the templates folder points outside the project folder (a symlink)",
                        "Keep project templates in a real folder inside the project; copy them instead of linking.")]
    if not folder.is_dir():
        return []
    diagnostics: list[Diagnostic] = []
    real_folder = folder.resolve()
    for path in sorted(folder.rglob("*")):
        relpath = path.relative_to(root).as_posix()
        if path.is_symlink() and not path.resolve().is_relative_to(real_folder):
            diagnostics.append(finding("TF130", relpath, 1, 1, "template points outside the templates folder (a symlink)",
                                       "Keep templates as files inside templates/; copy the file instead of linking it."))
        elif path.is_file() and path.suffix == ".j2":
            diagnostics.extend(_syntax(path, relpath))
    return diagnostics


def _syntax(path: Path, relpath: str) -> list[Diagnostic]:
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return [finding("TF131", relpath, 1, 1, "template is not readable UTF-8 text", "Re-save the template as UTF-8.")]
    try:
        ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).parse(source)
    except jinja2.TemplateSyntaxError as err:
        line = max(1, min(err.lineno or 1, source.count("\n") + 1))
        return [finding("TF131", relpath, line, 1, f"template syntax error: {err.message}",
                        "Fix the Jinja syntax at this line ({{ value }}, {% if %}…{% endif %}).")]
    return []
