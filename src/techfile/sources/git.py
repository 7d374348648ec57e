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


def _git(root: Path, *args: str, strip: bool = True) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() if strip else done.stdout


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
    """One commit that touched a document's sources, with the files it changed among them (status letter A, M, D)."""

    hash: str
    epoch: int
    author: str
    subject: str
    files: tuple[tuple[str, str], ...] = ()

    @property
    def date(self) -> str:
        return _day(self.epoch)


def _day(epoch: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).date().isoformat()


RELEASE_TAG = re.compile(r"^v\d+(\.\d+)*$")
_SEPARATOR = "\x1e"


def within(path: str, paths: tuple[str, ...]) -> bool:
    """Whether project path `path` is one of `paths` or inside one of them ("." is the whole project)."""
    return any(p in (".", "./") or path == p or path.startswith(p.rstrip("/") + "/") for p in paths)


class GitHistory:
    """Commit history and working-tree state of a project folder, each read once (then filtered per document), and
    file contents at a commit read through one `git cat-file --batch` process."""

    def __init__(self, root: Path, ignored: tuple[str, ...] = ()) -> None:
        self.root = root
        self.ignored = ignored  # project paths (the build output) that are never sources
        self._cache: dict[tuple[str, ...], list[Commit]] = {}
        self._log: list[Commit] | None = None
        self._uncommitted: list[str] | None = None
        self.described: dict[tuple[str, str], str] = {}  # (commit, path) → that change in words, made once per build
        self._blobs: dict[tuple[str, str], bytes | None] = {}
        self._reader: subprocess.Popen[bytes] | None = None
        prefix = _git(root, "rev-parse", "--show-prefix")
        self._prefix = prefix or ""
        tags = (_git(root, "for-each-ref", "--format=%(refname:short)%09%(creatordate:unix)", "refs/tags/v*") or "")
        self.release_tag_epochs = {name: int(epoch) for name, _, epoch in (line.partition("\t") for line in tags.splitlines())
                                   if RELEASE_TAG.match(name) and epoch.isdigit()}
        self.release_tags_in_use = bool(self.release_tag_epochs)
        at_head = (_git(root, "tag", "--points-at", "HEAD") or "").split()
        self.release_tag = next((t for t in sorted(at_head) if RELEASE_TAG.match(t)), None)

    @property
    def release_date(self) -> str | None:
        """The day the release tag at HEAD was made, if HEAD carries one."""
        epoch = self.release_tag_epochs.get(self.release_tag) if self.release_tag else None
        return _day(epoch) if epoch is not None else None

    def commits(self, paths: tuple[str, ...]) -> list[Commit]:
        """Commits touching any of `paths` (relative to the project; "." is all of it), oldest first, each with the
        files among `paths` it added, modified or deleted (renames as a deletion and an addition)."""
        if paths not in self._cache:
            commits = []
            for commit in self._project_log():
                files = tuple((status, path) for status, path in commit.files if within(path, paths))
                if files:
                    commits.append(Commit(commit.hash, commit.epoch, commit.author, commit.subject, files))
            self._cache[paths] = commits
        return self._cache[paths]

    def _project_log(self) -> list[Commit]:
        """Every commit that changed a file of the project folder, oldest first, read with one `git log`."""
        if self._log is None:
            listing = _git(self.root, "-c", "core.quotepath=off", "log", "--reverse", "--no-renames", "--relative",
                           "--name-status", f"--format={_SEPARATOR}%H%x1f%ct%x1f%an%x1f%s", "--", ".", strip=False) or ""
            self._log = []
            for block in listing.split(_SEPARATOR)[1:]:
                head, _, names = block.partition("\n")
                sha, epoch, author, subject = head.split("\x1f", 3)
                files = tuple((status[:1], path) for status, _, path in
                              (line.partition("\t") for line in names.splitlines() if "\t" in line))
                self._log.append(Commit(sha, int(epoch), author, subject, files))
        return self._log

    def file_at(self, commit: str, path: str) -> bytes | None:
        """The bytes of project file `path` at `commit`, or None where it did not exist."""
        key = (commit, path)
        if key not in self._blobs:
            self._blobs[key] = self._read_blob(f"{commit}:{self._prefix}{path}")
        return self._blobs[key]

    def _read_blob(self, name: str) -> bytes | None:
        if "\n" in name:
            return None
        try:
            if self._reader is None:
                self._reader = subprocess.Popen(["git", "-C", str(self.root), "cat-file", "--batch"], stdin=subprocess.PIPE,
                                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            assert self._reader.stdin is not None and self._reader.stdout is not None
            self._reader.stdin.write(name.encode("utf-8") + b"\n")
            self._reader.stdin.flush()
            header = self._reader.stdout.readline().split()
            if len(header) != 3 or header[1] != b"blob":
                return None
            data = self._reader.stdout.read(int(header[2]))
            self._reader.stdout.read(1)  # the newline after the contents
            return data
        except (OSError, ValueError, AssertionError):
            return None

    def uncommitted(self, paths: tuple[str, ...]) -> list[str]:
        """The files among `paths` whose working-tree state differs from HEAD (modified, added, deleted, untracked)."""
        if self._uncommitted is None:
            excludes = [f":(exclude){path}" for path in self.ignored]
            listing = _git(self.root, "status", "--porcelain", "-z", "--untracked-files=all", "--no-renames", "--", ".",
                           *excludes, strip=False) or ""
            found = []
            for entry in listing.split("\0"):
                path = entry[3:]
                if path:
                    found.append(path[len(self._prefix):] if path.startswith(self._prefix) else path)
            self._uncommitted = sorted(found)
        return [path for path in self._uncommitted if within(path, paths)]

    def close(self) -> None:
        if self._reader is not None:
            for stream in (self._reader.stdin, self._reader.stdout):
                if stream is not None:
                    stream.close()
            self._reader.wait()
            self._reader = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - nothing to do at interpreter exit
            pass


def git_history(root: Path, ignored: tuple[str, ...] = ()) -> GitHistory | None:
    """The project's history, or None outside a git repository."""
    if _git(root, "rev-parse", "--is-inside-work-tree") != "true" or _git(root, "rev-parse", "--verify", "-q", "HEAD") is None:
        return None
    return GitHistory(root, ignored)
