"""`techfile init`: a new project from one of the shipped templates, with the schemas beside it for editors."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from techfile.resources import shipped_dir
from techfile.schemas import write_schemas

TEMPLATES = {
    "medical": "EU AI Act high-risk system: AI diagnostic support for chest radiographs (the sample project)",
    "fraud": "SOC 2 Type I readiness of a fraud-detection service",
    "credit": "EU AI Act Annex III 5(b): a bank's consumer-credit scoring, with FRIA, monitoring plan and registration",
    "gpai": "EU AI Act Art. 53: a small open-weights language model, with Annex XI/XII documentation, copyright policy and training-content summary",
    "sentiment": "NIST AI RMF risk assessment of a sentiment model for an internal dashboard",
    "minimal": "the smallest valid project",
}
SKIPPED = {"build", "schemas", ".git", "__pycache__"}
_MODELINE = re.compile(r"^# yaml-language-server: \$schema=\S*?([\w.-]+\.schema\.json)\s*$", re.MULTILINE)


class ScaffoldError(Exception):
    """The project cannot be created as asked (unknown template, files in the way)."""


@dataclass(frozen=True)
class Scaffolded:
    directory: Path
    files: list[str]


def template_dir(name: str) -> Path:
    if name not in TEMPLATES:
        raise ScaffoldError(f"unknown template {name!r}; choose from {', '.join(TEMPLATES)}")
    installed = shipped_dir("project_templates") / name
    if installed.is_dir():
        return installed
    if name == "medical":  # in a source checkout the medical template is the sample project itself
        return shipped_dir("sample_project")
    raise ScaffoldError(f"template {name!r} is missing from this installation")


def template_files(source: Path) -> list[Path]:
    """The files of a template, relative to it, in a stable order."""
    return sorted(p.relative_to(source) for p in source.rglob("*")
                  if p.is_file() and not SKIPPED & set(p.relative_to(source).parts))


def scaffold(directory: str | Path, template: str) -> Scaffolded:
    """Copy the template into `directory` (refusing to overwrite anything), point modelines at its schemas/ and write them."""
    target = Path(directory)
    source = template_dir(template)
    files = template_files(source)
    planned = [*files, Path(".gitignore"), *(Path("schemas") / p.name for p in sorted(shipped_dir("schemas").glob("*.json")))]
    clashes = [p.as_posix() for p in planned if (target / p).exists()]
    if clashes:
        raise ScaffoldError(f"{target.as_posix()} already has {', '.join(clashes[:5])}{' …' if len(clashes) > 5 else ''}; "
                            "nothing was written (init never overwrites files)")
    for relative in files:
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        data = (source / relative).read_bytes()
        if relative.suffix in (".yaml", ".yml"):
            schemas = Path(os.path.relpath(target / "schemas", destination.parent)).as_posix()
            data = _MODELINE.sub(rf"# yaml-language-server: $schema={schemas}/\1", data.decode("utf-8")).encode("utf-8")
        destination.write_bytes(data)
    target.mkdir(parents=True, exist_ok=True)
    (target / ".gitignore").write_text("build/\n", encoding="utf-8")
    write_schemas(target / "schemas")
    return Scaffolded(target, [p.as_posix() for p in planned])
