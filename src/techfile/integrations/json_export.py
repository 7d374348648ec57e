"""The whole resolved project as one JSON document, for tools that want techfile's data without its documents.

The document is described by schemas/export.schema.json (`$schema` names it) and is deterministic: keys sorted,
lists in the project's stable order, `indent=2`. Each dataclass becomes an object whose keys are the source keys
(`with`, `from`, not `with_`, `from_`). Prose becomes `{"text": ..., "file": ...}`, `file` null when written inline;
optional values that are absent are null. Every `location` (and each value of `field_locations`) is a
"path:line:col" string, the path relative to the project folder, so a consumer can point back at the source; a
location without a path (an entity not read from a file) is left out. The project's absolute `root` is left out:
it names the machine, not the project.
"""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from typing import Any

from techfile import __version__
from techfile.project import Location, Project

__all__ = ["EXPORT_SCHEMA_ID", "project_json", "project_document"]

EXPORT_SCHEMA_ID = "urn:techfile:schema:v1:export"
LEFT_OUT = frozenset({"root"})


def project_json(project: Project) -> str:
    """The resolved project as JSON text, valid against schemas/export.schema.json."""
    return json.dumps(project_document(project), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def project_document(project: Project) -> dict[str, Any]:
    """The resolved project as plain JSON data: the document `project_json` writes."""
    document = _plain(project)
    return {"$schema": EXPORT_SCHEMA_ID, "techfile_version": __version__,
            **{key: value for key, value in document.items() if key not in LEFT_OUT}}


def _plain(value: Any) -> Any:
    if isinstance(value, Location):
        return str(value) if value.path else None
    if is_dataclass(value) and not isinstance(value, type):
        converted = {}
        for field in fields(value):
            item = _plain(getattr(value, field.name))
            if item is None and field.name == "location":
                continue
            converted[field.name.rstrip("_")] = item
        return converted
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
