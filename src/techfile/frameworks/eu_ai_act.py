"""The EU AI Act as data: the catalogue (eu_ai_act.yaml), the regulatory calendar (eu_ai_act_calendar.yaml) and the
obligation rules (eu_ai_act_obligations.yaml). Lookups only; what follows for a project is decided in assess/."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from techfile.frameworks.catalogue import load_catalogue

CHILD_KEYS = ("points", "use_cases")
ITEM_KEYS = ("id", "ref", "title")
_ACT_NUMBER = re.compile(r"(?<![\d/])(\d{1,4}/\d{1,4})(?![\d/])")


@dataclass(frozen=True)
class Item:
    """One numbered provision: id (e.g. annex_iv.2.d), the reference as cited, our short title, and its other facts."""

    id: str
    ref: str
    title: str
    parent: str | None = None
    section: str = ""
    facts: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def get(self, key: str, default: Any = None) -> Any:
        return self.facts.get(key, default)

    @property
    def documentable(self) -> bool:
        return bool(self.facts.get("documentable"))

    @property
    def reported(self) -> bool:
        """Taken from secondary sources only (an amendment whose Official Journal text was not read)."""
        return self.facts.get("verification") == "secondary"


def _walk(entries: list[dict[str, Any]], section: str, parent: str | None = None) -> Iterator[Item]:
    for entry in entries:
        facts = {k: v for k, v in entry.items() if k not in (*ITEM_KEYS, *CHILD_KEYS)}
        yield Item(entry["id"], entry["ref"], entry["title"], parent, section, facts)
        for key in CHILD_KEYS:
            yield from _walk(entry.get(key, []), section, entry["id"])


def act_numbers(text: str) -> list[str]:
    """The act numbers written in `text`, e.g. "Regulation (EU) 2017/745 (MDR)" -> ["2017/745"]."""
    return _ACT_NUMBER.findall(text)


class EuAiAct:
    """Lookups over the catalogue: items by id, sections, Annex I acts."""

    def __init__(self) -> None:
        self.data = load_catalogue("eu_ai_act")
        self.items: dict[str, Item] = {}
        for section, entries in self.data.items():
            if isinstance(entries, list):
                for item in _walk(entries, section):
                    self.items.setdefault(item.id, item)

    def ref(self, item_id: str) -> str:
        return self.items[item_id].ref if item_id in self.items else item_id

    def title(self, item_id: str) -> str:
        return self.items[item_id].title if item_id in self.items else item_id

    def item(self, item_id: str) -> Item | None:
        return self.items.get(item_id)

    def section(self, name: str) -> list[Item]:
        """A section's items in order, parents before their points (e.g. `annex_iv`, `annex_v`, `article_17_1`)."""
        return list(_walk(self.data.get(name, []), name))

    def annex_i_act(self, number: str) -> Item | None:
        """The Annex I point listing the act with this number ("2017/745"), if any."""
        return next((i for i in self.section("annex_i") if i.get("act") == number), None)

    def annex_i_acts_in(self, text: str) -> list[Item]:
        """The Annex I points whose act numbers, or usual short names (MDR, IVDR ...), `text` names."""
        found = [self.annex_i_act(number) for number in act_numbers(text)]
        if not any(found):
            found = [i for i in self.section("annex_i")
                     if any(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) for name in i.get("aliases", []))]
        return list(dict.fromkeys(i for i in found if i is not None))


@cache
def eu_ai_act() -> EuAiAct:
    return EuAiAct()


# --- the regulatory calendar -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarEntry:
    """One dated obligation of the calendar, with its legal basis, status and source."""

    id: str
    date: dt.date | None
    scope: str
    legal_basis: str
    status: str
    act: str
    verified_on: dt.date
    source_kind: str
    source_note: str = ""
    references: tuple[str, ...] = ()
    amended_by: str = ""
    change: str = "amended"
    supersedes: str = ""
    superseded_by: str = ""
    note: str = ""

    @property
    def reported(self) -> bool:
        """Only secondary sources back this entry: the Official Journal text was not read."""
        return self.source_kind != "official-journal"

    @property
    def basis(self) -> str:
        """The legal basis as cited, with the amending act's article where amended."""
        if not self.amended_by:
            return self.legal_basis
        verb = "inserted" if self.change == "inserted" else "amended"
        return f"{self.legal_basis}, as {verb} by {self.amended_by}"


@dataclass(frozen=True)
class CalendarSource:
    id: str
    title: str
    date: str
    kind: str
    url: str = ""
    note: str = ""


@dataclass(frozen=True)
class Calendar:
    entries: dict[str, CalendarEntry]
    acts: dict[str, dict[str, Any]]
    sources: dict[str, CalendarSource]

    def entry(self, entry_id: str) -> CalendarEntry:
        return self.entries[entry_id]

    def superseded(self, entry: CalendarEntry) -> CalendarEntry | None:
        return self.entries.get(entry.supersedes) if entry.supersedes else None


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@cache
def calendar() -> Calendar:
    """The regulatory calendar (eu_ai_act_calendar.yaml)."""
    data = load_catalogue("eu_ai_act_calendar")
    entries = {}
    for raw in data["entries"]:
        source = raw["source"]
        verified = _date(raw["verified_on"])
        assert verified is not None
        entries[raw["id"]] = CalendarEntry(
            id=raw["id"], date=_date(raw.get("date")), scope=raw["scope"], legal_basis=raw["legal_basis"],
            status=raw["status"], act=raw["act"], verified_on=verified, source_kind=source["kind"],
            source_note=source.get("note", source.get("reference", "")), references=tuple(source.get("references", [])),
            amended_by=raw.get("amended_by", ""), change=raw.get("change", "amended"), supersedes=raw.get("supersedes", ""),
            superseded_by=raw.get("superseded_by", ""), note=raw.get("note", raw.get("interpretation", "")))
    sources = {s["id"]: CalendarSource(s["id"], s["title"], str(s["date"]), s["kind"], s.get("url", ""), s.get("note", ""))
               for s in data.get("sources", [])}
    return Calendar(entries, {a["id"]: a for a in data["acts"]}, sources)


def stale_entries(today: dt.date, max_age_days: int = 365) -> list[CalendarEntry]:
    """Calendar entries (and acts) whose `verified_on` is older than `max_age_days` on `today`: re-check them."""
    cal = calendar()
    stale = [e for e in cal.entries.values() if (today - e.verified_on).days > max_age_days]
    for act in cal.acts.values():
        verified = _date(act["verified_on"])
        if verified is not None and (today - verified).days > max_age_days:
            stale.append(CalendarEntry(act["id"], None, act["title"], "", act["status"], act["id"], verified, "act"))
    return stale


# --- obligation rules --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObligationRule:
    """Who must do what, for which class and route, from which calendar entry (eu_ai_act_obligations.yaml)."""

    id: str
    ref: str
    what: str
    items: tuple[str, ...]
    roles: tuple[str, ...]
    classes: tuple[str, ...]
    routes: tuple[str, ...] = ()
    when: tuple[str, ...] = ()
    calendar: str = ""
    transitional: str = ""

    def covers(self, item_id: str) -> int:
        """How specifically this rule names `item_id`: the length of the matching prefix, or 0."""
        return max((len(p) for p in self.items if item_id == p or item_id.startswith(p + ".")), default=0)


@dataclass(frozen=True)
class ObligationRules:
    rules: tuple[ObligationRule, ...]
    calendars: dict[str, dict[str, str]]
    route_limits: dict[str, tuple[str, ...]]
    conditions: dict[str, str]
    naming: dict[str, ObligationRule] = field(default_factory=dict, compare=False, repr=False)  # id → first rule naming it

    def rule_for(self, item_id: str) -> ObligationRule | None:
        """The most specific rule covering a catalogue item, if any: the first rule that names the longest of the ids
        the item is part of (itself, then each id before one of its dots), as `covers` ranks them."""
        if not self.naming:
            for rule in self.rules:
                for named in rule.items:
                    self.naming.setdefault(named, rule)
        candidate = item_id
        while candidate not in self.naming:
            if "." not in candidate:
                return None
            candidate = candidate.rsplit(".", 1)[0]
        return self.naming[candidate]


@cache
def obligation_rules() -> ObligationRules:
    data = load_catalogue("eu_ai_act_obligations")
    rules = tuple(ObligationRule(r["id"], r["ref"], r["what"], tuple(r["items"]), tuple(r["roles"]), tuple(r["classes"]),
                                 tuple(r.get("routes", ())), tuple(r.get("when", ())), r.get("calendar", ""),
                                 r.get("transitional", "")) for r in data["rules"])
    return ObligationRules(rules, data["calendars"], {k: tuple(v) for k, v in data["route_limits"].items()},
                           data["conditions"])
