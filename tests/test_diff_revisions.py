"""Revisions given to `techfile diff` are read as revisions, never as options of git (real repositories)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from techfile.sources.git import RevisionError, resolve_commit

from conftest import run_cli

ENV = {"GIT_AUTHOR_NAME": "Ada Reviewer", "GIT_AUTHOR_EMAIL": "ada@example.org", "GIT_COMMITTER_NAME": "Ada Reviewer",
       "GIT_COMMITTER_EMAIL": "ada@example.org", "GIT_AUTHOR_DATE": "2026-03-04T05:06:07Z",
       "GIT_COMMITTER_DATE": "2026-03-04T05:06:07Z", "PATH": "/usr/bin:/bin"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=ENV).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    assert run_cli("init", str(project), "--template", "minimal").exit_code == 0
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "Initial sources")
    git(project, "tag", "v1.0")
    return project


@pytest.mark.parametrize("position", ["old", "new"])
def test_an_option_given_as_a_revision_writes_nothing(repo: Path, tmp_path: Path, position: str) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("must stay as it is\n", encoding="utf-8")
    created = tmp_path / "created.tar"
    for target in (victim, created):
        revisions = [f"--output={target}"] if position == "old" else ["HEAD", f"--output={target}"]
        result = run_cli("diff", "-C", str(repo), "--summary-only", "--", *revisions)
        assert result.exit_code == 2, result.output
        assert f"'--output={target}' is not a revision" in result.output
        assert "Traceback" not in result.output
    assert victim.read_text(encoding="utf-8") == "must stay as it is\n"
    assert not created.exists()


@pytest.mark.parametrize("revision", ["--remote=https://example.org/repo.git", "--exec=touch pwned", "-o", "HEAD\nx",
                                      "HEAD\0", "", "no-such-revision", "HEAD:techfile.yaml", "v9.9"])
def test_what_is_not_a_commit_is_refused(repo: Path, revision: str) -> None:
    with pytest.raises(RevisionError):
        resolve_commit(repo, revision)
    assert not (repo / "pwned").exists()


def test_revisions_that_name_commits_resolve_to_their_hash(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    for revision in ("HEAD", "v1.0", head[:10], head, "main" if git(repo, "branch", "--show-current").strip() == "main"
                     else git(repo, "branch", "--show-current").strip()):
        assert resolve_commit(repo, revision) == head
    result = run_cli("diff", "v1.0", "HEAD", "-C", str(repo), "--summary-only")
    assert result.exit_code == 0, result.output


def test_outside_git_a_revision_is_a_clear_error(tmp_path: Path) -> None:
    project = tmp_path / "project"
    assert run_cli("init", str(project), "--template", "minimal").exit_code == 0
    result = run_cli("diff", "HEAD", "-C", str(project), "--summary-only")
    assert result.exit_code == 2 and "is not inside a git repository" in result.output
