"""Writing a new logbook entry: its id and sequence after the last one, the editor modeline the project uses,
and a check against the logbook schema before anything is written. Used by every command that appends one."""

from __future__ import annotations

import re
from typing import Any

from techfile.project import Project

MODELINE = "# yaml-language-server: $schema=../schemas/logbook_entry.schema.json"
_NUMBERED_ID = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")


def next_entry_id(project: Project, fallback: str) -> str:
    """`lb-0007` after `lb-0006` when every entry id is one prefix and a number; else `fallback`."""
    numbered = [_NUMBERED_ID.match(e.id) for e in project.logbook]
    if numbered and all(numbered):
        prefixes = {m.group("prefix") for m in numbered if m}
        if len(prefixes) == 1:
            width = max(len(m.group("number")) for m in numbered if m)
            return f"{prefixes.pop()}{max(int(m.group('number')) for m in numbered if m) + 1:0{width}d}"
    return fallback


def entry_modeline(project: Project) -> str:
    """The schema modeline of the last entry (it knows where the project keeps its schemas), else the default."""
    if project.logbook:
        path = project.root / project.logbook[-1].location.path
        first = path.read_text(encoding="utf-8").split("\n", 1)[0].rstrip("\r")
        if first.startswith("# yaml-language-server:"):
            return first
    return MODELINE


def entry_problems(entry: dict[str, Any]) -> list[str]:
    """What keeps `entry` from fitting the logbook schema, one line each (empty when it fits)."""
    from jsonschema import Draft202012Validator

    from techfile.validation.schema import load_schema

    validator = Draft202012Validator(load_schema("logbook_entry"), format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{'.'.join(map(str, e.absolute_path)) or 'entry'}: {e.message}" for e in validator.iter_errors(entry)]
