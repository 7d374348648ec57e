"""`techfile export eu-database`: the EU database registration data (EU AI Act Annex VIII) as JSON, valid against
schemas/eu-database-export.schema.json, field by field from the sources; what they do not give is marked missing
with a null value. Deterministic: keys sorted, `indent=2`, the assessment date rather than the clock."""

from __future__ import annotations

import json
from typing import Any

from techfile import __version__
from techfile.assess.grades import assess
from techfile.assess.registration import registration_sheet
from techfile.project import Project

SCHEMA_ID = "urn:techfile:schema:v1:eu-database-export"
SCHEMA_FILE = "eu-database-export.schema.json"


class ExportInvalid(Exception):
    """The export does not validate against its own schema (a bug in techfile)."""


def eu_database_document(project: Project) -> dict[str, Any]:
    assert project.system is not None
    assessment = assess(project)
    sheet = registration_sheet(project, assessment)
    registration = project.registration
    return {
        "$schema": SCHEMA_ID,
        "techfile_version": __version__,
        "assessed_on": assessment.date,
        "system": {"id": project.system.id, "name": project.system.name, "version": project.system.version},
        "registration": {"required": sheet.decision.required, "sections": [s.upper() for s in sheet.decision.sections],
                         "public": sheet.decision.public, "reasons": list(sheet.decision.reasons),
                         "eu_database_id": registration.eu_database_id if registration else None},
        "sections": [{"section": s.id.upper(), "ref": s.ref, "title": s.title, "article": s.article,
                      "points": [{"point": p.number, "id": p.item.id, "ref": p.item.ref, "title": p.item.title,
                                  "status": p.status, "reason": p.item.reason,
                                  "fields": [{"source": f.source, "status": "given" if f.given else "missing",
                                              "value": f.value if f.given else None} for f in p.fields]}
                                 for p in s.points]}
                     for s in sheet.required_sections],
    }


def eu_database_json(project: Project) -> str:
    """The export as JSON text, checked against its shipped schema."""
    from jsonschema import Draft202012Validator

    from techfile.resources import schemas_dir

    document = eu_database_document(project)
    schema = json.loads((schemas_dir() / SCHEMA_FILE).read_text(encoding="utf-8"))
    errors = sorted(Draft202012Validator(schema).iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        raise ExportInvalid(f"the EU database export does not match {SCHEMA_FILE}: {errors[0].message}")
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
