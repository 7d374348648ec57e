"""A build killed with SIGKILL at any point leaves the previous output byte-identical and its PDF workers dead; the
next build succeeds and leaves nothing behind. Builds into one folder never mix: one waits for nothing and fails
with a clear message, or both succeed one after the other.

The kill points are hit exactly: the build runs as a real `techfile build` child process whose test wrapper (below,
not part of techfile) installs a Python audit hook that kills the process at the named moment (the first file
written into the staging folder, the first page of the site, the manifest, the swap). The PDF phase is hit by
polling for the intermediate Typst files of the workers."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from techfile.publish.build import BuildFailure, build, build_info
from techfile.publish.output import output_lock, remove_leftovers

from conftest import run_cli

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and Linux process semantics")

KILLER = r'''
import os, signal, sys

point, record = sys.argv[1], sys.argv[2]
del sys.argv[1:3]
STAGING, RETIRED = ".build.tmp-", ".build.old-"
state = {"dying": False, "swapped": False}


def children():
    found = []
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        with open(f"/proc/{os.getpid()}/task/{task}/children", encoding="ascii") as stream:
            found += stream.read().split()
    return found


def die():
    state["dying"] = True
    with open(record, "w", encoding="ascii") as stream:
        stream.write(" ".join(children()))
    os.kill(os.getpid(), signal.SIGKILL)


def texts(value):
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from texts(item)
    elif isinstance(value, bytes):
        yield value.decode("utf-8", "replace")
    elif isinstance(value, str):
        yield value


def hook(event, args):
    if state["dying"]:
        return
    if event == "open" and point in ("rendering", "site", "manifest"):
        path, mode = next(texts(args[0]), ""), args[1]
        if STAGING not in path or not (isinstance(mode, str) and any(m in mode for m in "wax")):
            return
        if (point == "rendering" or (point == "site" and "/site/" in path)
                or (point == "manifest" and path.endswith("/manifest.json"))):
            die()
    elif point in ("swap", "after-swap") and event in ("ctypes.dlsym", "os.rename", "os.replace"):
        # the atomic exchange looks up renameat2 just before calling it; the fallback renames the two folders
        if "renameat2" in texts(args) or any(STAGING in text or RETIRED in text for text in texts(args)):
            if point == "swap":
                die()
            state["swapped"] = True
    elif point == "after-swap" and event == "shutil.rmtree" and state["swapped"]:
        die()


sys.addaudithook(hook)
from techfile.cli import main

sys.exit(main())
'''


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def leftovers(out: Path) -> list[str]:
    """What a build left beside `out`, but its cache (which describes the output that is there)."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.") and p.name != f".{out.name}.cache")


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_until_dead(pids: list[int], seconds: float = 15.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as stream:
            found += [int(p) for p in stream.read().split()]
    return found


def set_version(project: Path, version: str) -> None:
    system = project / "system.yaml"
    text = system.read_text(encoding="utf-8")
    current = next(line for line in text.splitlines() if line.startswith("version: "))
    system.write_text(text.replace(current, f'version: "{version}"', 1), encoding="utf-8")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The NIST AI RMF starter project (three PDFs and a site): small enough to build often."""
    folder = tmp_path_factory.mktemp("template") / "project"
    assert run_cli("init", str(folder), "--template", "sentiment").exit_code == 0
    return folder


@pytest.fixture(scope="module")
def clean(template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """Tree digests of clean builds of the two versions of the sources the tests switch between."""
    digests = {}
    for version in ("1.0.0", "2.0.0"):
        copy = tmp_path_factory.mktemp(f"clean-{version}") / "project"
        shutil.copytree(template, copy)
        set_version(copy, version)
        digests[version] = tree_digest(build(copy, copy / "build", jobs=2).out)
    assert digests["1.0.0"] != digests["2.0.0"]
    return digests


@pytest.fixture
def previous(template: Path, tmp_path: Path) -> Path:
    """A project whose build/ holds a complete build of version 1.0.0, with the sources then changed to 2.0.0."""
    project = tmp_path / "project"
    shutil.copytree(template, project)
    set_version(project, "1.0.0")
    build(project, project / "build", jobs=2)
    set_version(project, "2.0.0")
    return project


def start(point: str, project: Path, record: Path) -> subprocess.Popen[bytes]:
    """The build, its messages going to a file (a pipe would stay open as long as any orphaned worker lives)."""
    with (record.parent / f"{point}.log").open("wb") as log:
        return subprocess.Popen([sys.executable, "-c", KILLER, point, str(record), "build", str(project), "--jobs", "2"],
                                stdout=subprocess.DEVNULL, stderr=log)


def log_of(point: str, record: Path) -> str:
    return (record.parent / f"{point}.log").read_text(encoding="utf-8", errors="replace")


def staging_of(out: Path) -> Path:
    (staging,) = [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.tmp-")]
    return staging


PHASES = {
    # what the dead build's staging folder shows: proof that the kill came at the intended point
    # (PDFs are begun while the documents render: at the first file written none can be finished)
    "rendering": lambda s: (s / "markdown").is_dir() and not (s / "site").exists() and not list(s.glob("pdf/*.pdf")),
    "site": lambda s: (s / "site").is_dir() and not (s / "manifest.json").exists(),
    "manifest": lambda s: len(list((s / "pdf").glob("*.pdf"))) == 3 and not (s / "manifest.json").exists(),
    "swap": lambda s: (s / "manifest.json").is_file(),
}


@pytest.mark.parametrize("point", ["rendering", "site", "manifest", "swap"])
def test_sigkill_at_a_point_of_the_build_leaves_the_previous_output(point: str, previous: Path, tmp_path: Path,
                                                                     clean: dict[str, dict[str, str]]) -> None:
    out = previous / "build"
    before = tree_digest(out)
    assert before == clean["1.0.0"]
    record = tmp_path / "children.txt"
    child = start(point, previous, record)
    assert child.wait(timeout=300) == -signal.SIGKILL, log_of(point, record)
    assert tree_digest(out) == before
    assert PHASES[point](staging_of(out)), sorted(p.name for p in staging_of(out).iterdir())
    assert wait_until_dead([int(p) for p in record.read_text(encoding="ascii").split()]) == []

    again = run_cli("build", str(previous), "--jobs", "2")
    assert again.exit_code == 0, again.output
    assert tree_digest(out) == clean["2.0.0"]
    assert leftovers(out) == []


def test_sigkill_during_the_pdfs_kills_the_workers_and_leaves_the_previous_output(
        previous: Path, tmp_path: Path, clean: dict[str, dict[str, str]]) -> None:
    out = previous / "build"
    before = tree_digest(out)
    child = start("none", previous, tmp_path / "unused.txt")
    workers: list[int] = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and child.poll() is None:
        typst_files = list(previous.glob(".build.tmp-*/markdown/*.typ"))
        if typst_files:  # pandoc has run in a worker, Typst is compiling: the PDF phase is under way
            workers = children_of(child.pid)
            os.kill(child.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    assert child.wait(timeout=60) == -signal.SIGKILL, "the build ended before a PDF worker was seen"
    assert len(workers) >= 1
    assert wait_until_dead(workers) == []  # PR_SET_PDEATHSIG: the kernel kills them with their parent
    assert tree_digest(out) == before
    assert (staging_of(out) / "pdf").is_dir() and not (staging_of(out) / "manifest.json").exists()

    again = run_cli("build", str(previous), "--jobs", "2")
    assert again.exit_code == 0, again.output
    assert tree_digest(out) == clean["2.0.0"] and leftovers(out) == []


def test_sigkill_after_the_swap_leaves_the_new_output_complete(previous: Path, tmp_path: Path,
                                                               clean: dict[str, dict[str, str]]) -> None:
    out = previous / "build"
    child = start("after-swap", previous, tmp_path / "children.txt")
    assert child.wait(timeout=300) == -signal.SIGKILL
    assert tree_digest(out) == clean["2.0.0"]  # the new output, complete, took the old one's place in one step
    assert tree_digest(staging_of(out)) == clean["1.0.0"]  # the old one, not yet removed

    set_version(previous, "1.0.0")
    again = run_cli("build", str(previous), "--jobs", "2")
    assert again.exit_code == 0, again.output
    assert tree_digest(out) == clean["1.0.0"] and leftovers(out) == []


def test_two_concurrent_builds_into_one_folder(previous: Path, clean: dict[str, dict[str, str]]) -> None:
    out = previous / "build"
    command = [sys.executable, "-c", "import sys; from techfile.cli import main; sys.exit(main())", "build",
               str(previous), "--jobs", "1"]
    builds = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    outcomes = [(b.wait(timeout=300), b.stdout.read().decode() if b.stdout else "") for b in builds]
    for code, output in outcomes:
        assert code == 0 or (code == 3 and "is writing" in output and "wait for it to finish" in output), output
    assert any(code == 0 for code, _ in outcomes)
    assert tree_digest(out) == clean["2.0.0"]
    assert leftovers(out) == []


def test_a_build_into_a_folder_another_process_writes_fails_with_the_lock_message(previous: Path) -> None:
    out = previous / "build"
    before = tree_digest(out)
    live_staging = previous / ".build.tmp-live"  # the live writer's own staging folder
    live_staging.mkdir()
    with output_lock(out):
        with pytest.raises(BuildFailure, match=rf"another techfile process \(pid {os.getpid()}\) is writing "
                                               rf".*build; wait for it to finish, or write elsewhere with --out"):
            build(previous, out, pdf=False)
        result = run_cli("build", str(previous), "--no-pdf")
        assert result.exit_code == 3 and "is writing" in result.output
    assert live_staging.is_dir()  # never removed while its writer holds the lock
    assert tree_digest(out) == before


def test_a_build_that_died_between_the_two_renames_is_repaired(previous: Path, tmp_path: Path) -> None:
    """Where the file system cannot exchange two folders, the swap is two renames; a build killed between them
    leaves no output folder at all. The next one puts the previous output back before anything else."""
    out = previous / "build"
    before = tree_digest(out)
    retired = previous / ".build.old-dead"
    retired.mkdir()
    os.rename(out, retired / "build")
    (previous / ".build.tmp-dead").mkdir()
    (previous / ".build.tmp-dead" / "manifest.json").write_text("{}", encoding="utf-8")
    (previous / ".build.lock").write_text("12345\n", encoding="ascii")
    with output_lock(out):
        removed = remove_leftovers(out)
    assert [p.name for p in removed] == [".build.old-dead", ".build.tmp-dead"]
    assert tree_digest(out) == before and leftovers(out) == []


def test_leftovers_of_dead_builds_do_not_make_the_next_build_a_draft(previous: Path) -> None:
    env = {"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.org", "GIT_COMMITTER_NAME": "A",
           "GIT_COMMITTER_EMAIL": "a@example.org", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    (previous / ".gitignore").write_text("build/\n", encoding="utf-8")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "sources"]):
        subprocess.run(["git", "-C", str(previous), *args], check=True, env=env, capture_output=True)
    (previous / ".build.tmp-dead" / "site").mkdir(parents=True)
    (previous / ".build.tmp-dead" / "site" / "index.html").write_text("half", encoding="utf-8")
    (previous / ".build.lock").write_text("99999\n", encoding="ascii")
    from techfile import load_project

    project = load_project(previous).project
    assert build_info(project, previous / "build").dirty is False
    result = build(previous, previous / "build", pdf=False, site=False)
    manifest = json.loads((result.out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["git"]["uncommitted_changes"] is False
    assert leftovers(previous / "build") == []


PARENT = r'''
import os, subprocess, sys, time
code = sys.argv[1]
child = subprocess.Popen([sys.executable, "-c", code, str(os.getpid())])
print(child.pid, flush=True)
time.sleep(120)
'''


@pytest.mark.parametrize("guard", [
    "from techfile.publish.pdf import worker_init; worker_init(int(sys.argv[1]))",  # PR_SET_PDEATHSIG
    "from techfile.publish.pdf import watch_parent; watch_parent(int(sys.argv[1]), 0.1)",  # the fallback watchdog
])
def test_a_pdf_worker_dies_with_its_parent(guard: str) -> None:
    code = f"import sys, time\n{guard}\ntime.sleep(120)\n"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, code], stdout=subprocess.PIPE)
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    time.sleep(1.0)  # let the worker start and arm its guard
    assert alive(worker)
    parent.kill()
    parent.wait()
    assert wait_until_dead([worker], seconds=10) == []
