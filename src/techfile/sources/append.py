"""`techfile logbook append`: put a new entry at the end of the logbook, chained to the last one.

The entry's text is kept as written; only `sequence` and `previous_entry_sha256` are set (replaced where present,
added at the end otherwise), so comments and layout survive."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from techfile.assess.logbook import LOGBOOK_FOLDER, entry_sha256
from techfile.sources.yaml_source import load_yaml_source


class AppendError(Exception):
    """The entry cannot be appended; the message says why. Nothing was written."""


@dataclass(frozen=True)
class Appended:
    path: Path
    entry_id: str
    sequence: int
    previous: str | None  # id of the entry it is chained to


def append_logbook_entry(directory: str | Path, entry_file: str | Path) -> Appended:
    """Chain `entry_file` after the project's last logbook entry and write it to logbook/<id>.yaml (or fill in the
    chain of an entry already placed in logbook/ but not yet chained)."""
    from techfile.loading import load_project

    root, source = Path(directory), Path(entry_file)
    document, findings = load_yaml_source(source, source.as_posix())
    if document is None or findings:
        raise AppendError(f"{source.as_posix()}: not a readable YAML entry" + (f": {findings[0].message}" if findings else ""))
    entry_id = document.data.get("id")
    if not isinstance(entry_id, str) or not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", entry_id):
        raise AppendError(f"{source.as_posix()}: the entry needs an `id` (lowercase letters, digits, '.', '_', '-')")
    target = root / LOGBOOK_FOLDER / f"{entry_id}.yaml"
    in_place = target.exists() and target.resolve() == source.resolve()
    if target.exists() and not in_place:
        raise AppendError(f"{target.as_posix()} exists: entries are never overwritten; give the new entry another id")
    project = load_project(root).project
    earlier = [e for e in project.logbook if e.id != entry_id]
    last = earlier[-1] if earlier else None
    sequence = last.sequence + 1 if last else 1
    text = source.read_text(encoding="utf-8")
    text = _set_key(text, "sequence", str(sequence))
    text = _set_key(text, "previous_entry_sha256", f'"{entry_sha256(project, last)}"' if last else None)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)
    return Appended(target, entry_id, sequence, last.id if last else None)


def _set_key(text: str, key: str, value: str | None) -> str:
    """`text` with the top-level `key` set to `value` (or removed, for None)."""
    pattern = re.compile(rf"^{re.escape(key)}:.*$\n?", re.MULTILINE)
    if value is None:
        return pattern.sub("", text)
    line = f"{key}: {value}\n"
    if pattern.search(text):
        return pattern.sub(line, text, count=1)
    return (text if text.endswith("\n") or not text else text + "\n") + line
