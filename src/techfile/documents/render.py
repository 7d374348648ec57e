"""Render document templates: sandboxed Jinja with StrictUndefined, every printed value escaped for Markdown.

A project's own templates (DIR/templates/) are code from the project's contributors: they run in Jinja's
immutable sandbox, and the loader reads only files that stay inside their template folder and the project.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import Markup

from techfile.documents.base import Missing
from techfile.documents.markdown import cell, code, inline, prose
from techfile.project import Prose
from techfile.resources import doc_templates_dir
from techfile.validation.prose import LinkPolicy

PROJECT_TEMPLATES = "templates"


class TemplateRefused(jinja2.TemplateError):
    """A template file that resolves outside its template folder or the project (a symlink out)."""


class ConfinedLoader(jinja2.BaseLoader):
    """Load templates from one folder, refusing any file whose real path leaves the folder or `boundary`."""

    def __init__(self, folder: Path, boundary: Path, label: str) -> None:
        self.folder, self.boundary, self.label = folder, boundary, label

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)  # refuses `..`; an absolute name is looked up inside the folder
        path = self.folder.joinpath(*pieces)
        if not path.exists() and not path.is_symlink():
            raise jinja2.TemplateNotFound(template)
        boundary = self.boundary.resolve()
        folder = self.folder.resolve()
        resolved = path.resolve()
        if not folder.is_relative_to(boundary):
            raise TemplateRefused(f"the {self.label} folder points outside the project (a symlink); templates must be "
                                  "files inside the project")
        if not resolved.is_relative_to(folder):
            raise TemplateRefused(f"{self.label}/{'/'.join(pieces)} points outside the {self.label} folder (a symlink); "
                                  "templates must be files inside it")
        if not resolved.is_file():
            raise jinja2.TemplateNotFound(template)
        source = resolved.read_text(encoding="utf-8")
        mtime = resolved.stat().st_mtime
        return source, str(path), lambda: resolved.stat().st_mtime == mtime


class RenderError(Exception):
    """A template failed: names the template file and line."""

    def __init__(self, template: str, line: int, message: str) -> None:
        super().__init__(f"{template}:{line}: {message}")
        self.template, self.line, self.message = template, line, message


def missing_marker(value: Missing) -> Markup:
    hint = f" — {inline(value.hint)}" if value.hint else ""
    return Markup(f"**MISSING:** {inline(value.point)}{hint}")


def _finalize(value: Any) -> Any:
    """Every `{{ value }}` passes here: Markup is trusted, Missing shows a marker, the rest is literal text."""
    if isinstance(value, Markup):
        return value
    if isinstance(value, Missing):
        return missing_marker(value)
    if value is None:
        raise ValueError("a template printed an empty value; give the context a Missing marker instead")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return inline(value)


def _cell_filter(value: Any) -> Markup:
    if isinstance(value, Missing):
        return missing_marker(value)
    if isinstance(value, Prose):
        value = value.text
    if isinstance(value, bool):
        value = "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    return cell(value)


@dataclass
class Renderer:
    """Templates from the project's `templates/` first, then techfile's own `doc_templates/`, in a sandbox.

    `policy` says what links and images prose may keep (set by `render_documents` for a build); the images that
    prose shows are collected in it.
    """

    project_root: Path
    policy: LinkPolicy = field(default_factory=LinkPolicy)

    def __post_init__(self) -> None:
        self.environment = ImmutableSandboxedEnvironment(
            loader=jinja2.ChoiceLoader([
                ConfinedLoader(self.project_root / PROJECT_TEMPLATES, self.project_root, PROJECT_TEMPLATES),
                ConfinedLoader(doc_templates_dir(), doc_templates_dir(), "doc_templates"),
            ]),
            undefined=jinja2.StrictUndefined,
            finalize=_finalize,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.environment.filters.update(prose=self._prose_filter, cell=_cell_filter, text=inline, code=code)

    def _prose_filter(self, value: Prose | str | Missing | None, heading_level: int = 3) -> Markup:
        if isinstance(value, Missing):
            return missing_marker(value)
        if value is None:
            raise ValueError("prose filter got an empty value; give the context a Missing marker instead")
        if isinstance(value, Markup):
            return value
        if not isinstance(value, Prose):  # a text value of the sources is literal text, whatever it looks like
            return inline(value)
        return prose(value.text, heading_level, self.policy)

    def has_template(self, template_name: str) -> bool:
        """Whether the project or techfile has a template of this name."""
        try:
            self.environment.get_template(template_name)
        except jinja2.TemplateNotFound:
            return False
        return True

    def render(self, template_name: str, context: dict[str, Any]) -> str:
        """Render one template; any failure becomes a RenderError naming the template file and line."""
        try:
            template = self.environment.get_template(template_name)
            return template.render(context)
        except jinja2.TemplateSyntaxError as err:
            raise RenderError(self._origin(err.filename, template_name), err.lineno or 1, err.message or str(err)) from None
        except jinja2.TemplateNotFound as err:
            filename, line = self._failing_frame(err, template_name)
            raise RenderError(filename, line, f"template not found: {err.name}") from None
        except TemplateRefused as err:
            filename, line = self._failing_frame(err, template_name)
            raise RenderError(filename, line, f"template refused: {err.message}") from None
        except SecurityError as err:
            filename, line = self._failing_frame(err, template_name)
            raise RenderError(filename, line, f"the template tried something the sandbox forbids ({err}); project "
                                              "templates get data only, no access to Python internals or files") from None
        except Exception as err:  # undefined names, bad filters, empty values: all template bugs
            filename, line = self._failing_frame(err, template_name)
            raise RenderError(filename, line, f"{type(err).__name__}: {err}") from None

    def _origin(self, filename: str | None, fallback: str) -> str:
        if not filename:
            return fallback
        path = Path(filename)
        for base in (self.project_root, doc_templates_dir().parent):
            if path.is_relative_to(base):
                return path.relative_to(base).as_posix()
        return path.name

    def _failing_frame(self, err: Exception, fallback: str) -> tuple[str, int]:
        """The template file and line from the innermost template frame (Jinja rewrites frames to template lines)."""
        traceback = err.__traceback__
        found = (fallback, 1)
        while traceback is not None:
            code = traceback.tb_frame.f_code
            if code.co_filename.endswith(".j2"):
                found = (self._origin(code.co_filename, fallback), traceback.tb_lineno)
            traceback = traceback.tb_next
        return found

