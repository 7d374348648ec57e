"""The regulatory calendar (eu_ai_act_calendar.yaml): every dated obligation with its basis, status, source and
verification date; the original dates kept as superseded; and data that must be re-checked once a year."""

from __future__ import annotations

import datetime as dt

import pytest

from techfile.frameworks.catalogue import load_catalogue
from techfile.frameworks.eu_ai_act import calendar, eu_ai_act, obligation_rules, stale_entries

STATUSES = {"proposed", "adopted", "in force", "superseded"}


@pytest.fixture(scope="module")
def raw() -> dict:
    return load_catalogue("eu_ai_act_calendar")


def test_every_entry_is_complete(raw: dict) -> None:
    acts = {a["id"] for a in raw["acts"]}
    sources = {s["id"] for s in raw["sources"]}
    for entry in raw["entries"]:
        assert {"id", "scope", "legal_basis", "status", "act", "source", "verified_on"} <= set(entry), entry["id"]
        assert entry["status"] in STATUSES and entry["act"] in acts, entry["id"]
        dt.date.fromisoformat(str(entry["verified_on"]))
        if entry.get("date") is not None:
            dt.date.fromisoformat(str(entry["date"]))
        source = entry["source"]
        assert source["kind"] in ("official-journal", "secondary"), entry["id"]
        assert set(source.get("references", [])) <= sources, entry["id"]


def test_amended_entries_say_they_rest_on_secondary_sources(raw: dict) -> None:
    for entry in raw["entries"]:
        amended = entry["act"] == "reg_2026_1744"
        assert bool(entry.get("amended_by")) == amended, entry["id"]
        if amended:
            assert "2026/1744" in entry["amended_by"]
            assert entry["source"]["kind"] == "secondary" and entry["source"]["references"], entry["id"]
            assert "not read" in entry["source"]["note"], entry["id"]
        else:
            assert entry["source"]["kind"] == "official-journal" and "2024/1689" in entry["source"]["reference"], entry["id"]
    amending = next(a for a in raw["acts"] if a["id"] == "reg_2026_1744")
    assert amending["source"]["kind"] == "secondary" and amending["entry_into_force"] == "2026-07-27"


def test_superseded_dates_are_kept_and_linked(raw: dict) -> None:
    cal = calendar()
    superseded = [e for e in cal.entries.values() if e.status == "superseded"]
    assert {e.id for e in superseded} == {"apply.high_risk_annex_iii.original", "apply.high_risk_annex_i.original",
                                          "transition.art_50_2_legacy.original", "apply.sandboxes.original"}
    for old in superseded:
        new = cal.entry(old.superseded_by)
        assert new.supersedes == old.id and new.status == "in force" and new.date and old.date and new.date > old.date


@pytest.mark.parametrize("entry, date, old", [
    ("apply.high_risk_annex_iii", "2027-12-02", "2026-08-02"),
    ("apply.high_risk_annex_i", "2028-08-02", "2027-08-02"),
    ("transition.art_50_2_legacy", "2026-12-02", "2026-08-02"),
    ("apply.sandboxes", "2027-08-02", "2026-08-02"),
    ("apply.prohibitions_2026", "2026-12-02", None),
    ("apply.chapters_i_ii", "2025-02-02", None),
    ("apply.gpai", "2025-08-02", None),
    ("apply.general", "2026-08-02", None),
    ("transition.gpai_legacy", "2027-08-02", None),
    ("transition.high_risk_legacy_public_authorities", "2030-08-02", None),
    ("transition.large_scale_it", "2030-12-31", None),
])
def test_the_dates_of_regulation_2024_1689_as_amended(entry: str, date: str, old: str | None) -> None:
    cal = calendar()
    found = cal.entry(entry)
    assert found.date == dt.date.fromisoformat(date)
    previous = cal.superseded(found)
    assert (previous.date.isoformat() if previous and previous.date else None) == old


def test_the_legal_basis_names_the_amending_article() -> None:
    entry = calendar().entry("apply.high_risk_annex_i")
    assert entry.basis == "Art. 113, third paragraph, point (c), as amended by Regulation (EU) 2026/1744, Art. 1(40)(b)"
    assert calendar().entry("transition.art_50_2_legacy").basis.startswith("Art. 111(4), as inserted by Regulation (EU) 2026/1744")
    assert entry.reported and not calendar().entry("apply.gpai").reported


def test_calendar_data_was_verified_within_a_year() -> None:
    """Fails once an entry's `verified_on` is more than a year old: re-check it against EUR-Lex, then update it."""
    stale = stale_entries(dt.date.today())
    assert not stale, "re-check these calendar entries and update `verified_on`: " + ", ".join(
        f"{e.id} ({e.verified_on})" for e in stale)


def test_the_freshness_check_catches_old_data() -> None:
    cal = calendar()
    newest = max(e.verified_on for e in cal.entries.values())
    assert not stale_entries(newest + dt.timedelta(days=365))
    late = stale_entries(newest + dt.timedelta(days=366))
    assert {e.id for e in late} >= set(cal.entries)


def test_obligation_rules_and_catalogue_name_existing_entries_and_items() -> None:
    cal, rules, act = calendar(), obligation_rules(), eu_ai_act()
    for rule in rules.rules:
        named = rules.calendars.get(rule.calendar, {rule.calendar: rule.calendar}).values() if rule.calendar != "per-practice" else []
        assert all(entry in cal.entries for entry in named), rule.id
        assert all(condition in rules.conditions for condition in rule.when), rule.id
        assert all(any(i == item or i.startswith(item + ".") for i in act.items) for item in rule.items), rule.id
    for item in act.items.values():
        if item.get("calendar"):
            assert item.get("calendar") in cal.entries, item.id
    assert set(rules.route_limits["annex-i-b"]) <= {r.id for r in rules.rules}
