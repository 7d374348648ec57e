"""The development logbook is append-only: edits, reordering and deletions are caught and name the entry."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from techfile import load_project
from techfile.assess.logbook import entry_sha256

from conftest import SAMPLE, run_cli


def entry(project: Path, entry_id: str) -> Path:
    return project / "logbook" / f"{entry_id}.yaml"


def check(project: Path) -> tuple[int, str]:
    result = run_cli("check", str(project))
    return result.exit_code, result.output


def test_the_sample_logbook_is_chained() -> None:
    assert check(SAMPLE)[0] == 0


def test_editing_an_entry_names_it(project_copy: Path) -> None:
    path = entry(project_copy, "lb-0003")
    path.write_text(path.read_text(encoding="utf-8").replace("performed_by:", "performed_by: Someone else, not", 1), encoding="utf-8")
    code, output = check(project_copy)
    assert code == 1
    assert re.search(r"logbook/lb-0003\.yaml:\d+:\d+: TF701 error: logbook entry 'lb-0003' does not match the sha256 that 'lb-0004' recorded", output), output


def test_reordering_entries_names_them(project_copy: Path) -> None:
    third, fourth = entry(project_copy, "lb-0003"), entry(project_copy, "lb-0004")
    third.write_text(third.read_text(encoding="utf-8").replace("sequence: 3", "sequence: 4"), encoding="utf-8")
    fourth.write_text(fourth.read_text(encoding="utf-8").replace("sequence: 4", "sequence: 3"), encoding="utf-8")
    code, output = check(project_copy)
    assert code == 1
    assert "TF701" in output and "'lb-0004'" in output and "'lb-0003'" in output


def test_deleting_an_entry_names_the_gap(project_copy: Path) -> None:
    entry(project_copy, "lb-0003").unlink()
    code, output = check(project_copy)
    assert code == 1
    assert "TF702 error: logbook entry 'lb-0004' has sequence 4 where 3 is expected after 'lb-0002'" in output
    assert "TF701 error: logbook entry 'lb-0002' does not match the sha256 that 'lb-0004' recorded" in output


def test_deleting_the_first_entry_is_caught(project_copy: Path) -> None:
    entry(project_copy, "lb-0001").unlink()
    code, output = check(project_copy)
    assert code == 1 and "'lb-0002' is the first entry but records a previous entry's sha256" in output


def test_appending_a_chained_entry_keeps_the_project_clean(project_copy: Path) -> None:
    last = entry(project_copy, "lb-0006")
    text = last.read_text(encoding="utf-8")
    text = re.sub(r"^id: lb-0006$", "id: lb-0007", text, flags=re.MULTILINE)
    text = re.sub(r"^sequence: 6$", "sequence: 7", text, flags=re.MULTILINE)
    project = load_project(str(project_copy)).project
    chained = entry_sha256(project, next(e for e in project.logbook if e.id == "lb-0006"))
    text = re.sub(r"^previous_entry_sha256: .*$", "previous_entry_sha256: " + chained, text, flags=re.MULTILINE)
    entry(project_copy, "lb-0007").write_text(text, encoding="utf-8")
    code, output = check(project_copy)
    assert code == 0, output
    unchained = re.sub(r"^previous_entry_sha256: .*\n", "", text, flags=re.MULTILINE)
    entry(project_copy, "lb-0007").write_text(unchained, encoding="utf-8")
    code, output = check(project_copy)
    assert code == 1 and "'lb-0007' does not record the sha256 of 'lb-0006'" in output


def git(repo: Path, *args: str) -> None:
    env = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "T",
           "GIT_COMMITTER_EMAIL": "t@example.org", "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def test_editing_the_newest_committed_entry_is_caught_by_git(project_copy: Path) -> None:
    git(project_copy, "init", "-q")
    git(project_copy, "add", "-A")
    git(project_copy, "commit", "-q", "-m", "logbook")
    last = entry(project_copy, "lb-0006")
    last.write_text(last.read_text(encoding="utf-8").replace("performed_by:", "performed_by: Edited,", 1), encoding="utf-8")
    code, output = check(project_copy)
    assert code == 1 and "logbook/lb-0006.yaml:1:1: TF703 error: committed logbook entry 'lb-0006' was changed" in output
    git(project_copy, "checkout", "--", "logbook/lb-0006.yaml")
    entry(project_copy, "lb-0006").unlink()
    code, output = check(project_copy)
    assert code == 1 and "committed logbook entry 'lb-0006' was deleted" in output


def test_comments_and_formatting_do_not_break_the_chain(project_copy: Path) -> None:
    path = entry(project_copy, "lb-0003")
    path.write_text("# a reviewer's note\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert check(project_copy)[0] == 0
