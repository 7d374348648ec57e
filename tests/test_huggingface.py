"""Hugging Face cards: export from the sample project, read back with huggingface_hub, import of cards in the Hub's styles.

Offline only: huggingface_hub parses and builds the cards, nothing talks to the Hub.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from techfile.integrations import MissingExtra, UnknownEntity
from techfile.integrations.huggingface import CardError, dataset_card, import_model_card, model_card, to_yaml
from techfile.loading import load_project
from techfile.project import Model, Project

from conftest import REPO, SAMPLE, SCHEMAS

hub = pytest.importorskip("huggingface_hub")

CARDS = REPO / "tests" / "fixtures" / "hf_cards"
FIXTURES = ["official-template", "minimal", "model-index"]
MODELS = ["nodule-detector", "pneumothorax-classifier"]
DATASETS = ["cxr-train", "cxr-internal-val", "cxr-external-test"]
MITCHELL_SECTIONS = ["Model details", "Intended use", "Factors", "Metrics", "Evaluation data", "Training data",
                     "Quantitative analyses", "Ethical considerations", "Caveats and recommendations"]
GEBRU_SECTIONS = ["Motivation", "Composition", "Collection process", "Preprocessing, cleaning and labelling", "Uses",
                  "Distribution", "Maintenance"]


@pytest.fixture(scope="module", autouse=True)
def offline() -> Iterator[None]:
    """Belt and braces: should anything try the Hub, huggingface_hub refuses instead of going online."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield


@pytest.fixture(scope="module")
def project() -> Project:
    return load_project(SAMPLE).project


def sample_model(project: Project, model_id: str) -> Model:
    return next(m for m in project.models if m.id == model_id)


def words(text: str) -> str:
    return " ".join(text.split())


def fixture_card(name: str) -> str:
    return (CARDS / f"{name}.md").read_text(encoding="utf-8")


def partial_model_schema() -> Draft202012Validator:
    """The model schema without `required`: checks the types and names of the fields a partial source has."""
    def without_required(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: without_required(v) for k, v in node.items() if not (k == "required" and isinstance(v, list))}
        if isinstance(node, list):
            return [without_required(v) for v in node]
        return node

    schema = json.loads((SCHEMAS / "model.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(without_required(schema))


# --- export -----------------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", MODELS)
def test_model_card_parses_with_huggingface_hub(project: Project, model_id: str) -> None:
    model = sample_model(project, model_id)
    text = model_card(project, model_id)
    card = hub.ModelCard(text)
    data = card.data.to_dict()

    assert {"model-index", "license", "datasets"} <= set(data)
    assert data["model-index"][0]["name"] == model.name
    assert data["license"] == "other"  # a proprietary licence: the Hub id is "other", the text is in the body
    assert f"- **License:** {model.license}" in card.text
    assert data["datasets"] == list(dict.fromkeys(model.training_data + model.evaluation_data))
    assert data["metrics"] == [m.id for m in model.metrics]
    assert "techfile" in data["tags"] and "medical-imaging" in data["tags"]
    assert "base_model" not in data  # free text, not a Hub id: it goes into the body
    assert f"- **Base model:** {model.base_model}" in card.text
    for section in MITCHELL_SECTIONS:
        assert f"\n## {section}\n" in card.text, section


def test_pipeline_tag_comes_from_the_task_table(project: Project) -> None:
    tags = {m: hub.ModelCard(model_card(project, m)).data.pipeline_tag for m in MODELS}
    assert tags == {"nodule-detector": "object-detection", "pneumothorax-classifier": "image-classification"}


@pytest.mark.parametrize("model_id", MODELS)
def test_model_index_has_one_result_per_result_with_slices_in_metric_config(project: Project, model_id: str) -> None:
    model = sample_model(project, model_id)
    eval_results = hub.ModelCard(model_card(project, model_id)).data.eval_results
    assert len(eval_results) == len(model.results)
    for result, written in zip(model.results, eval_results, strict=True):
        assert (written.metric_type, written.metric_value, written.dataset_type) == (result.metric, result.value, result.dataset)
        assert written.metric_args["ci"] == result.ci
        assert written.metric_args["n"] == result.n
        if result.slice:
            assert written.metric_args["slice"] == result.slice
            assert written.metric_config == ", ".join(f"{k}={v}" for k, v in sorted(result.slice.items()))
            assert written.metric_name.endswith(f" ({written.metric_config})")
        else:
            assert written.metric_config is None and "slice" not in written.metric_args


def test_model_card_shows_pass_fail_and_thresholds(project: Project) -> None:
    text = model_card(project, "nodule-detector")
    analyses = text.split("## Quantitative analyses", 1)[1].split("\n## ", 1)[0]
    assert "| Result |" in analyses and "| pass |" in analyses
    assert "results with an acceptance threshold meet it" in analyses
    metrics = text.split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    assert "| 0.9 / 0.87 / 0.85 |" in metrics  # auroc: overall / subgroup / intersection thresholds
    assert "| fppi | " in metrics and "| lower |" in metrics


@pytest.mark.parametrize("dataset_id", DATASETS)
def test_dataset_card_parses_and_answers_the_seven_gebru_sections(project: Project, dataset_id: str) -> None:
    dataset = next(d for d in project.datasets if d.id == dataset_id)
    card = hub.DatasetCard(dataset_card(project, dataset_id))
    data = card.data.to_dict()
    assert data["pretty_name"] == dataset.name
    assert data["license"] == "other"
    assert data["tags"] == ["techfile"]
    assert data["task_categories"] == ["image-classification", "object-detection"]
    for section in GEBRU_SECTIONS:
        assert f"\n## {section}\n" in card.text, section
    assert words(dataset.uses.intended_uses.text) in words(card.text)


def test_dataset_size_category_follows_the_count(project: Project) -> None:
    sizes = {d: hub.DatasetCard(dataset_card(project, d)).data.size_categories for d in DATASETS}
    assert sizes == {"cxr-train": ["100K<n<1M"], "cxr-internal-val": ["10K<n<100K"], "cxr-external-test": ["1K<n<10K"]}


def test_unknown_ids_raise_unknown_entity_naming_the_known_ids(project: Project) -> None:
    with pytest.raises(UnknownEntity) as raised:
        model_card(project, "no-such-model")
    assert isinstance(raised.value, KeyError)
    assert (raised.value.kind, raised.value.entity_id, raised.value.known_ids) == ("model", "no-such-model", MODELS)
    assert str(raised.value) == "no model with id 'no-such-model'; known model ids: nodule-detector, pneumothorax-classifier"
    with pytest.raises(UnknownEntity, match="known dataset ids: cxr-external-test, cxr-internal-val, cxr-train"):
        dataset_card(project, "cxr-detector")


def test_missing_extra_names_the_pip_command() -> None:
    error = MissingExtra("hf")
    assert error.extra == "hf"
    assert str(error) == "this command needs the optional extra: pip install 'techfile[hf]'"


# --- export → import --------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", MODELS)
def test_export_import_round_trip_keeps_what_the_card_can_hold(project: Project, model_id: str) -> None:
    model = sample_model(project, model_id)
    imported = import_model_card(model_card(project, model_id))
    source = imported.source

    assert source["name"] == model.name
    assert source["license"] == model.license
    assert imported.model_id == source["id"]
    datasets_note = next(u for u in imported.unmapped if u.startswith("metadata datasets"))
    assert all(d in datasets_note for d in model.training_data + model.evaluation_data)
    assert [m["id"] for m in source["metrics"]] == [m.id for m in model.metrics]
    overall = [(r.metric, r.value) for r in model.results if not r.slice]
    assert [(r["metric"], r["value"]) for r in source["results"] if "slice" not in r] == overall
    assert [(r["metric"], r["value"], r["slice"]) for r in source["results"] if "slice" in r] == \
        [(r.metric, r.value, r.slice) for r in model.results if r.slice]
    assert all(r["ci"] == m.ci and r["n"] == m.n for r, m in zip(source["results"], model.results, strict=True))
    assert words(source["intended_use"]["primary_uses"]) == words(model.intended_use.primary_uses.text)
    assert words(source["intended_use"]["out_of_scope"]) == words(model.intended_use.out_of_scope.text)
    assert words(source["caveats"]) == words(model.caveats.text)
    assert words(source["ethical_considerations"]) == words(model.ethical_considerations.text)
    assert (source["version"], source["date"], source["owner"]) == (model.version, model.date, model.owner)
    lower_is_better = {m.id: m.higher_is_better for m in model.metrics if not m.higher_is_better}
    assert {m["id"]: m["higher_is_better"] for m in source["metrics"] if "higher_is_better" in m} == lower_is_better
    # Dataset ids and the metrics' descriptions are not in a Hub card's metadata: the user writes them.
    assert {"training_data", "evaluation_data"} <= set(imported.todo)
    assert f"metrics[{model.metrics[0].id}].rationale" in imported.todo


# --- import of cards in the Hub's styles ------------------------------------------------------


def test_import_official_template_card() -> None:
    imported = import_model_card(fixture_card("official-template"))
    source = imported.source
    assert imported.model_id == "fernleaf-email-triage-classifier"
    assert (source["name"], source["license"], source["base_model"]) == \
        ("Fernleaf email triage classifier", "apache-2.0", "fernleaf/tiny-encoder-de")
    assert source["task"] == "text classification"
    assert source["developers"] == "Fernleaf Analytics GmbH, applied NLP team"
    assert source["compute"] == {"hardware": "1 × 24 GB workstation GPU", "training_hours": 3.5}
    assert source["metrics"] == [{"id": "accuracy", "name": "accuracy"}, {"id": "f1-macro", "name": "Macro F1"}]
    assert source["results"] == [{"metric": "accuracy", "value": 0.912}, {"metric": "f1-macro", "value": 0.887}]
    assert source["intended_use"]["primary_uses"].startswith("Suggesting a queue for each incoming")
    assert source["intended_use"]["out_of_scope"].startswith("Fully automatic routing")
    assert source["caveats"].startswith("Emails written in dialect")
    assert source["caveats"].endswith("review the misrouting log monthly by language variety.")
    assert source["factors"] == {"evaluation_factors": "Language variety (standard German, dialect, non-native writers) and email length."}
    assert {"version", "date", "owner", "architecture", "training_data", "evaluation_data", "ethical_considerations",
            "intended_use.primary_users", "factors.relevant"} <= set(imported.todo)
    assert "developers" not in imported.todo and "model_type" not in imported.todo
    assert "[More Information Needed]" not in to_yaml(source)
    assert any(u.startswith("section 'Model Card Contact'") for u in imported.unmapped)


def test_import_minimal_card_fills_nothing_the_card_does_not_say() -> None:
    imported = import_model_card(fixture_card("minimal"))
    assert imported.source == {
        "id": "quillmark-churn-predictor",
        "name": "Quillmark churn predictor",
        "task": "tabular classification",
        "license": "mit",
        "metrics": [{"id": "roc_auc", "name": "roc_auc"}],
        "caveats": "Trained on subscribers who joined in 2023 only; promotions that change reading habits make the scores unreliable\n"
                   "until the model is retrained.",
    }
    assert imported.todo == ["version", "date", "owner", "developers", "model_type", "architecture", "intended_use", "factors",
                             "training_data", "evaluation_data", "results", "ethical_considerations",
                             "metrics[roc_auc].description", "metrics[roc_auc].rationale"]
    assert {"metadata library_name: no techfile model field", "metadata tags: no techfile model field"} <= set(imported.unmapped)


def test_import_model_index_card() -> None:
    imported = import_model_card(fixture_card("model-index"))
    source = imported.source
    assert (imported.model_id, source["name"], source["license"]) == ("kestrel-asr-small", "kestrel-asr-small", "cc-by-4.0")
    assert source["metrics"] == [{"id": "wer", "name": "Test WER", "higher_is_better": False},
                                 {"id": "cer", "name": "Test CER", "higher_is_better": False},
                                 {"id": "accuracy", "name": "Accuracy"}, {"id": "f1", "name": "Macro F1"}]
    assert source["results"] == [{"metric": "wer", "value": 7.9}, {"metric": "cer", "value": 3.1},
                                 {"metric": "wer", "value": 14.2}, {"metric": "wer", "value": 18.6, "ci": [17.9, 19.4]},
                                 {"metric": "accuracy", "value": 0.962}]
    assert source["intended_use"] == {"primary_uses": "Transcribing English speech recorded with a headset or a telephone, "
                                                      "for search and subtitles that a person\nchecks. Accuracy drops sharply "
                                                      "on overlapping speakers and on audio below 8 kHz."}
    assert {"owner", "architecture", "factors", "caveats", "training_data", "evaluation_data", "ethical_considerations",
            "intended_use.primary_users", "intended_use.out_of_scope"} <= set(imported.todo)
    unmapped = "\n".join(imported.unmapped)
    assert "value '95.1 ± 0.4' is not a number" in unmapped
    assert "model-index args of wer (beam_size)" in unmapped
    assert "split test-noisy, args snr_db=5) of results wer 14.2" in unmapped
    assert "section 'Training hyperparameters'" in unmapped


@pytest.mark.parametrize("name", FIXTURES)
def test_imported_source_dumps_to_yaml_the_model_schema_allows(name: str) -> None:
    source = import_model_card(fixture_card(name)).source
    text = to_yaml(source)
    assert text.startswith("# yaml-language-server: $schema=../schemas/model.schema.json\n")
    loaded = yaml.safe_load(text)
    assert loaded == source and list(loaded) == list(source)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in partial_model_schema().iter_errors(loaded)]
    assert errors == []


@pytest.mark.parametrize("model_id", MODELS)
def test_imported_export_dumps_to_yaml_the_model_schema_allows(project: Project, model_id: str, tmp_path: Path) -> None:
    source = import_model_card(model_card(project, model_id)).source
    text = to_yaml(source)
    assert "—" in text and "\\u" not in text  # unicode kept as written
    assert "architecture: |" in text  # several lines: a literal block
    loaded = yaml.safe_load(text)
    assert loaded == source
    assert list(partial_model_schema().iter_errors(loaded)) == []


def test_import_keeps_schema_key_order() -> None:
    schema = json.loads((SCHEMAS / "model.schema.json").read_text(encoding="utf-8"))
    order = list(schema["properties"])
    keys = list(import_model_card(fixture_card("official-template")).source)
    assert keys == sorted(keys, key=order.index)


def test_import_of_a_card_without_metadata() -> None:
    text = "# Tiny tagger\n\n## Out-of-scope use\n\nAnything but part-of-speech tags (\\< 1 % of its output: `a\\<b`).\n"
    imported = import_model_card(text)
    assert imported.source == {"id": "tiny-tagger", "name": "Tiny tagger",
                               "intended_use": {"out_of_scope": "Anything but part-of-speech tags (< 1 % of its output: `a\\<b`)."}}
    assert "intended_use.primary_uses" in imported.todo and "metrics" in imported.todo


def test_import_reports_a_model_index_huggingface_hub_cannot_read() -> None:
    text = "---\nlicense: mit\nmodel-index:\n- results: []\n---\n# Odd card\n"
    imported = import_model_card(text)
    assert imported.source == {"id": "odd-card", "name": "Odd card", "license": "mit"}
    assert any(u.startswith("model-index: huggingface_hub cannot read it") for u in imported.unmapped)
    assert "results" in imported.todo


def test_import_refuses_a_metadata_block_that_is_not_yaml() -> None:
    with pytest.raises(CardError, match="not valid YAML"):
        import_model_card("---\nlicense: [mit\n---\n# Broken\n")


def test_importing_the_module_does_not_import_huggingface_hub() -> None:
    code = "import sys, techfile.integrations.huggingface; print('huggingface_hub' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_export_and_import_commands(project_copy: Path, tmp_path: Path) -> None:
    from conftest import run_cli

    card = tmp_path / "README.md"
    result = run_cli("export", "hf-card", "nodule-detector", str(project_copy), "--out", str(card))
    assert result.exit_code == 0, result.output
    assert card.read_text(encoding="utf-8").startswith("---\n")
    dataset = run_cli("export", "hf-card", "cxr-train", str(project_copy))
    assert dataset.exit_code == 0 and "pretty_name:" in dataset.output
    assert run_cli("export", "hf-card", "no-such-model", str(project_copy)).exit_code == 2
    imported = run_cli("import", "hf-card", str(card), str(project_copy))
    assert imported.exit_code == 0, imported.output
    assert "created" in imported.output and "still to write" in imported.output
    again = run_cli("import", "hf-card", str(card), str(project_copy))
    assert again.exit_code == 1 and "not overwritten" in again.output


def test_without_the_extra_the_command_names_it_and_exits_2(tmp_path: Path) -> None:
    from conftest import SAMPLE

    code = ("import sys; sys.modules['huggingface_hub'] = None; from techfile.cli import main; "
            f"main(['export', 'hf-card', 'nodule-detector', {str(SAMPLE)!r}])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert "pip install 'techfile[hf]'" in done.stderr and "Traceback" not in done.stderr
