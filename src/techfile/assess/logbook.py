"""The development logbook is append-only and tamper-evident: a hash chain, contiguous sequence numbers, and
(in git) entries that never change once committed."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from techfile.diagnostics import Diagnostic, finding
from techfile.project import LogbookEntry, Project
from techfile.sources.git import changed_since_commit
from techfile.sources.yaml_source import load_yaml_source

LOGBOOK_FOLDER = "logbook"


def entry_sha256(project: Project, entry: LogbookEntry) -> str:
    """The sha256 of an entry's content, as the next entry records it: the entry's YAML data (every key, including its
    own `previous_entry_sha256`) serialised as JSON with keys sorted, no spaces (separators "," and ":") and UTF-8
    text unescaped. Comments, key order, quoting and layout (such as the editor modeline) do not count; every value
    does. This is not the sha256 of the file. The content loaded by `check` is reused while the file is unchanged."""
    path = project.root / entry.location.path
    stamp = file_stamp(path)
    remembered = _CONTENT_SHA256.get(str(path.absolute()))
    if stamp is not None and remembered is not None and remembered[0] == stamp:
        return remembered[1]
    document, _ = load_yaml_source(path, entry.location.path)
    digest = content_sha256(document.data if document else None)
    remember_content(path, stamp, document.data if document else None)
    return digest


def content_sha256(data: object) -> str:
    """The sha256 of an entry's loaded data, as `entry_sha256` defines it."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def remember_content(path: Path, stamp: tuple[int, int, int] | None, data: object) -> None:
    """Record the content hash of an entry just loaded from `path`, whose file had `stamp` before it was read. A file
    changed in the last two seconds is not recorded: a second edit within the clock's granularity could keep
    its size and mtime (git's "racy" case), so only settled files are trusted by their stamp."""
    if stamp is not None and stamp == file_stamp(path) and stamp[1] < time.time_ns() - _SETTLED_NS:
        _CONTENT_SHA256[str(path.absolute())] = (stamp, content_sha256(data))


_CONTENT_SHA256: dict[str, tuple[tuple[int, int, int], str]] = {}
_SETTLED_NS = 2_000_000_000


def file_stamp(path: Path) -> tuple[int, int, int] | None:
    """(size, mtime in ns, inode) of a file, or None when it cannot be read."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns, info.st_ino


def check_logbook(project: Project) -> list[Diagnostic]:
    """Sequence numbers 1..n without gaps or repeats; each entry records the previous one's sha256; committed entries unchanged."""
    entries = project.logbook
    diagnostics: list[Diagnostic] = []
    changed = changed_since_commit(project.root, LOGBOOK_FOLDER)
    committed = _committed_unchanged(project, {path for _, path in changed})
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
                diagnostics.append(_mismatch(project, entry, previous, recorded, actual, committed))
        previous = entry
    for status, path in changed:
        if Path(path).suffix.lower() in (".yaml", ".yml"):
            verb = "deleted" if status == "D" else "changed"
            diagnostics.append(finding("TF703", path, 1, 1, f"committed logbook entry {Path(path).stem!r} was {verb}",
                                       "The logbook is append-only: restore the committed entry (`git checkout -- FILE`) and add a new one."))
    return diagnostics


def _committed_unchanged(project: Project, changed: set[str]) -> set[str]:
    """Ids of logbook entries that are committed in git and unchanged in the working tree."""
    from techfile.sources.git import tracked_files

    tracked = tracked_files(project.root, LOGBOOK_FOLDER)
    return {e.id for e in project.logbook if e.location.path in tracked and e.location.path not in changed}


def _mismatch(project: Project, entry: LogbookEntry, previous: LogbookEntry, recorded: str, actual: str,
              committed: set[str]) -> Diagnostic:
    """A recorded hash that differs: a wrong record (TF704) when the predecessor is provably unchanged or the record is
    the file's sha256, else an edit, reordering or deletion (TF701)."""
    where = entry.field_locations.get("previous_entry_sha256", entry.location)
    file_hash = hashlib.sha256((project.root / previous.location.path).read_bytes()).hexdigest()
    if recorded == file_hash:
        return finding("TF704", where.path, where.line, where.col,
                       f"logbook entry {entry.id!r} records the sha256 of the file {previous.location.path}, but the chain "
                       f"uses the content hash of {previous.id!r}: record {actual}",
                       "Set `previous_entry_sha256` to that value, or run `techfile logbook append` to fill it in.")
    if previous.id in committed and entry.id not in committed:
        return finding("TF704", where.path, where.line, where.col,
                       f"logbook entry {entry.id!r} records a wrong sha256 for {previous.id!r}, which is unchanged since "
                       f"it was committed: record {actual}",
                       "Set `previous_entry_sha256` to that value, or run `techfile logbook append` to fill it in.")
    return finding("TF701", previous.location.path, previous.location.line, previous.location.col,
                   f"logbook entry {previous.id!r} does not match the sha256 that {entry.id!r} recorded for it: "
                   "it was edited, or entries were reordered or deleted",
                   f"{entry.id} records {recorded[:12]}…, {previous.id} now has {actual[:12]}…. Restore the entry from version control.")
