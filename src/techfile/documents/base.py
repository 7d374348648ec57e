"""What every document is: an id, a title, its Markdown, and the gaps it shows."""

from __future__ import annotations

from dataclasses import dataclass, replace

from markupsafe import Markup

from techfile.assess.gaps import Gap
from techfile.sources.git import GitHistory


@dataclass(frozen=True)
class Missing:
    """Stands where a value is required but absent; rendered as a visible MISSING marker."""

    point: str
    hint: str = ""


def present_or_missing(value: object, point: str, hint: str = "") -> object:
    """`value`, or a visible MISSING marker where it is absent (the gap itself is found in assess/gaps.py)."""
    return Missing(point, hint) if value is None or value == "" or value == [] else value


@dataclass(frozen=True)
class Chart:
    """An SVG chart a document embeds; stored next to the Markdown as charts/<name>.svg."""

    name: str
    svg: bytes
    alt: str

    @property
    def href(self) -> Markup:
        return Markup(f"charts/{self.name}.svg")  # names are built from schema-checked ids


@dataclass(frozen=True)
class Table:
    """A table a document shows, as plain strings, for the spreadsheet edition (XLSX): the same rows its Markdown renders."""

    name: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def table_text(value: object) -> str:
    """A context value as the plain text of a spreadsheet cell: Missing as its marker, lists joined, booleans as yes/no."""
    if isinstance(value, Missing):
        return f"MISSING: {value.point}" + (f" — {value.hint}" if value.hint else "")
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(table_text(v) for v in value) or "—"
    text = getattr(value, "text", value)  # Prose
    if isinstance(text, Markup):  # a template's emphasis, such as **MISSING**, is not part of the value
        text = text.replace("**", "")
    return " ".join(str(text).split())


@dataclass(frozen=True)
class DocumentControl:
    """The cover facts of one document: its own revision and approval, and the build it comes from."""

    id: str
    title: str
    version: str  # the document's revision: the number of commits that changed its sources (outside git: the set's)
    date: str  # the date of that revision
    status: str
    owner: str
    approver: str
    commit: str
    confidentiality: str
    approved_on: str = ""  # the approval's date, or why the revision is not approved
    reviewer: str = "not recorded"
    reviewed_on: str = "—"
    set_version: str = ""  # techfile.yaml's documentation-set version
    built_on: str = ""


@dataclass(frozen=True)
class Document:
    """One generated document: Markdown for the site and the PDF, the charts it embeds, the tables its spreadsheet
    edition holds, and what it lacks."""

    id: str
    kind: str
    title: str
    section: str
    markdown: str
    gaps: tuple[Gap, ...] = ()
    in_pdf: bool = True
    charts: tuple[Chart, ...] = ()
    status: str = "draft"  # as its cover and the status board show it (documents/control.py document_approval)
    tables: tuple[Table, ...] = ()
    confidentiality: str | None = None  # None: the project's marking (techfile.yaml document_control)
    in_site: bool = True
    site_name: str | None = None  # the site page's name (without .md) when it is not the document id
    control: DocumentControl | None = None  # None for the site's home page

    def with_assets(self, *charts: Chart | None) -> Document:
        return replace(self, charts=self.charts + tuple(c for c in charts if c is not None))

    def with_tables(self, *tables: Table) -> Document:
        return replace(self, tables=self.tables + tables)


@dataclass(frozen=True)
class BuildInfo:
    """Facts about this build that every document shows: date, source commit, tree state, and the git history
    (None outside git) from which revision histories and the approved status come."""

    date: str
    epoch: int
    commit: str | None
    dirty: bool
    techfile_version: str
    history: GitHistory | None = None
    warnings: bool = False  # the sources have warnings: every document is a draft
