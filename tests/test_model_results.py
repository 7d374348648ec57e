"""Writing results into a model source is a minimal edit: replaced items keep their place and style."""

from __future__ import annotations

from pathlib import Path

import pytest

from techfile.sources.model_results import ResultsEditError, results_text, with_list_item

NEW = {"metric": "auroc", "value": 0.91, "n": 10}


@pytest.mark.parametrize(("before", "after"), [
    pytest.param("id: m\nresults:\n  - {metric: auroc, value: 0.8}  # old\n  - {metric: f1, value: 0.7}\n",
                 "id: m\nresults:\n  - {metric: auroc, value: 0.91, n: 10}  # old\n  - {metric: f1, value: 0.7}\n", id="flow item"),
    pytest.param("id: m\nresults:\n- metric: auroc\n  value: 0.8\n# kept\n- metric: f1\n  value: 0.7\n",
                 "id: m\nresults:\n- metric: auroc\n  value: 0.91\n  n: 10\n# kept\n- metric: f1\n  value: 0.7\n", id="block item"),
])
def test_a_replaced_result_keeps_its_place_and_style(tmp_path: Path, before: str, after: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(before, encoding="utf-8")
    assert results_text(path, [], {0: NEW}) == after


def test_replace_and_append_together(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("id: m\nresults:\n  - {metric: auroc, value: 0.8}\n  - {metric: f1, value: 0.7}\n", encoding="utf-8")
    text = results_text(path, [{"metric": "f1", "value": 0.6, "slice": {"sex": "female"}}], {1: {"metric": "f1", "value": 0.75}})
    assert text == ("id: m\nresults:\n  - {metric: auroc, value: 0.8}\n  - {metric: f1, value: 0.75}\n"
                    "  - {metric: f1, value: 0.6, slice: {sex: female}}\n")


def test_evidence_list_item_is_added_or_created() -> None:
    assert with_list_item("id: m\nevidence:\n  - ev-a\ncaveats: x\n", "evidence", "ev-b") == \
        "id: m\nevidence:\n  - ev-a\n  - ev-b\ncaveats: x\n"
    assert with_list_item("id: m\nevidence: [ev-a]\n", "evidence", "ev-b") == "id: m\nevidence: [ev-a, ev-b]\n"
    assert with_list_item("id: m\n", "evidence", "ev-b") == "id: m\nevidence:\n  - ev-b\n"
    with pytest.raises(ResultsEditError):
        with_list_item("id: m\nevidence: ev-a\n", "evidence", "ev-b")
