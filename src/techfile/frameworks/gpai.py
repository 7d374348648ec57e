"""The `gpai` pack's data: how each point is cited, which facts fill it (gpai_sources.yaml) and which document shows it."""

from __future__ import annotations

import re
from typing import Any

from techfile.frameworks.catalogue import load_catalogue

# The documents of a general-purpose AI model's provider, in site order.
GPAI_DOCUMENTS = ("gpai-technical-documentation", "gpai-downstream-information", "copyright-policy", "training-content-summary")
TEMPLATE_VERSION = "2025-07-24"
TEMPLATE_NAME = "AI Office template for the public summary of training content, as published on 24 July 2025"

_ANNEX_XI = re.compile(r"^annex_xi\.s(\d+)\.(\d+)(?:\.([a-z]))?$")
_ANNEX_XII = re.compile(r"^annex_xii\.(\d+)(?:\.([a-z]))?$")
_ARTICLE = re.compile(r"^art_(\d+)\.(\d+)\.([a-z])$")


def point_ref(item_id: str) -> str:
    """How a point of the pack is cited: annex_xi.s1.2.c → Annex XI, Section 1, point 2(c)."""
    if match := _ANNEX_XI.match(item_id):
        section, point, letter = match.groups()
        return f"Annex XI, Section {section}, point {point}" + (f"({letter})" if letter else "")
    if match := _ANNEX_XII.match(item_id):
        point, letter = match.groups()
        return f"Annex XII, point {point}" + (f"({letter})" if letter else "")
    if match := _ARTICLE.match(item_id):
        article, paragraph, letter = match.groups()
        return f"Art. {article}({paragraph})({letter})"
    if item_id.startswith("summary."):
        return f"Template section {item_id.removeprefix('summary.')}"
    return item_id


def point_sources(item_id: str) -> dict[str, Any]:
    """The `needs`, `shows`, `from` and `evidence_expected` of a point (gpai_sources.yaml)."""
    return dict(load_catalogue("gpai_sources")["points"].get(item_id, {}))


def point_document(item_id: str) -> str | None:
    """The document kind that shows a point: the longest prefix that gpai_sources.yaml `documents` names."""
    documents: dict[str, str] = load_catalogue("gpai_sources")["documents"]
    matches = [p for p in documents if item_id == p or item_id.startswith(f"{p}.")]
    return documents[max(matches, key=len)] if matches else None


def under(item_id: str, prefixes: list[str]) -> bool:
    """Whether a point is one of `prefixes` or sits below one of them."""
    return any(item_id == p or item_id.startswith(f"{p}.") for p in prefixes)
