"""What every document is: an id, a title, its Markdown, and the gaps it shows."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from markupsafe import Markup

from techfile.sources.git import GitHistory


@dataclass(frozen=True)
class Gap:
    """A point a document needs that the sources do not fill."""

    point: str
    message: str
    source: str = ""


@dataclass(frozen=True)
class Missing:
    """Stands where a value is required but absent; rendered as a visible MISSING marker."""

    point: str
    hint: str = ""


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
class Document:
    """One generated document: Markdown for the site and the PDF, the charts it embeds, and what it lacks."""

    id: str
    kind: str
    title: str
    section: str
    markdown: str
    gaps: tuple[Gap, ...] = ()
    in_pdf: bool = True
    charts: tuple[Chart, ...] = ()

    def with_assets(self, *charts: Chart | None) -> Document:
        return replace(self, charts=self.charts + tuple(c for c in charts if c is not None))


@dataclass
class GapRecorder:
    """Collects the gaps found while a document's context is built."""

    gaps: list[Gap] = field(default_factory=list)

    def require(self, value: object, point: str, hint: str = "") -> object:
        """`value`, or a Missing marker (and a gap) when it is absent."""
        if value is None or value == "" or value == []:
            self.gaps.append(Gap(point, f"{point}: not given in the sources", hint))
            return Missing(point, hint)
        return value


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
