"""Conventions that keep a project easy to navigate: warnings, not errors."""

from __future__ import annotations

from pathlib import PurePosixPath

from techfile.diagnostics import Diagnostic
from techfile.sources.yaml_source import SourceDocument
from techfile.validation.annotations import annotated_places, find_values
from techfile.validation.references import EntityRecord


def check_file_names(kind: str, folder: bool, document: SourceDocument) -> list[Diagnostic]:
    """In a folder of entities, the file is named after the entity's id."""
    entity_id = document.data.get("id")
    stem = PurePosixPath(document.relpath).stem
    if not folder or not isinstance(entity_id, str) or entity_id == stem:
        return []
    return [document.finding("TF501", ("id",), f"id {entity_id!r} does not match the file name {stem!r}",
                             f"Rename the file to {entity_id}.yaml, or change the id.")]


def check_unused_evidence(documents: list[tuple[str, SourceDocument]], index: dict[str, EntityRecord]) -> list[Diagnostic]:
    """Evidence records that no other source refers to."""
    referred: set[str] = set()
    for kind, document in documents:
        for place in annotated_places(kind):
            if place.ref_kind in ("evidence", "*"):
                referred.update(v for _, v in find_values(document.data, place.pattern) if isinstance(v, str))
    diagnostics = []
    for record in index.values():
        if record.kind == "evidence" and record.id not in referred:
            diagnostics.append(record.document.finding(
                "TF502", ("id",), f"evidence {record.id!r} is not referred to by any source",
                "List it under `evidence:` of the control, model, dataset or procedure it supports."))
    return diagnostics
