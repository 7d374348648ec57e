"""Project templates are code from contributors: they run in Jinja's sandbox, read only files inside the project's
templates folder, and a template that tries to escape fails the build with a clear error and runs nothing."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from techfile.documents.render import Renderer, RenderError
from techfile.loading import load_project

from conftest import SAMPLE, run_cli

TEMPLATE = "logbook/logbook.md.j2"

# Classic server-side template injection escapes: reach a function's globals, the os module, object's subclasses,
# the template context, or mutate data. Each would create the canary file if it ran.
ESCAPES = {
    "cycler-globals": "{{ cycler.__init__.__globals__.os.system('touch CANARY') }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'].popen('touch CANARY').read() }}",
    "joiner-globals": "{{ joiner.__init__.__globals__['os'].system('touch CANARY') }}",
    "namespace-globals": "{{ namespace.__init__.__globals__['os'].system('touch CANARY') }}",
    "attr-filter": "{{ (cycler|attr('__init__')|attr('__globals__'))['os'].system('touch CANARY') }}",
    "subclasses": "{% for c in ''.__class__.__mro__[1].__subclasses__() %}{% if c.__name__ == 'Popen' %}"
                  "{{ c(['touch', 'CANARY']) }}{% endif %}{% endfor %}",
    "template-context": "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.system('touch CANARY') }}",
    "format-string": "{{ '{0.__init__.__globals__[os].system}'.format(cycler) }}",
    "mutate-context": "{% set entries = entries.append(1) %}{{ entries }}",
    "getattr-string": "{{ ''['__class__'] }}",
}


def _project(tmp_path: Path) -> Path:
    import shutil

    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("build"))
    return project


def _render(project: Path) -> str:
    loaded = load_project(project)
    from techfile.documents import render_documents
    from techfile.publish.build import build_info

    documents = render_documents(loaded.project, build_info(loaded.project, project / "build"), Renderer(project),
                                 {"logbook"})
    return "\n".join(d.markdown for d in documents)


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_sandbox_escape_fails_and_runs_nothing(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    canary = tmp_path / "CANARY"
    monkeypatch.chdir(tmp_path)
    template = project / "templates" / TEMPLATE
    template.parent.mkdir(parents=True)
    template.write_text("# {{ doc.title }}\n\n" + ESCAPES[name].replace("CANARY", str(canary)) + "\n", encoding="utf-8")
    with pytest.raises(RenderError) as failure:
        _render(project)
    assert failure.value.template == f"templates/{TEMPLATE}" and failure.value.line == 3
    assert not canary.exists()


def test_build_with_an_escaping_template_fails_with_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    canary = tmp_path / "CANARY"
    template = project / "templates" / TEMPLATE
    template.parent.mkdir(parents=True)
    template.write_text("# {{ doc.title }}\n\n" + ESCAPES["cycler-globals"].replace("CANARY", str(canary)) + "\n",
                        encoding="utf-8")
    result = run_cli("build", str(project), "--only", "logbook", "--no-pdf")
    assert result.exit_code == 3
    assert f"templates/{TEMPLATE}:3" in result.output and "sandbox forbids" in result.output
    assert "Traceback" not in result.output and not canary.exists() and not (project / "build").exists()


def test_include_of_an_absolute_path_or_parent_folder_reads_nothing(tmp_path: Path) -> None:
    project = _project(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET\n", encoding="utf-8")
    template = project / "templates" / TEMPLATE
    template.parent.mkdir(parents=True)
    for include in (str(secret), "/etc/passwd", "../../secret.txt", "../../../secret.txt"):
        template.write_text("# {{ doc.title }}\n\n{% include '" + include + "' %}\n", encoding="utf-8")
        with pytest.raises(RenderError) as failure:
            _render(project)
        assert "template not found" in failure.value.message and failure.value.line == 3, include
        assert "TOP SECRET" not in failure.value.message and "root:" not in failure.value.message


def test_template_symlinked_out_of_the_project_is_refused(tmp_path: Path) -> None:
    project = _project(tmp_path)
    outside = tmp_path / "outside.md.j2"
    outside.write_text("# {{ doc.title }}\n\nOUTSIDE TEMPLATE\n", encoding="utf-8")
    template = project / "templates" / TEMPLATE
    template.parent.mkdir(parents=True)
    os.symlink(outside, template)
    with pytest.raises(RenderError) as failure:
        _render(project)
    assert "points outside the templates folder" in failure.value.message
    check = run_cli("check", str(project))
    assert check.exit_code == 1 and f"templates/{TEMPLATE}:1:1: TF130 error" in check.output


def test_included_file_symlinked_out_is_refused(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (tmp_path / "secret.txt").write_text("TOP SECRET\n", encoding="utf-8")
    (project / "templates" / "logbook").mkdir(parents=True)
    os.symlink(tmp_path / "secret.txt", project / "templates" / "logbook" / "part.txt")
    (project / "templates" / TEMPLATE).write_text("# {{ doc.title }}\n\n{% include 'logbook/part.txt' %}\n", encoding="utf-8")
    with pytest.raises(RenderError) as failure:
        _render(project)
    assert "points outside" in failure.value.message and "TOP SECRET" not in failure.value.message
    assert "templates/logbook/part.txt:1:1: TF130" in run_cli("check", str(project)).output


def test_templates_folder_symlinked_out_is_refused(tmp_path: Path) -> None:
    project = _project(tmp_path)
    elsewhere = tmp_path / "elsewhere" / "logbook"
    elsewhere.mkdir(parents=True)
    (elsewhere / "logbook.md.j2").write_text("# {{ doc.title }}\n\nFOREIGN\n", encoding="utf-8")
    os.symlink(tmp_path / "elsewhere", project / "templates")
    with pytest.raises(RenderError) as failure:
        _render(project)
    assert "templates folder points outside the project" in failure.value.message
    assert "templates:1:1: TF130 error" in run_cli("check", str(project)).output


def test_symlink_inside_the_templates_folder_is_fine(tmp_path: Path) -> None:
    project = _project(tmp_path)
    folder = project / "templates" / "logbook"
    folder.mkdir(parents=True)
    (folder / "mine.md.j2").write_text("# {{ doc.title }}\n\nMY OWN LOGBOOK\n", encoding="utf-8")
    os.symlink("mine.md.j2", folder / "logbook.md.j2")
    assert "MY OWN LOGBOOK" in _render(project)
    assert run_cli("check", str(project)).exit_code == 0


def test_template_syntax_error_is_reported_by_check(tmp_path: Path) -> None:
    project = _project(tmp_path)
    template = project / "templates" / TEMPLATE
    template.parent.mkdir(parents=True)
    template.write_text("# {{ doc.title }}\n\n{% for e in entries %}\n{{ e.id }\n", encoding="utf-8")
    result = run_cli("check", str(project))
    assert result.exit_code == 1
    assert f"templates/{TEMPLATE}:4:1: TF131 error: template syntax error" in result.output


def test_values_never_run_as_templates(tmp_path: Path) -> None:
    """A source value that looks like Jinja is printed as written, in a project template as in techfile's own."""
    project = _project(tmp_path)
    entry = next((project / "logbook").glob("*.yaml"))
    text = entry.read_text(encoding="utf-8")
    template = project / "templates" / TEMPLATE
    template.parent.mkdir(parents=True)
    template.write_text("# {{ doc.title }}\n\n{% for e in entries %}{% if e.notes %}{{ e.notes|prose }}{% endif %}\n"
                        "{% endfor %}\n", encoding="utf-8")
    assert "notes:" in text
    import yaml

    data = yaml.safe_load(text)
    data["notes"] = "{{ 7*7 }} {% if true %}ran{% endif %} {{ cycler.__init__.__globals__ }}"
    entry.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    markdown = _render(project)
    shown = re.sub(r"\\([{}%_*])", r"\1", markdown)  # Markdown escapes, which the site and the PDF show as the bare characters
    assert "{{ 7*7 }} {% if true %}ran{% endif %} {{ cycler.__init__.__globals__ }}" in shown
    assert "49 ran" not in shown and "49 {%" not in shown  # evaluated, it would read "49 ran …"
