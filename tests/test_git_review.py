"""Git-native review: revision history and approval from git, and `techfile diff` between revisions (real repositories)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from techfile.publish.build import build

from conftest import run_cli


def git(repo: Path, *args: str, date: str = "2026-03-04T05:06:07Z") -> str:
    env = {"GIT_AUTHOR_NAME": "Ada Reviewer", "GIT_AUTHOR_EMAIL": "ada@example.org", "GIT_COMMITTER_NAME": "Ada Reviewer",
           "GIT_COMMITTER_EMAIL": "ada@example.org", "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date, "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env).stdout


def commit_all(repo: Path, message: str, date: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, date=date)
    return git(repo, "rev-parse", "HEAD").strip()


def pdf_text(path: Path) -> str:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.split())


@pytest.fixture
def repo(project_copy: Path) -> Path:
    git(project_copy, "init", "-q")
    commit_all(project_copy, "Initial sources", "2026-03-04T05:06:07Z")
    return project_copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_revision_history_lists_the_commits_that_touched_the_sources(repo: Path) -> None:
    model = repo / "models" / "nodule-detector.yaml"
    edit(model, "caveats:", "# reviewed\ncaveats:")
    second = commit_all(repo, "Review the nodule detector caveats", "2026-04-05T06:07:08Z")
    result = build(repo, repo / "build", only={"model-cards", "logbook"}, site=False)
    card = pdf_text(result.out / "pdf" / "thoravis-cxr-model-card-nodule-detector.pdf")
    first_at, second_at = card.find("2026-03-04 Ada Reviewer Initial sources"), card.find("2026-04-05 Ada Reviewer Review the nodule")
    assert 0 <= first_at < second_at, card[:3000]
    assert second[:12] in card
    logbook = pdf_text(result.out / "pdf" / "thoravis-cxr-logbook.pdf")
    assert "Initial sources" in logbook and "Review the nodule detector caveats" not in logbook
    assert "2026-04-05" in card and "Built from commit" in (result.out / "markdown" / "thoravis-cxr-logbook.md").read_text()


def test_release_tags_decide_approval(repo: Path) -> None:
    git(repo, "tag", "v3.1")
    tagged = build(repo, repo / "build", only={"qms-manual"}, site=False, pdf=False)
    assert "| Status | approved |" in tagged.documents[1].markdown
    edit(repo / "qms" / sorted(p.name for p in (repo / "qms").glob("*.yaml"))[0], "title:", "# revised\ntitle:")
    commit_all(repo, "Revise a procedure", "2026-05-01T00:00:00Z")
    untagged = build(repo, repo / "build", only={"qms-manual"}, site=False, pdf=False)
    assert "| Status | draft |" in untagged.documents[1].markdown


def test_diff_flags_a_changed_intended_purpose(repo: Path) -> None:
    purpose = repo / "docs" / "intended-purpose.md"
    if purpose.exists():
        purpose.write_text(purpose.read_text(encoding="utf-8") + "\nIt is also intended for paediatric patients.\n", encoding="utf-8")
    else:
        edit(repo / "system.yaml", "intended_purpose:", "intended_purpose: Also for children.\nold_intended_purpose:")
    commit_all(repo, "Extend the intended purpose", "2026-06-01T00:00:00Z")
    result = run_cli("diff", "HEAD~1", "HEAD", "-C", str(repo), "--exit-code", "--pdf", "--out", str(repo.parent / "diff"))
    assert result.exit_code == 1, result.output
    assert "Possible substantial modification (Art. 3(23), Art. 43(4))" in result.output
    assert "the intended purpose changed** (Art. 3(23), Art. 43(4))" in result.output
    assert "Annex IV, point 1(a)" in result.output
    redline = (repo.parent / "diff" / "thoravis-cxr-technical-file.md").read_text(encoding="utf-8")
    assert "+It is also intended for paediatric patients." in redline or "Also for children" in redline
    assert (repo.parent / "diff" / "thoravis-cxr-technical-file.html").read_text(encoding="utf-8").startswith("\n<!DOCTYPE")
    redline = pdf_text(repo.parent / "diff" / "redline.pdf")
    assert "Possible substantial modification" in redline and "paediatric" in redline


def test_diff_of_a_datasheet_typo_is_not_a_substantial_modification(repo: Path) -> None:
    edit(repo / "datasets" / "cxr-train.yaml", "description:", "description: Corrected wording.\nold_description:")
    text = (repo / "datasets" / "cxr-train.yaml").read_text(encoding="utf-8")
    text = re.sub(r"^old_description:.*?(?=^\S)", "", text, flags=re.MULTILINE | re.DOTALL)
    (repo / "datasets" / "cxr-train.yaml").write_text(text, encoding="utf-8")
    result = run_cli("diff", "HEAD", "-C", str(repo), "--summary-only", "--exit-code")
    assert result.exit_code == 1, result.output
    assert "substantial" not in result.output.lower()
    assert "thoravis-cxr-datasheet-cxr-train" in result.output


def test_diff_without_changes_exits_zero(repo: Path) -> None:
    result = run_cli("diff", "HEAD", "-C", str(repo), "--summary-only", "--exit-code")
    assert result.exit_code == 0, result.output
    assert "No document changed." in result.output


def test_diff_reports_a_metric_below_its_threshold_and_unknown_revisions(repo: Path) -> None:
    edit(repo / "models" / "pneumothorax-classifier.yaml",
         "{metric: specificity, value: 0.873, ci: [0.833, 0.905], slice: {chest_drain: present}",
         "{metric: specificity, value: 0.84, ci: [0.80, 0.88], slice: {chest_drain: present}")
    commit_all(repo, "New evaluation", "2026-06-02T00:00:00Z")
    result = run_cli("diff", "HEAD~1", "HEAD", "-C", str(repo), "--summary-only")
    assert result.exit_code == 0
    assert "specificity for chest_drain=present is below its declared threshold" in result.output
    assert "specificity (chest_drain=present, cxr-external-test) 0.873 → 0.84" in result.output
    assert run_cli("diff", "no-such-revision", "-C", str(repo)).exit_code == 2
