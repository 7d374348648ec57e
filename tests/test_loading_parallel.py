"""Sources read and validated by several processes give exactly what one process gives: the same diagnostics in the
same order, the same documents and the same project."""

from __future__ import annotations

import pickle
from pathlib import Path

from techfile.loading import load_project
from techfile.sources.yaml_source import load_yaml_source
from techfile.validation.renderable import MAX_TEXT


def _break(project: Path) -> None:
    """Problems of every stage, spread over the folders so that each process meets some."""
    datasets = sorted((project / "datasets").glob("*.yaml"))
    datasets[0].write_text(datasets[0].read_text(encoding="utf-8") + "bogus_key: 1\n", encoding="utf-8")
    risks = sorted((project / "risks").glob("*.yaml"))
    risks[0].write_text("id: [unclosed\n", encoding="utf-8")
    risks[-1].write_text(risks[-1].read_text(encoding="utf-8") + 'notes: "a \\x01 control"\n', encoding="utf-8")
    controls = sorted((project / "controls").glob("*.yaml"))
    controls[-1].write_text("", encoding="utf-8")
    models = sorted((project / "models").glob("*.yaml"))
    models[-1].write_text(models[-1].read_text(encoding="utf-8") + f"zzz: {'long ' * (MAX_TEXT // 4)}\n",
                          encoding="utf-8")
    (project / "logbook" / "dangling.yaml").symlink_to(project / "logbook" / "no-such-entry.yaml")


def test_parallel_loading_gives_the_serial_result(project_copy: Path) -> None:
    _break(project_copy)
    serial = load_project(project_copy, jobs=1)
    assert serial.errors, "the broken project must have errors"
    assert {"TF102", "TF105", "TF120", "TF123", "TF202", "TF401"} <= {d.code for d in serial.diagnostics}
    for jobs in (2, 3):
        parallel = load_project(project_copy, jobs=jobs)
        assert parallel.diagnostics == serial.diagnostics
        assert parallel.source_files == serial.source_files
        assert parallel.referenced_files == serial.referenced_files
        assert parallel.complete == serial.complete
        assert parallel.project == serial.project


def test_parallel_loading_of_a_sound_project(project_copy: Path) -> None:
    serial, parallel = load_project(project_copy, jobs=1), load_project(project_copy, jobs=2)
    assert parallel.diagnostics == serial.diagnostics == []
    assert parallel.project == serial.project


def test_a_document_survives_pickling_with_its_marks(project_copy: Path) -> None:
    path = sorted((project_copy / "models").glob("*.yaml"))[0]
    document, _ = load_yaml_source(path, "models/" + path.name)
    assert document is not None
    copy = pickle.loads(pickle.dumps(document))
    assert copy.data == document.data and copy.text == document.text and copy.path == document.path
    assert dict(copy.value_marks) == dict(document.value_marks) and len(copy.value_marks) > 10
    assert dict(copy.key_marks) == dict(document.key_marks)
    deepest = max(document.value_marks, key=len)
    assert copy.mark(deepest) == document.mark(deepest) and copy.key_mark(deepest) == document.key_mark(deepest)
