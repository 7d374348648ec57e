"""The one diagnostic type that every check produces and every reporter prints."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path


class Severity(StrEnum):
    """How bad a finding is: errors fail `check`, warnings fail it only with `--strict`."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A located finding: `path:line:col: CODE severity: message`, plus a hint on how to fix it."""

    path: str
    line: int
    col: int
    code: str
    severity: Severity
    message: str
    hint: str = ""

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data


def sort_diagnostics(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Sort by file, then position, then code; drop exact duplicates."""
    return sorted(set(diagnostics), key=lambda d: (d.path, d.line, d.col, d.code, d.message))


def has_failures(diagnostics: list[Diagnostic], strict: bool = False) -> bool:
    """True when the findings should fail the run."""
    failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    return any(d.severity in failing for d in diagnostics)


@cache
def code_catalogue() -> dict[str, dict[str, str]]:
    """Every diagnostic code with its severity, meaning and fix (validation/codes.yaml)."""
    from techfile.frameworks.catalogue import load_yaml_data

    return load_yaml_data(Path(__file__).parent / "validation" / "codes.yaml")


def finding(code: str, path: str, line: int, col: int, message: str, hint: str = "") -> Diagnostic:
    """A diagnostic whose severity is the one the catalogue gives its code."""
    return Diagnostic(path, line, col, code, Severity(code_catalogue()[code]["severity"]), message, hint)
