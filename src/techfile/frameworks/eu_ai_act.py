"""The EU AI Act catalogue (frameworks/eu_ai_act.yaml) and what follows from a risk class, read as data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from techfile.frameworks.catalogue import load_catalogue


@dataclass(frozen=True)
class Item:
    """One numbered provision: id (e.g. annex_iv.2.d), the reference as cited, and our short title."""

    id: str
    ref: str
    title: str
    parent: str | None = None


def _walk(entries: list[dict[str, Any]], parent: str | None = None) -> Iterator[Item]:
    for entry in entries:
        yield Item(entry["id"], entry["ref"], entry["title"], parent)
        for key in ("points", "use_cases"):
            yield from _walk(entry.get(key, []), entry["id"])


class EuAiAct:
    """Lookups over the catalogue: items by id, Annex IV/V structure, obligations and dates."""

    def __init__(self) -> None:
        self.data = load_catalogue("eu_ai_act")
        self.follow = load_catalogue("eu_ai_act_obligations")
        self.items: dict[str, Item] = {}
        for section, entries in self.data.items():
            if isinstance(entries, list) and section != "dates":
                for item in _walk(entries):
                    self.items.setdefault(item.id, item)

    def ref(self, item_id: str) -> str:
        return self.items[item_id].ref if item_id in self.items else item_id

    def title(self, item_id: str) -> str:
        return self.items[item_id].title if item_id in self.items else item_id

    def section(self, name: str) -> list[Item]:
        """A section's items in order, parents before their points (e.g. `annex_iv`, `annex_v`, `article_17_1`)."""
        return list(_walk(self.data.get(name, [])))

    def high_risk_obligations(self) -> list[tuple[str, str]]:
        return [(o["ref"], o["what"]) for o in self.follow["high_risk"]]

    def application_dates(self, risk_class: str, route: str) -> list[tuple[str, str]]:
        key = f"{risk_class}/{route}" if risk_class == "high-risk" else risk_class
        dates = [(d["date"], d["what"]) for d in self.follow["application_dates"].get(key, [])]
        caveat = self.follow["omnibus_caveat"].get(key)
        return dates + ([("", caveat)] if caveat else [])


@cache
def eu_ai_act() -> EuAiAct:
    return EuAiAct()
