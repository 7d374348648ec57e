"""The manifest lists the files techfile reads (sources), the evidence files and the outputs; nothing else in the
project folder is listed, hashed or even opened."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from techfile import load_project
from techfile.publish.build import build

from conftest import REPO, SAMPLE, run_cli

REPO_TEMPLATES = REPO / "doc_templates"

WATCHER = r'''
import sys
watched, record = sys.argv[1], sys.argv[2]
del sys.argv[1:3]


def hook(event, args):
    if event == "open" and isinstance(args[0], str) and args[0].endswith(watched):
        with open(record, "a", encoding="utf-8") as stream:
            stream.write(args[0] + "\n")


sys.addaudithook(hook)
from techfile.cli import main

sys.exit(main())
'''


def test_manifest_lists_sources_evidence_and_outputs_and_nothing_else(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("build"))
    template = project / "templates" / "logbook" / "logbook.md.j2"
    template.parent.mkdir(parents=True)
    shutil.copyfile(REPO_TEMPLATES / "logbook" / "logbook.md.j2", template)
    (project / "data").mkdir()
    with (project / "data" / "raw-images.bin").open("wb") as stream:
        stream.truncate(1 << 30)  # 1 GiB, sparse: a data file that is no source
    (project / "README.md").write_text("Notes for the team.\n", encoding="utf-8")
    run_cli("schema", str(project))  # the editors' schemas: written into the project, never read by the build
    record = project / "evidence" / "ev-ai-policy.yaml"
    policy_file = next(line for line in record.read_text(encoding="utf-8").splitlines() if line.startswith("file: "))
    signature = Path(policy_file.removeprefix("file: ") + ".p7s")
    (project / signature).write_bytes(b"a detached signature of the policy")
    record.write_text(record.read_text(encoding="utf-8") + f"signature: {signature.as_posix()}\n", encoding="utf-8")

    record = tmp_path / "opened.txt"
    done = subprocess.run([sys.executable, "-c", WATCHER, "raw-images.bin", str(record), "build", str(project),
                           "--no-pdf", "--no-site"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert not record.exists(), record.read_text(encoding="utf-8")  # never opened, so never hashed

    manifest = json.loads((project / "build" / "manifest.json").read_text(encoding="utf-8"))
    sources = {e["path"] for e in manifest["sources"]}
    evidence = {e["path"] for e in manifest["evidence"]}
    loaded = load_project(project)
    evidence_files = {item.file for item in loaded.project.evidence if item.file} | {signature.as_posix()}
    assert evidence == evidence_files
    assert sources == set(loaded.source_files) | (set(loaded.referenced_files) - evidence_files) | {
        "templates/logbook/logbook.md.j2"}
    assert {"frameworks/thoravis-ai-policy.yaml", "gspr.yaml", "lineage/cxr-release-2.0.0.yaml", "docs/intended-purpose.md"} <= sources
    assert not {p for p in sources | evidence if p.startswith(("data/", "schemas/", "build/")) or p == "README.md"}
    outputs = {e["path"] for e in manifest["outputs"]}
    assert outputs and all(not p.startswith(".") for p in outputs) and "manifest.json" not in outputs
    assert manifest["manifest_version"] == 2


def test_two_evidence_records_naming_one_file_list_it_once(project_copy: Path) -> None:
    record = next((project_copy / "evidence").glob("*.yaml"))
    twin = record.with_name("ev-twin-record.yaml")
    text = record.read_text(encoding="utf-8")
    identifier = next(line for line in text.splitlines() if line.startswith("id: ")).removeprefix("id: ")
    twin.write_text(text.replace(f"id: {identifier}", "id: ev-twin-record"), encoding="utf-8")
    result = build(project_copy, project_copy / "build", pdf=False, site=False)
    manifest = json.loads((result.out / "manifest.json").read_text(encoding="utf-8"))
    paths = [e["path"] for e in manifest["evidence"]]
    assert len(paths) == len(set(paths))
