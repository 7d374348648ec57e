"""The ISO/IEC 42001, NIST AI RMF and SOC 2 catalogues and the crosswalks: complete, well-formed, in our own words."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from techfile.frameworks.catalogue import load_catalogue

from conftest import REPO

REFERENCE = REPO.parent / "shared" / "reference"

CATALOGUES = ("iso_42001", "nist_ai_rmf", "soc2")
HEADER = {
    "iso_42001": {"id": "iso-42001", "claim_key": "iso_42001", "assessable": "control"},
    "nist_ai_rmf": {"id": "nist-ai-rmf", "claim_key": "nist_ai_rmf", "assessable": "subcategory"},
    "soc2": {"id": "soc2", "claim_key": "soc2", "assessable": "criterion"},
}
KINDS = {
    "iso_42001": {"clause", "objective", "control"},
    "nist_ai_rmf": {"function", "category", "subcategory"},
    "soc2": {"group", "criterion"},
}
ITEM_KEYS = {"id", "kind", "title", "parent", "summary", "category"}
ID_PATTERNS = {
    "iso_42001": re.compile(r"^(\d+(\.\d+){0,2}|A\.\d+(\.\d+){0,2})$"),
    "nist_ai_rmf": re.compile(r"^(GOVERN|MAP|MEASURE|MANAGE)( \d+(\.\d+)?)?$"),
    "soc2": re.compile(r"^(CC[1-9]|A1|C1|PI1|P[1-8])(\.\d+)?$"),
}
AUTHORITIES = ("official", "listed", "institutional", "community", "derived")
FRAMEWORK_FILES = {"iso-42001": "iso_42001", "nist-ai-rmf": "nist_ai_rmf", "soc2": "soc2", "eu-ai-act": "eu_ai_act"}
SOC2_CATEGORIES = {"security": 33, "availability": 3, "confidentiality": 2, "processing-integrity": 5, "privacy": 18}


def items(name: str) -> list[dict[str, Any]]:
    return load_catalogue(name)["items"]


def of_kind(name: str, kind: str) -> list[dict[str, Any]]:
    return [item for item in items(name) if item["kind"] == kind]


def reference(filename: str) -> Any:
    path = REFERENCE / filename
    if not path.is_file():
        pytest.skip(f"reference material not available ({path})")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def normalised(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def eu_ai_act_ids() -> set[str]:
    """Every item id in eu_ai_act.yaml: each list section's entries and, recursively, their points and use cases."""

    def walk(entries: list[Any]) -> Iterator[str]:
        for entry in entries:
            if isinstance(entry, dict):
                if isinstance(entry.get("id"), str):
                    yield entry["id"]
                for key in ("points", "use_cases"):
                    yield from walk(entry.get(key, []))

    cat = load_catalogue("eu_ai_act")
    return {id_ for section in cat.values() if isinstance(section, list) for id_ in walk(section)}


def catalogue_ids(framework: str) -> set[str]:
    if framework == "eu-ai-act":
        return eu_ai_act_ids()
    return {item["id"] for item in items(FRAMEWORK_FILES[framework])}


# --- shape of every catalogue --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CATALOGUES)
def test_header(name: str) -> None:
    framework = load_catalogue(name)["framework"]
    assert set(framework) == {"id", "title", "version", "publisher", "claim_key", "assessable"}
    for key, value in HEADER[name].items():
        assert framework[key] == value
    assert all(isinstance(framework[key], str) and framework[key] for key in framework)


@pytest.mark.parametrize("name", CATALOGUES)
def test_items_well_formed(name: str) -> None:
    for item in items(name):
        assert {"id", "kind", "title"} <= set(item) <= ITEM_KEYS, item
        assert all(isinstance(item[key], str) and item[key].strip() for key in item), item
        assert item["kind"] in KINDS[name], item
        assert ID_PATTERNS[name].match(item["id"]), item["id"]


@pytest.mark.parametrize("name", CATALOGUES)
def test_ids_unique(name: str) -> None:
    duplicates = [id_ for id_, n in Counter(item["id"] for item in items(name)).items() if n > 1]
    assert not duplicates


@pytest.mark.parametrize("name", CATALOGUES)
def test_parents_exist_and_come_first(name: str) -> None:
    seen: dict[str, dict[str, Any]] = {}
    for item in items(name):
        if "parent" in item:
            assert item["parent"] in seen, f"{item['id']}: parent {item['parent']} missing or after its child"
            assert item["id"].startswith(item["parent"]), item["id"]
        seen[item["id"]] = item


@pytest.mark.parametrize("name", CATALOGUES)
def test_assessable_kind_exists_and_is_summarised(name: str) -> None:
    kind = load_catalogue(name)["framework"]["assessable"]
    assessable = of_kind(name, kind)
    assert assessable
    for item in assessable:
        assert item.get("summary", "").strip(), item["id"]
        assert "\n" not in item["summary"].strip(), item["id"]
        assert "parent" in item, item["id"]


def natural_key(id_: str) -> tuple[Any, ...]:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"[ .]", id_))


@pytest.mark.parametrize("name", CATALOGUES)
def test_children_in_numeric_order(name: str) -> None:
    """Siblings appear in the framework's numbering order."""
    siblings: dict[str | None, list[str]] = {}
    for item in items(name):
        siblings.setdefault(item.get("parent"), []).append(item["id"])
    for parent, ids in siblings.items():
        if parent is None and name != "iso_42001":
            continue  # top-level order is fixed by the framework, checked below
        if parent is None:
            clauses = [i for i in ids if not i.startswith("A.")]
            annex = [i for i in ids if i.startswith("A.")]
            assert ids == clauses + annex
            assert clauses == sorted(clauses, key=natural_key)
            assert annex == sorted(annex, key=natural_key)
        else:
            assert ids == sorted(ids, key=natural_key), parent


# --- ISO/IEC 42001 -------------------------------------------------------------------------------------------------


def test_iso_counts() -> None:
    assert len(of_kind("iso_42001", "control")) == 38
    assert len(of_kind("iso_42001", "clause")) == 43
    objectives = [item["id"] for item in of_kind("iso_42001", "objective")]
    assert objectives == ["A.2", "A.3", "A.4", "A.5", "A.6", "A.6.1", "A.6.2", "A.7", "A.8", "A.9", "A.10"]
    per_topic = Counter(".".join(item["id"].split(".")[:2]) for item in of_kind("iso_42001", "control"))
    assert per_topic == {"A.2": 3, "A.3": 2, "A.4": 5, "A.5": 4, "A.6": 9, "A.7": 5, "A.8": 4, "A.9": 3, "A.10": 3}


def test_iso_structure() -> None:
    by_id = {item["id"]: item for item in items("iso_42001")}
    for control in of_kind("iso_42001", "control"):
        assert by_id[control["parent"]]["kind"] == "objective"
        assert control["id"].rsplit(".", 1)[1] != "1", "Annex A controls start at .2"
    for clause in of_kind("iso_42001", "clause"):
        assert clause["id"].split(".")[0] in {str(n) for n in range(4, 11)}
        if "parent" in clause:
            assert by_id[clause["parent"]]["kind"] == "clause"
    assert by_id["A.6.1"]["parent"] == by_id["A.6.2"]["parent"] == "A.6"
    assert {"6.1.1", "6.1.2", "6.1.3", "6.1.4"} <= set(by_id)


def test_iso_matches_reference() -> None:
    ref = reference("iso42001.yaml")
    assert [item["id"] for item in of_kind("iso_42001", "clause")] == [c["id"] for c in ref["clauses"]]
    assert [item["id"] for item in of_kind("iso_42001", "control")] == [c["id"] for c in ref["annex_a"]["controls"]]
    parents = {item["id"]: item["parent"] for item in of_kind("iso_42001", "control")}
    assert parents == {c["id"]: c["objective"] for c in ref["annex_a"]["controls"]}
    assert {c["id"] for c in ref["annex_a"]["control_objectives"]} <= {i["id"] for i in of_kind("iso_42001", "objective")}


@pytest.mark.parametrize("name", ["iso_42001", "soc2"])
def test_titles_are_short(name: str) -> None:
    """Titles are labels of a few words, never a pasted sentence of the standard."""
    for item in items(name):
        assert len(item["title"].split()) <= 6, item["id"]


# --- NIST AI RMF ---------------------------------------------------------------------------------------------------


def test_nist_counts() -> None:
    assert [item["id"] for item in of_kind("nist_ai_rmf", "function")] == ["GOVERN", "MAP", "MEASURE", "MANAGE"]
    assert len(of_kind("nist_ai_rmf", "category")) == 19
    assert len(of_kind("nist_ai_rmf", "subcategory")) == 72
    categories = Counter(item["parent"] for item in of_kind("nist_ai_rmf", "category"))
    assert categories == {"GOVERN": 6, "MAP": 5, "MEASURE": 4, "MANAGE": 4}
    subcategories = Counter(item["id"].split()[0] for item in of_kind("nist_ai_rmf", "subcategory"))
    assert subcategories == {"GOVERN": 19, "MAP": 18, "MEASURE": 22, "MANAGE": 13}


def test_nist_structure() -> None:
    for category in of_kind("nist_ai_rmf", "category"):
        assert category["id"].split()[0] == category["parent"]
    for sub in of_kind("nist_ai_rmf", "subcategory"):
        assert sub["id"].split(".")[0] == sub["parent"]


def test_nist_matches_reference() -> None:
    ref = reference("nist-ai-rmf.yaml")
    expected = [s["id"] for f in ref["functions"] for c in f["categories"] for s in c["subcategories"]]
    assert [item["id"] for item in of_kind("nist_ai_rmf", "subcategory")] == expected
    expected = [c["id"] for f in ref["functions"] for c in f["categories"]]
    assert [item["id"] for item in of_kind("nist_ai_rmf", "category")] == expected


# --- SOC 2 ---------------------------------------------------------------------------------------------------------


def test_soc2_counts() -> None:
    criteria = of_kind("soc2", "criterion")
    assert len(criteria) == 61
    assert Counter(item["category"] for item in criteria) == SOC2_CATEGORIES
    groups = [item["id"] for item in of_kind("soc2", "group")]
    assert groups == [f"CC{n}" for n in range(1, 10)] + ["A1", "C1", "PI1"] + [f"P{n}" for n in range(1, 9)]


def test_soc2_categories() -> None:
    by_id = {item["id"]: item for item in items("soc2")}
    for item in items("soc2"):
        assert item.get("category") in SOC2_CATEGORIES, item["id"]
        if item["id"].startswith("CC"):
            assert item["category"] == "security"
        if "parent" in item:
            assert by_id[item["parent"]]["kind"] == "group"
            assert by_id[item["parent"]]["category"] == item["category"]
            assert item["id"].split(".")[0] == item["parent"]


def test_soc2_matches_reference() -> None:
    ref = reference("soc2-tsc.yaml")
    assert [item["id"] for item in of_kind("soc2", "group")] == [g["id"] for g in ref["groups"]]
    expected = [c["id"] for g in ref["groups"] for c in g["criteria"]]
    assert [item["id"] for item in of_kind("soc2", "criterion")] == expected
    counts = ref["counts"]
    assert SOC2_CATEGORIES == {
        "security": counts["common_criteria"],
        "availability": counts["availability"],
        "confidentiality": counts["confidentiality"],
        "processing-integrity": counts["processing_integrity"],
        "privacy": counts["privacy"],
    }
    category = {g["id"]: g["category"].replace("common_criteria", "security").replace("_", "-") for g in ref["groups"]}
    assert {item["id"]: item["category"] for item in of_kind("soc2", "group")} == category


# --- own words -----------------------------------------------------------------------------------------------------


def reference_summaries(node: Any) -> Iterator[str]:
    """Every summary-like string in a reference file."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"summary", "objective_summary", "statement", "definition"} and isinstance(value, str):
                yield value
            else:
                yield from reference_summaries(value)
    elif isinstance(node, list):
        for value in node:
            yield from reference_summaries(value)


@pytest.mark.parametrize(("name", "filename"), [("iso_42001", "iso42001.yaml"), ("soc2", "soc2-tsc.yaml")])
def test_summaries_not_copied(name: str, filename: str) -> None:
    theirs = {normalised(text) for text in reference_summaries(reference(filename))}
    assert theirs
    copied = [item["id"] for item in items(name) if "summary" in item and normalised(item["summary"]) in theirs]
    assert not copied, f"summaries copied from the reference: {copied}"


def reference_summaries_by_id(node: Any, found: dict[str, str]) -> dict[str, str]:
    """The reference's own summary of each id it describes."""
    if isinstance(node, dict):
        for key in ("summary", "objective_summary"):
            if "id" in node and isinstance(node.get(key), str):
                found[str(node["id"])] = node[key]
        for value in node.values():
            reference_summaries_by_id(value, found)
    elif isinstance(node, list):
        for value in node:
            reference_summaries_by_id(value, found)
    return found


@pytest.mark.parametrize(("name", "filename"), [("iso_42001", "iso42001.yaml"), ("soc2", "soc2-tsc.yaml")])
def test_summaries_not_near_copies(name: str, filename: str) -> None:
    """Our summary of an item is not a light edit of the reference's summary of the same item."""
    theirs = reference_summaries_by_id(reference(filename), {})
    close = [
        item["id"]
        for item in items(name)
        if item["id"] in theirs
        and difflib.SequenceMatcher(None, normalised(item.get("summary", "")), normalised(theirs[item["id"]])).ratio() >= 0.8
    ]
    assert not close, f"summaries too close to the reference: {close}"


# --- crosswalks ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crosswalks() -> dict[str, Any]:
    return load_catalogue("crosswalks")


def test_crosswalk_authorities_and_sources(crosswalks: dict[str, Any]) -> None:
    assert tuple(crosswalks["authorities"]) == AUTHORITIES
    assert all(isinstance(text, str) and text.strip() for text in crosswalks["authorities"].values())
    ids = [source["id"] for source in crosswalks["sources"]]
    assert len(ids) == len(set(ids))
    for source in crosswalks["sources"]:
        assert {"id", "title", "authority"} <= set(source) <= {"id", "title", "url", "authority", "note"}
        assert source["authority"] in AUTHORITIES


def test_crosswalk_mappings_resolve(crosswalks: dict[str, Any]) -> None:
    sources = {source["id"]: source for source in crosswalks["sources"]}
    ids = {framework: catalogue_ids(framework) for framework in FRAMEWORK_FILES}
    mappings = crosswalks["mappings"]
    assert mappings
    for mapping in mappings:
        assert set(mapping) <= {"from", "to", "source", "authority", "note"}, mapping
        for end in ("from", "to"):
            framework, item = mapping[end]["framework"], mapping[end]["item"]
            assert framework in ids, mapping
            assert item in ids[framework], f"{framework} has no item {item!r}"
        assert mapping["from"]["framework"] != mapping["to"]["framework"], mapping
        assert mapping["source"] in sources, mapping
        assert mapping["authority"] in AUTHORITIES, mapping
        assert mapping["authority"] == sources[mapping["source"]]["authority"], mapping
    keys = [(m["from"]["framework"], m["from"]["item"], m["to"]["framework"], m["to"]["item"], m["source"]) for m in mappings]
    assert len(keys) == len(set(keys)), "duplicate mappings"


def test_crosswalk_counts(crosswalks: dict[str, Any]) -> None:
    per_source = Counter(mapping["source"] for mapping in crosswalks["mappings"])
    assert per_source["nist-iso-microsoft"] == 280
    microsoft = [m for m in crosswalks["mappings"] if m["source"] == "nist-iso-microsoft"]
    assert {m["from"]["item"] for m in microsoft} == {i["id"] for i in of_kind("nist_ai_rmf", "subcategory")}
    assert {i["id"] for i in of_kind("iso_42001", "control")} <= {m["to"]["item"] for m in microsoft}


def test_crosswalk_carries_reference(crosswalks: dict[str, Any]) -> None:
    ref = reference("crosswalks.yaml")
    entries = next(m for m in ref["mappings"] if m["id"] == "nist-ai-rmf-to-iso42001-microsoft")["entries"]
    expected = {(e["nist"], str(link["iso_id"])) for e in entries for link in e["iso"]}
    ours = {
        (m["from"]["item"], m["to"]["item"])
        for m in crosswalks["mappings"]
        if m["source"] == "nist-iso-microsoft" and m["from"]["framework"] == "nist-ai-rmf"
    }
    assert ours == expected
