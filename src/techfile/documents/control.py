"""Document control of one document: its own revision (the commits that changed its sources), its approval, the
system changes that concern it, and its revision history in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from techfile.documents.base import BuildInfo, DocumentControl
from techfile.documents.lists import bounded_ids
from techfile.project import Change, Project
from techfile.sources.git import Commit, GitHistory, within
from techfile.sources.kinds import SOURCE_KINDS
from techfile.sources.yaml_source import MAX_FILE_BYTES, yaml_data

MAX_REVISIONS_SHOWN = 25  # newer first; the older ones are counted in one closing row, never dropped silently


@dataclass(frozen=True)
class Revision:
    """One revision of a document: a commit that changed its sources (or the uncommitted edits), in plain words."""

    number: str
    date: str
    commit: str
    author: str
    changes: str


@dataclass(frozen=True)
class Approval:
    """Who approved the document's current revision and when, or why it is not approved."""

    approver: str | None
    date: str | None
    reason: str = ""


def document_revisions(project: Project, build: BuildInfo, sources: tuple[str, ...]) -> list[Revision]:
    """The document's revisions, newest first: one per commit that changed its sources, numbered from 1, with the
    uncommitted edits (if any) as the next number, a draft; empty outside git."""
    history = build.history
    if history is None:
        return []
    commits = list(enumerate(history.commits(sources), start=1))
    pending = history.uncommitted(sources)
    shown = commits[-(MAX_REVISIONS_SHOWN - 1 - bool(pending)):] if len(commits) + bool(pending) > MAX_REVISIONS_SHOWN else commits
    older = commits[:len(commits) - len(shown)]
    revisions = [Revision(str(number), commit.date, commit.hash[:12], commit.author, _described(history, commit))
                 for number, commit in reversed(shown)]
    if pending:
        revisions.insert(0, Revision(f"{len(commits) + 1} (draft)", build.date, "uncommitted", "—",
                                     _in_words([_working_change(project.root, history, path) for path in pending])))
    if older:
        revisions.append(Revision(f"{older[0][0]}–{older[-1][0]}", f"{older[0][1].date} to {older[-1][1].date}", "—", "—",
                                  f"{len(older)} earlier revisions, not listed here: `git log` of the document's sources "
                                  "shows each"))
    return revisions


def _described(history: GitHistory, commit: Commit) -> str:
    """What one commit changed in the document's sources (each file described once per build)."""
    changes = []
    for status, path in commit.files:
        key = (commit.hash, path)
        if key not in history.described:
            history.described[key] = _file_change(path, status, history.file_at(f"{commit.hash}^", path),
                                                  history.file_at(commit.hash, path))
        changes.append(history.described[key])
    return _in_words(changes) or "no file of the document's sources changed (a merge)"


def _working_change(root: Path, history: GitHistory, path: str) -> FileChange:
    """What the uncommitted edit of `path` changed, against the last commit."""
    before = history.file_at("HEAD", path)
    file = root / path
    try:
        after = file.read_bytes() if file.is_file() and file.stat().st_size <= MAX_FILE_BYTES else None
    except OSError:
        after = None
    status = "A" if before is None else "D" if after is None else "M"
    return _file_change(path, status, before, after)


@dataclass(frozen=True)
class FileChange:
    """One file's change: what the file holds ("model", "nodule-detector") and what changed ("added", or the
    fields: "caveats and results revised")."""

    kind: str
    name: str
    change: str

    def words(self, names: str | None = None) -> str:
        subject = " ".join(p for p in (self.kind, self.name if names is None else names) if p)
        return f"{subject} {self.change}" if self.change in _VERBS else f"{subject}: {self.change}"


_VERBS = ("added", "removed", "revised")


def _in_words(changes: list[FileChange]) -> str:
    """The changes in words, one clause per file; files of one kind with the same change share a clause, naming a few
    of them and counting the rest (a commit that touches every control stays one readable cell)."""
    groups: dict[tuple[str, str], list[FileChange]] = {}
    for change in changes:
        groups.setdefault((change.kind, change.change), []).append(change)
    clauses = []
    for (kind, _), members in groups.items():
        if len(members) == 1 or not kind:
            clauses.extend(m.words() for m in members)
        else:
            names = bounded_ids([m.name for m in members], "the commit")
            clauses.append(FileChange(f"{len(members)} {kind}s", "", members[0].change).words(names))
    return "; ".join(clauses)


def _file_change(path: str, status: str, before: bytes | None, after: bytes | None) -> FileChange:
    """One file's change: "model nodule-detector: caveats and results revised; limitations added"."""
    is_yaml = path.endswith((".yaml", ".yml"))
    old = yaml_data(before, path) if is_yaml and before is not None else None
    new = yaml_data(after, path) if is_yaml and after is not None else None
    kind, name = _label(path, new if isinstance(new, dict) else old)
    if status == "A" or before is None:
        return FileChange(kind, name, "added")
    if status == "D" or after is None:
        return FileChange(kind, name, "removed")
    if not isinstance(old, dict) or not isinstance(new, dict):
        return FileChange(kind, name, "revised")
    revised = [k for k in new if k in old and old[k] != new[k]]
    added = [k for k in new if k not in old]
    removed = [k for k in old if k not in new]
    parts = [f"{_listed(keys)} {verb}" for keys, verb in ((revised, "revised"), (added, "added"), (removed, "removed")) if keys]
    return FileChange(kind, name, "; ".join(parts) if parts else "layout or comments only, no value changed")


def _label(path: str, data: Any) -> tuple[str, str]:
    """The kind and name of what a file holds: ("model", "nodule-detector"), ("system", ""); ("text", path) for prose."""
    kind = next((k for k in SOURCE_KINDS if k.location == path or (k.folder and within(path, (k.location,)))), None)
    if kind is None or not path.endswith((".yaml", ".yml")):
        return "text", path
    if not kind.folder:
        return kind.label, ""
    entity = data.get("id") if isinstance(data, dict) else None
    return kind.label, entity if isinstance(entity, str) else path


def _listed(keys: list[str]) -> str:
    words = [key.replace("_", " ") for key in keys]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def document_approval(project: Project, build: BuildInfo, revisions: list[Revision]) -> Approval:
    """The approval that covers the document's current revision. With release tags in use, a build of a tagged
    commit is approved on the tag's date; otherwise techfile.yaml's approval counts, unless a committed revision of the
    document's sources is dated after it (the approval could not have seen that content)."""
    assert project.settings is not None
    control = project.settings.document_control
    history = build.history
    if history is not None and history.release_tags_in_use:
        if history.release_tag:
            return Approval(control.approver, history.release_date)
        return Approval(None, None, "not approved: the build is not of a release tag (vX.Y.Z)")
    if control.status != "approved":
        return Approval(None, None, "not approved: techfile.yaml records the documentation as a draft")
    committed = [r for r in revisions if r.commit not in ("uncommitted", "—")]
    if committed and committed[0].date > control.date:
        return Approval(None, None, f"not approved: revision {committed[0].number} of {committed[0].date} is later "
                                    f"than the approval of {control.date} in techfile.yaml")
    return Approval(control.approver, control.date)


def document_changes(project: Project, sources: tuple[str, ...]) -> list[Change]:
    """The system changes (changes/) that concern the document, newest first: those that affect an entity of its
    sources, those that name no entity, and every change for a document of the whole system."""
    whole = "." in sources
    ids = {e.id for e in project.entities() if within(e.location.path, sources)}
    concerned = [c for c in project.changes if whole or not c.affects or ids & set(c.affects)]
    return sorted(concerned, key=lambda c: (c.date, c.id), reverse=True)


def document_control(project: Project, build: BuildInfo, doc_id: str, title: str, status: str,
                     revisions: list[Revision], approval: Approval) -> DocumentControl:
    """The cover facts of one document: its own revision, date and approval, and the build it comes from."""
    assert project.settings is not None
    control = project.settings.document_control
    commit = (build.commit[:12] + (" (uncommitted changes)" if build.dirty else "")) if build.commit else "not in git"
    current = revisions[0] if revisions and "–" not in revisions[0].number else None
    if build.history is None:
        version, date = control.version, build.date
    else:
        version = current.number if current else "none (its sources were never committed)"
        date = current.date if current else build.date
    approved = status == "approved" and approval.date is not None
    reviewed_on = control.reviewed_on or "not recorded"
    if build.history is not None and control.reviewed_on and control.reviewed_on < date:
        reviewed_on += f" (before revision {version} of {date})"
    return DocumentControl(
        id=doc_id, title=title, version=version, date=date, status=status, owner=control.owner,
        approver=(approval.approver or control.approver) if approved else control.approver, commit=commit,
        confidentiality=control.confidentiality or "not stated",
        approved_on=approval.date if approved and approval.date else (approval.reason or "not approved (draft)"),
        reviewer=control.reviewer or "not recorded", reviewed_on=reviewed_on if control.reviewer else "—",
        set_version=control.version, built_on=build.date,
    )
