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


def section(markdown: str, heading: str) -> str:
    """The text of one `###` section of a document's Markdown."""
    start = markdown.index(f"### {heading}\n")
    following = [i for i in (markdown.find("\n## ", start), markdown.find("\n### ", start + 4)) if i >= 0]
    return markdown[start:min(following, default=len(markdown))]


def control_row(markdown: str, field: str) -> str:
    row = next(line for line in markdown.splitlines() if line.startswith(f"| {field} |"))
    return row.split("|")[2].strip()


def test_revision_history_says_in_plain_words_what_each_commit_changed(repo: Path) -> None:
    model = repo / "models" / "nodule-detector.yaml"
    edit(model, "caveats:", "# reviewed\ncaveats:")
    commit_all(repo, "Only a comment", "2026-04-01T06:07:08Z")
    edit(model, "name: ", "name: Revised ")
    second = commit_all(repo, "Rename the nodule detector", "2026-04-05T06:07:08Z")
    result = build(repo, repo / "build", only={"model-cards"}, site=False, docx=False)
    card = next(d for d in result.documents if d.id == "thoravis-cxr-model-card-nodule-detector").markdown
    history = section(card, "Revision history")
    rows = [line for line in history.splitlines() if re.match(r"\| \d", line)]
    assert rows[0].startswith(f"| 3 | 2026-04-05 | {second[:12]} | Ada Reviewer | model nodule-detector: name revised |"), history
    assert "model nodule-detector: layout or comments only, no value changed" in rows[1]
    assert rows[2].startswith("| 1 | 2026-03-04 |") and "model nodule-detector added" in rows[2]
    assert "Rename the nodule detector" not in history  # the commit subject is not the description
    assert control_row(card, "Version") == "3" and control_row(card, "Date") == "2026-04-05"
    other = next(d for d in result.documents if d.id == "thoravis-cxr-model-card-pneumothorax-classifier").markdown
    assert control_row(other, "Version") == "1" and control_row(other, "Date") == "2026-03-04"
    text = pdf_text(result.out / "pdf" / "thoravis-cxr-model-card-nodule-detector.pdf")
    approval = text[text.index("Approval"):]
    for fact in ("version 3 of 2026-04-05", "Prepared by", "Reviewed by", "Approved by", "Signature", "2026-10-12"):
        assert fact in approval[:1500], (fact, approval[:1500])


def test_a_change_to_one_model_changes_only_that_model_cards_history(repo: Path) -> None:
    only = {"model-cards", "datasheets", "risk-register", "qms-manual", "statement-of-applicability"}
    before = {d.id: d.markdown for d in build(repo, repo / "build", only=only, site=False, pdf=False, docx=False).documents
              if d.control is not None}
    edit(repo / "models" / "pneumothorax-classifier.yaml", "name: ", "name: Revised ")
    commit_all(repo, "Rename the classifier", "2026-04-05T06:07:08Z")
    after = {d.id: d.markdown for d in build(repo, repo / "build", only=only, site=False, pdf=False, docx=False).documents
             if d.control is not None}  # not the site's home page
    assert before.keys() == after.keys()
    changed = {doc_id for doc_id in before
               if section(before[doc_id], "Revision history") != section(after[doc_id], "Revision history")}
    assert changed == {"thoravis-cxr-model-card-pneumothorax-classifier"}
    assert "model pneumothorax-classifier: name revised" in after["thoravis-cxr-model-card-pneumothorax-classifier"]


def test_an_edit_after_the_approval_makes_that_document_a_draft(repo: Path) -> None:
    edit(repo / "datasets" / "cxr-train.yaml", "description:", "# seen\ndescription:")
    commit_all(repo, "Touch the training data", "2026-11-01T00:00:00Z")  # after techfile.yaml's approval of 2026-10-12
    result = build(repo, repo / "build", only={"datasheets"}, site=False, pdf=False, docx=False)
    sheets = {d.id: d for d in result.documents}
    edited = sheets["thoravis-cxr-datasheet-cxr-train"]
    assert edited.status == "draft" and control_row(edited.markdown, "Status") == "draft"
    assert control_row(edited.markdown, "Approved on") == (
        "not approved: revision 2 of 2026-11-01 is later than the approval of 2026-10-12 in techfile.yaml")
    untouched = sheets["thoravis-cxr-datasheet-cxr-external-test"]
    assert untouched.status == "approved" and control_row(untouched.markdown, "Approved on") == "2026-10-12"


def test_uncommitted_edits_are_the_next_revision_as_a_draft(repo: Path) -> None:
    edit(repo / "models" / "nodule-detector.yaml", "name: ", "name: Revised ")
    (repo / "docs" / "new-note.md").write_text("A note.\n", encoding="utf-8")
    result = build(repo, repo / "build", only={"model-cards"}, site=False, pdf=False, docx=False)
    card = next(d for d in result.documents if d.id == "thoravis-cxr-model-card-nodule-detector")
    first = next(line for line in section(card.markdown, "Revision history").splitlines() if line.startswith("| 2 (draft)"))
    assert "| uncommitted |" in first and "model nodule-detector: name revised" in first
    assert card.status == "draft" and control_row(card.markdown, "Version") == "2 (draft)"


def test_a_long_history_lists_the_newest_revisions_and_counts_the_rest(repo: Path) -> None:
    model = repo / "models" / "nodule-detector.yaml"
    for number in range(30):
        model.write_text(model.read_text(encoding="utf-8") + f"# pass {number}\n", encoding="utf-8")
        commit_all(repo, f"pass {number}", f"2026-04-{1 + number % 28:02d}T00:00:00Z")
    result = build(repo, repo / "build", only={"model-cards"}, site=False, pdf=False, docx=False)
    card = next(d for d in result.documents if d.id == "thoravis-cxr-model-card-nodule-detector").markdown
    rows = [line for line in section(card, "Revision history").splitlines() if re.match(r"\| \d", line)]
    assert len(rows) == 25 and rows[0].startswith("| 31 |") and rows[23].startswith("| 8 |")
    assert rows[24].startswith("| 1–7 |") and "7 earlier revisions, not listed here" in rows[24]


def test_outside_git_the_documentation_set_version_counts(project_copy: Path) -> None:
    result = build(project_copy, project_copy / "build", only={"model-cards"}, site=False, pdf=False, docx=False)
    card = next(d for d in result.documents if d.kind == "model-card").markdown
    assert control_row(card, "Version") == "3.1" and control_row(card, "Approved on") == "2026-10-12"
    assert "cannot be told apart: it is issued as version 3.1 of the documentation set" in card
    assert "| Reviewed by | Dr. Lena Vogt, Quality Manager | 2026-10-09 |" in card


def test_release_tags_decide_approval(repo: Path) -> None:
    git(repo, "tag", "v3.1")
    tagged = build(repo, repo / "build", only={"qms-manual"}, site=False, pdf=False)
    assert "| Status | approved |" in tagged.documents[1].markdown
    assert control_row(tagged.documents[1].markdown, "Approved on") == "2026-03-04"  # the tag's date, not techfile.yaml's
    edit(repo / "qms" / sorted(p.name for p in (repo / "qms").glob("*.yaml"))[0], "title:", "# revised\ntitle:")
    commit_all(repo, "Revise a procedure", "2026-05-01T00:00:00Z")
    untagged = build(repo, repo / "build", only={"qms-manual"}, site=False, pdf=False)
    assert "| Status | draft |" in untagged.documents[1].markdown
    assert control_row(untagged.documents[1].markdown, "Approved on") == "not approved: the build is not of a release tag (vX.Y.Z)"


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
