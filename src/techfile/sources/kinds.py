"""The kinds of source file and where a project keeps them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceKind:
    """One kind of source: its name, where its files live, and whether one file or a folder of them."""

    name: str
    location: str
    folder: bool
    required: bool = False
    label: str = ""

    @property
    def schema_file(self) -> str:
        return f"{self.name}.schema.json"


PROJECT_FILE = "techfile.yaml"

SOURCE_KINDS: tuple[SourceKind, ...] = (
    SourceKind("project", PROJECT_FILE, folder=False, required=True, label="project"),
    SourceKind("system", "system.yaml", folder=False, required=True, label="system"),
    SourceKind("pipeline_stage", "pipeline", folder=True, label="pipeline stage"),
    SourceKind("dataset", "datasets", folder=True, label="dataset"),
    SourceKind("model", "models", folder=True, label="model"),
    SourceKind("risk", "risks", folder=True, label="risk"),
    SourceKind("control", "controls", folder=True, label="control"),
    SourceKind("procedure", "qms", folder=True, label="QMS procedure"),
    SourceKind("evidence", "evidence", folder=True, label="evidence record"),
    SourceKind("logbook_entry", "logbook", folder=True, label="logbook entry"),
    SourceKind("soa", "soa.yaml", folder=False, label="Statement of Applicability"),
    SourceKind("gspr", "gspr.yaml", folder=False, label="GSPR checklist"),
    SourceKind("change", "changes", folder=True, label="change"),
    SourceKind("lineage", "lineage", folder=True, label="lineage graph"),
    SourceKind("framework", "frameworks", folder=True, label="framework catalogue"),
    SourceKind("fria", "fria.yaml", folder=False, label="fundamental rights impact assessment"),
    SourceKind("monitoring", "monitoring.yaml", folder=False, label="post-market monitoring plan"),
    SourceKind("monitoring_review", "monitoring", folder=True, label="monitoring review"),
    SourceKind("incident", "incidents", folder=True, label="serious incident"),
    SourceKind("registration", "registration.yaml", folder=False, label="EU database registration record"),
    SourceKind("gpai_model", "gpai_model.yaml", folder=False, label="general-purpose AI model"),
)

KINDS_BY_NAME = {kind.name: kind for kind in SOURCE_KINDS}
