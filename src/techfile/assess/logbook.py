"""The development logbook is append-only and tamper-evident: a hash chain, contiguous sequence numbers, and
(in git) entries that never change once committed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from techfile.diagnostics import Diagnostic, finding
from techfile.project import LogbookEntry, Project
from techfile.sources.git import changed_since_commit
from techfile.sources.yaml_source import load_yaml_source

LOGBOOK_FOLDER = "logbook"


def entry_sha256(project: Project, entry: LogbookEntry) -> str:
    """The sha256 of an entry's content, as the next entry records it: its data as canonical JSON, so that comments
    and formatting (such as the editor modeline) do not count, and every value does."""
    document, _ = load_yaml_source(project.root / entry.location.path, entry.location.path)
    data = document.data if document else None
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_logbook(project: Project) -> list[Diagnostic]:
    """Sequence numbers 1..n without gaps or repeats; each entry records the previous one's sha256; committed entries unchanged."""
    entries = project.logbook
    diagnostics: list[Diagnostic] = []
    previous: LogbookEntry | None = None
    for expected, entry in enumerate(entries, start=1):
        where = entry.location
        if entry.sequence != expected:
            after = f" after {previous.id!r}" if previous else ""
            problem = "repeats a sequence number" if previous and entry.sequence == previous.sequence else \
                f"has sequence {entry.sequence} where {expected} is expected{after}: an entry is missing or out of order"
            diagnostics.append(finding("TF702", where.path, where.line, where.col, f"logbook entry {entry.id!r} {problem}",
                                       "Entries are append-only: never renumber, reorder or delete them; add a new entry instead."))
        recorded = entry.previous_entry_sha256
        if previous is None:
            if recorded:
                diagnostics.append(finding("TF701", where.path, where.line, where.col,
                                           f"logbook entry {entry.id!r} is the first entry but records a previous entry's sha256",
                                           "An entry that was before it may have been deleted; restore it from version control."))
        else:
            actual = entry_sha256(project, previous)
            if not recorded:
                diagnostics.append(finding("TF701", where.path, where.line, where.col,
                                           f"logbook entry {entry.id!r} does not record the sha256 of {previous.id!r}",
                                           f"Add `previous_entry_sha256: {actual}` to chain it."))
            elif recorded != actual:
                diagnostics.append(finding(
                    "TF701", previous.location.path, previous.location.line, previous.location.col,
                    f"logbook entry {previous.id!r} does not match the sha256 that {entry.id!r} recorded for it: "
                    "it was edited, or entries were reordered or deleted",
                    f"{entry.id} records {recorded[:12]}…, {previous.id} now has {actual[:12]}…. Restore the entry from version control."))
        previous = entry
    for status, path in changed_since_commit(project.root, LOGBOOK_FOLDER):
        if Path(path).suffix.lower() in (".yaml", ".yml"):
            verb = "deleted" if status == "D" else "changed"
            diagnostics.append(finding("TF703", path, 1, 1, f"committed logbook entry {Path(path).stem!r} was {verb}",
                                       "The logbook is append-only: restore the committed entry (`git checkout -- FILE`) and add a new one."))
    return diagnostics
