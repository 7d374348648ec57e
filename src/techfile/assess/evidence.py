"""Whether each evidence record counts: its file is there and matches its hash, it is within its validity, and who
approved it. Decided once here, on the assessment date (never the clock)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from techfile.diagnostics import Diagnostic, finding
from techfile.project import Evidence, Project
from techfile.source_date import SourceDateError, source_date_epoch
from techfile.sources.git import last_change_epoch
from techfile.validation.files import resolve_inside, sha256_of

DEFAULT_EXPIRY_WARNING_DAYS = 30


@dataclass(frozen=True)
class EvidenceState:
    """One evidence record as the assessment sees it: `current` when it counts as evidence at all."""

    evidence: Evidence
    current: bool
    problem: str = ""  # why it does not count (file missing, hash mismatch, expired, kept only as a link)
    expires_in_days: int | None = None

    @property
    def approved(self) -> bool:
        """Carries an approval: who, in what role, and when."""
        e = self.evidence
        return bool(e.approved_by and e.approved_on)


def assessment_date(project: Project) -> str:
    """The date the assessment is made on, the same as the build date: SOURCE_DATE_EPOCH, else the last commit that
    touched the project, else techfile.yaml's document_control.date."""
    try:
        epoch = source_date_epoch()
    except SourceDateError:
        epoch = None  # not a time: the build stops on it with a message; check assesses as of the last change
    if epoch is None:
        epoch = last_change_epoch(project.root)
    if epoch is not None:
        return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).date().isoformat()
    assert project.settings is not None
    return project.settings.document_control.date


@lru_cache(maxsize=4096)
def _file_sha256(path: Path, size: int, mtime_ns: int) -> str:
    """A file's sha256, computed once per size and modification time (check hashes evidence twice otherwise)."""
    return sha256_of(path)


def file_matches(root: Path, reference: str, recorded: str | None) -> str:
    """'' when `reference` is a file inside the project whose content has sha256 `recorded`, else the reason it is not."""
    resolved, _, reason = resolve_inside(root, reference)
    if resolved is None:
        return reason
    stat = resolved.stat()
    if recorded != _file_sha256(resolved, stat.st_size, stat.st_mtime_ns):
        return f"file {reference!r} no longer matches its recorded sha256"
    return ""


def evidence_states(project: Project, as_of: str) -> dict[str, EvidenceState]:
    """Evidence id → its state on date `as_of`."""
    assert project.settings is not None
    states = {}
    today = dt.date.fromisoformat(as_of)
    for evidence in project.evidence:
        days = (dt.date.fromisoformat(evidence.valid_until) - today).days if evidence.valid_until else None
        if evidence.file is None:
            problem = "kept only as a link, which cannot be checked against a hash"
        else:
            problem = file_matches(project.root, evidence.file, evidence.sha256)
        if not problem and days is not None and days < 0:
            problem = f"expired on {evidence.valid_until}"
        states[evidence.id] = EvidenceState(evidence, not problem, problem, days)
    return states


def check_evidence_validity(project: Project, states: dict[str, EvidenceState], as_of: str) -> list[Diagnostic]:
    """TF404 for evidence past `valid_until`, TF405 for evidence that expires within the warning window."""
    assert project.settings is not None
    window = project.settings.evidence_expiry_warning_days
    findings = []
    for state in states.values():
        evidence, days = state.evidence, state.expires_in_days
        if days is None:
            continue
        where = evidence.field_locations.get("valid_until", evidence.location)
        if days < 0:
            findings.append(finding("TF404", where.path, where.line, where.col,
                                    f"evidence {evidence.id!r} expired on {evidence.valid_until} (assessed on {as_of}); "
                                    "it no longer counts for the requirements it supports",
                                    "Collect current evidence and record its file, sha256, date and new `valid_until`."))
        elif days <= window:
            findings.append(finding("TF405", where.path, where.line, where.col,
                                    f"evidence {evidence.id!r} expires on {evidence.valid_until}, in {days} day{'s' * (days != 1)}",
                                    f"Renew it before then (warning window: {window} days, "
                                    "techfile.yaml `evidence_expiry_warning_days`)."))
    return findings
