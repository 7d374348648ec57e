"""What git knows about the project: the commit it is at, whether it has uncommitted changes, when it last changed."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

GIT_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class GitState:
    """The project's git state; all None/False outside a repository."""

    commit: str | None = None
    dirty: bool = False
    last_change_epoch: int | None = None


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(root: Path, ignored: tuple[str, ...] = ()) -> GitState:
    """The commit, dirtiness (ignoring `ignored` paths inside the project) and last change time of the project folder."""
    if _git(root, "rev-parse", "--is-inside-work-tree") != "true":
        return GitState()
    commit = _git(root, "rev-parse", "HEAD")
    excludes = [f":(exclude){path}" for path in ignored]
    status = _git(root, "status", "--porcelain", "--untracked-files=all", "--", ".", *excludes)
    last = _git(root, "log", "-1", "--format=%ct", "--", ".")
    return GitState(commit=commit, dirty=bool(status), last_change_epoch=int(last) if last else None)


class RevisionError(Exception):
    """A revision given by the user does not name a commit of the repository."""


def resolve_commit(root: Path, revision: str) -> str:
    """The full hash of the commit `revision` names, read by git as a revision only, never as an option
    (`git rev-parse --verify --end-of-options REV^{commit}`). Raises RevisionError."""
    shown = revision if len(revision) <= 200 else revision[:196] + "…"
    if not revision or revision.startswith("-") or "\0" in revision or any(c in revision for c in "\n\r"):
        raise RevisionError(f"{shown!r} is not a revision: give a commit, tag or branch name such as HEAD~1 or v1.0")
    if _git(root, "rev-parse", "--is-inside-work-tree") != "true":
        raise RevisionError(f"{root.as_posix()} is not inside a git repository, so it has no revision {shown!r}")
    commit = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}")
    if not commit or not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", commit):
        raise RevisionError(f"unknown revision {shown!r}: no commit of the repository has this name")
    return commit


def changed_since_commit(root: Path, folder: str) -> list[tuple[str, str]]:
    """(status letter, path relative to `root`) of files under `folder` that differ from HEAD: M modified, D deleted.
    Empty outside git or before the first commit (one git call: `check` stays fast)."""
    listing = _git(root, "diff", "--name-status", "--no-renames", "--diff-filter=MD", "--relative", "HEAD", "--", folder) or ""
    changes = []
    for line in listing.splitlines():
        status, _, path = line.partition("\t")
        changes.append((status[:1], path))
    return changes


def tracked_files(root: Path, folder: str) -> set[str]:
    """Paths (relative to `root`) of the files under `folder` that git tracks; empty outside git."""
    return {line for line in (_git(root, "ls-files", "--", folder) or "").splitlines() if line}


def last_change_epoch(root: Path) -> int | None:
    """When the last commit that touched the project folder was made; None outside git or before any commit."""
    last = _git(root, "log", "-1", "--format=%ct", "--", ".")
    return int(last) if last and last.isdigit() else None


@dataclass(frozen=True)
class Commit:
    """One commit that touched a document's sources."""

    hash: str
    epoch: int
    author: str
    subject: str

    @property
    def date(self) -> str:
        import datetime as dt

        return dt.datetime.fromtimestamp(self.epoch, tz=dt.UTC).date().isoformat()


RELEASE_TAG = re.compile(r"^v\d+(\.\d+)*$")


class GitHistory:
    """Commit history of a project folder, read once per set of paths."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[tuple[str, ...], list[Commit]] = {}
        tags = (_git(root, "tag", "--list", "v*") or "").split()
        self.release_tags_in_use = any(RELEASE_TAG.match(t) for t in tags)
        at_head = (_git(root, "tag", "--points-at", "HEAD") or "").split()
        self.release_tag = next((t for t in sorted(at_head) if RELEASE_TAG.match(t)), None)

    def commits(self, paths: tuple[str, ...]) -> list[Commit]:
        """Commits touching any of `paths` (relative to the project), oldest first."""
        if paths not in self._cache:
            listing = _git(self.root, "log", "--reverse", "--format=%H%x1f%ct%x1f%an%x1f%s", "--", *paths) or ""
            commits = []
            for line in listing.splitlines():
                sha, epoch, author, subject = line.split("\x1f", 3)
                commits.append(Commit(sha, int(epoch), author, subject))
            self._cache[paths] = commits
        return self._cache[paths]


def git_history(root: Path) -> GitHistory | None:
    """The project's history, or None outside a git repository."""
    if _git(root, "rev-parse", "--is-inside-work-tree") != "true" or _git(root, "rev-parse", "--verify", "-q", "HEAD") is None:
        return None
    return GitHistory(root)
