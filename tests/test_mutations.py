"""Property tests: random mutations of the sample (hypothesis). Whatever the mutation, `check` never fails
internally (exit 3) or prints a traceback, and every diagnostic points at an existing file and a line inside it.
For mutations `check` accepts, `build` succeeds: the site (and Markdown and XLSX) for all of them, built in batches
(one project holding several accepted mutations at once), and the PDFs and DOCX for twenty accepted changes of
text and prose, drawn until enough are accepted.

At least 500 mutations run per test run (`MUTATION_BATCHES` × `BATCH`); hypothesis draws them afresh each run and
prints the failing ones."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from techfile.publish.build import build

from conftest import SAMPLE, run_cli

BATCH = 25
MUTATION_BATCHES = 20  # 500 mutations checked
PDF_BATCHES, PDF_BATCH = 2, 10  # 20 accepted mutations built with PDFs
SETTINGS = settings(deadline=None, database=None, derandomize=False, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture, HealthCheck.large_base_example])


@cache
def sample_files() -> tuple[tuple[str, ...], tuple[str, ...]]:
    yamls = tuple(sorted(p.relative_to(SAMPLE).as_posix() for p in SAMPLE.rglob("*.yaml") if "build" not in p.parts))
    markdown = tuple(sorted(p.relative_to(SAMPLE).as_posix() for p in SAMPLE.glob("docs/*.md")))
    return yamls, markdown


@cache
def value_paths(relpath: str) -> tuple[tuple[Any, ...], ...]:
    """Every path to a value (and to each mapping) in a sample file."""
    data = yaml.safe_load((SAMPLE / relpath).read_text(encoding="utf-8"))
    found: list[tuple[Any, ...]] = []

    def walk(value: Any, path: tuple[Any, ...]) -> None:
        found.append(path)
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, (*path, index))

    walk(data, ())
    return tuple(p for p in found if p)


# --- what a mutation does -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    """One change to one sample file: `op` with its parameters (values are made when applied, so repr stays short)."""

    relpath: str
    op: str
    path: tuple[Any, ...] = ()
    value: Any = None

    def apply(self, root: Path) -> list[str]:
        """Apply the change to the project at `root`; return the files it touched (or created)."""
        file = root / self.relpath
        if self.op == "truncate":
            raw = file.read_bytes()
            file.write_bytes(raw[: int(len(raw) * self.value)])
        elif self.op == "insert-text":
            text = file.read_text(encoding="utf-8")
            at = int(len(text) * self.value[0])
            file.write_text(text[:at] + self.value[1] + text[at:], encoding="utf-8")
        elif self.op == "markdown":
            file.write_text(self.value, encoding="utf-8")
        elif self.op == "duplicate":
            copy = file.with_name(file.stem + "-copy.yaml")
            shutil.copyfile(file, copy)
            return [self.relpath, copy.relative_to(root).as_posix()]
        else:
            try:
                data = yaml.safe_load(file.read_text(encoding="utf-8"))
            except yaml.YAMLError:
                return []
            if not _edit(data, self.path, self.op, materialise(self.value)):
                return []
            file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1 << 16), encoding="utf-8")
        return [self.relpath]


def _edit(data: Any, path: tuple[Any, ...], op: str, value: Any) -> bool:
    container = data
    for step in path[:-1]:
        try:
            container = container[step]
        except (KeyError, IndexError, TypeError):
            return False
    last = path[-1]
    try:
        container[last]
    except (KeyError, IndexError, TypeError):
        return False
    if op == "delete":
        del container[last]
    else:
        container[last] = value
    return True


def materialise(value: Any) -> Any:
    """Values described by a tag (long strings, deep nesting) become real only here."""
    if isinstance(value, tuple) and value and value[0] == "long":
        _, size, style = value
        return {"word": "x" * size, "words": "word " * (size // 5), "lines": "line\n" * (size // 5)}[style]
    if isinstance(value, tuple) and value and value[0] == "nest":
        _, depth, kind = value
        nested: Any = "leaf"
        for _ in range(depth):
            nested = [nested] if kind == "list" else {"k": nested}
        return nested
    return value


# --- how mutations are drawn ---------------------------------------------------------------------------------------

HUGE = [10**400, -(10**400), 2**63, 2**64, -(2**63) - 1, 10**18, 1e308, -1e308, 5e-324, 0, -1, 1.5e300]
BAD_DATES = ["2025-02-30", "2025-13-01", "0000-00-00", "9999-99-99", "2025-1-1", "yesterday", "2025-02-29T25:61:00Z",
             "99999-01-01", "-2025-01-01", "2025-06-31"]
NON_FINITE = [float("nan"), float("inf"), float("-inf")]
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
markdown_piece = st.one_of(
    text,
    st.integers(1, 1200).map(lambda n: "> " * n + "quote"),
    st.integers(1, 300).map(lambda n: "\n".join("  " * i + "- item" for i in range(n))),
    st.integers(1, 60).map(lambda n: "\n".join("   " * i + "1. item" for i in range(n))),
    st.tuples(st.sampled_from(["javascript:", "data:", "vbscript:", "file:", "https://", "http:", "mailto:", "", "//",
                               " JaVaScRiPt:", "&#106;avascript:", "ftp://"]), text)
      .map(lambda t: f"[link]({t[0]}{t[1]})"),
    st.tuples(st.sampled_from(["", "docs/", "/etc/", "../", "file:", "https://x/", "data:image/png;base64,"]), text)
      .map(lambda t: f"![image]({t[0]}{t[1]})"),
    st.sampled_from(["<script>window.__pwned=1</script>", "<img src=x onerror=alert(1)>", "[ref][r]\n\n[r]: javascript:x",
                     "```{=html}\n<script>x</script>\n```", "`x`{=typst}", "[", "]", "](", "![", "\\", "``", "```",
                     "~~~", "$", "$$x$$", "@x", "{{ 7*7 }}", "{%", "#panic()", "&#0;", "&lt;", "|a|b|\n|-|-|\n|c|d|",
                     "***" * 30, "[" * 300, "*_" * 100, "# heading", "###### h", "    code", "\u202e\u200b", "\x00"]),
)
hostile_markdown = st.lists(markdown_piece, min_size=1, max_size=6).map("\n\n".join)


KINDS = ("delete", "type", "duplicate", "truncate", "huge", "date", "non-finite", "unicode", "nesting", "long",
         "markdown", "insert", "md-truncate", "md-markdown", "md-unicode")
TEXT_KINDS = ("unicode", "long", "md-truncate", "md-markdown", "md-unicode", "md-markdown", "md-unicode")  # often accepted


@st.composite
def mutations(draw: Callable[..., Any], kinds: tuple[str, ...] = KINDS) -> Mutation:
    yamls, markdown = sample_files()
    kind = draw(st.sampled_from(kinds))
    if kind.startswith("md-"):
        relpath = draw(st.sampled_from(markdown))
        if kind == "md-truncate":
            return Mutation(relpath, "truncate", value=draw(st.floats(0, 1)))
        content = draw(hostile_markdown) if kind == "md-markdown" else draw(st.text(max_size=200))
        return Mutation(relpath, "markdown", value=content.replace("\ud800", ""))
    relpath = draw(st.sampled_from(yamls))
    if kind == "duplicate":
        return Mutation(relpath, "duplicate")
    if kind == "truncate":
        return Mutation(relpath, "truncate", value=draw(st.floats(0, 1)))
    if kind == "insert":
        return Mutation(relpath, "insert-text", value=(draw(st.floats(0, 1)), draw(text)))
    path = draw(st.sampled_from(value_paths(relpath)))
    if kind == "delete":
        return Mutation(relpath, "delete", path)
    value: Any = {
        "type": lambda: draw(st.one_of(st.integers(), text, st.booleans(), st.none(), st.floats(allow_nan=False),
                                       st.lists(st.integers(), max_size=3), st.dictionaries(text, st.integers(), max_size=2))),
        "huge": lambda: draw(st.sampled_from(HUGE)),
        "date": lambda: draw(st.sampled_from(BAD_DATES)),
        "non-finite": lambda: draw(st.sampled_from(NON_FINITE)),
        "unicode": lambda: draw(text),
        "nesting": lambda: ("nest", draw(st.integers(5, 120)), draw(st.sampled_from(["list", "map"]))),
        "long": lambda: ("long", draw(st.sampled_from([1_001, 5_000, 10_001, 100_001, 400_000])),
                         draw(st.sampled_from(["word", "words", "lines"]))),
        "markdown": lambda: draw(hostile_markdown),
    }[kind]()
    return Mutation(relpath, "set", path, value)


# --- the properties --------------------------------------------------------------------------------------------------


class Workspace:
    """A copy of the sample that mutations change and that is put back after each check."""

    def __init__(self, root: Path) -> None:
        shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("build"))
        self.root = root
        self.original = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    def restore(self, touched: list[str]) -> None:
        for relpath in touched:
            if relpath in self.original:
                (self.root / relpath).write_bytes(self.original[relpath])
            else:
                (self.root / relpath).unlink(missing_ok=True)

    def check(self, mutations: list[Mutation]) -> tuple[bool, list[str]]:
        """Apply the mutations, run `check`, put the files back. Returns (accepted, touched files)."""
        touched: list[str] = []
        try:
            for mutation in mutations:
                touched += mutation.apply(self.root)
            accepted = check_is_sound(self.root, mutations)
        finally:
            self.restore(touched)
        return accepted, touched


def check_is_sound(root: Path, mutations: list[Mutation]) -> bool:
    """`check` ends with 0 or 1, no traceback, and locates every diagnostic inside an existing file."""
    result = run_cli("check", str(root), "--format", "json")
    assert result.exit_code in (0, 1), (mutations, result.output[-2000:])
    assert "Traceback" not in result.output, mutations
    report = json.loads(result.output)
    for diagnostic in report["diagnostics"]:
        assert diagnostic["code"] != "TF900", (mutations, diagnostic)
        path = Path(diagnostic["path"])
        if diagnostic["code"] in ("TF001", "TF003"):  # a required file that is missing is named, not located
            continue
        assert path.is_file(), (mutations, diagnostic)
        lines = max(1, len(path.read_bytes().splitlines()))
        assert 1 <= diagnostic["line"] <= lines and diagnostic["col"] >= 1, (mutations, diagnostic, lines)
    return result.exit_code == 0


def accepted_groups(workspace: Workspace, accepted: list[Mutation]) -> list[list[Mutation]]:
    """The accepted mutations in groups that `check` also accepts together (halving a group that it refuses)."""
    groups, pending = [], [accepted] if accepted else []
    while pending:
        group = pending.pop()
        ok, _ = workspace.check(group)
        if ok:
            groups.append(group)
        elif len(group) > 1:
            pending += [group[: len(group) // 2], group[len(group) // 2:]]
    return groups


def build_group(workspace: Workspace, group: list[Mutation], out: Path, pdf: bool) -> None:
    touched: list[str] = []
    try:
        for mutation in group:
            touched += mutation.apply(workspace.root)
        try:
            # batches: the site, Markdown and XLSX; the sample: PDFs and DOCX too (the pandoc writers)
            build(workspace.root, out, site=not pdf, pdf=pdf, docx=pdf, jobs=2)
        except Exception as err:  # any failure of a build that check accepted is the bug this test looks for
            raise AssertionError(f"build failed for accepted mutations {group}: {type(err).__name__}: {err}") from err
    finally:
        workspace.restore(touched)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("mutations") / "project")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mutation-builds")


def test_check_is_sound_and_build_succeeds_on_what_it_accepts(workspace: Workspace, outputs: Path) -> None:
    counts = {"checked": 0, "accepted": 0, "built": 0}

    @settings(SETTINGS, max_examples=MUTATION_BATCHES)
    @given(batch=st.lists(mutations(), min_size=BATCH, max_size=BATCH))
    def property_holds(batch: list[Mutation]) -> None:
        accepted = []
        for mutation in batch:
            ok, touched = workspace.check([mutation])
            counts["checked"] += 1
            if ok and touched:
                accepted.append(mutation)
        counts["accepted"] += len(accepted)
        for group in accepted_groups(workspace, accepted):
            build_group(workspace, group, outputs / "site", pdf=False)
            counts["built"] += len(group)

    property_holds()
    assert counts["checked"] >= 500, counts
    assert counts["built"] >= 50, counts  # enough accepted mutations reach a build for the property to mean something


def test_pdfs_build_for_a_sample_of_accepted_mutations(workspace: Workspace, outputs: Path) -> None:
    baseline = outputs / "baseline"  # builds of mutations start from it and remake only the PDFs that change
    build(workspace.root, baseline, site=False, docx=True, jobs=2)
    built: list[Mutation] = []

    # more examples than needed: hypothesis may start with its simplest example, whose mutations are mostly refused;
    # each example draws its candidates first (the drawing never depends on what was built) and checks them until
    # ten are accepted, and examples build until twenty mutations are built
    @settings(SETTINGS, max_examples=PDF_BATCHES + 2)
    @given(candidates=st.lists(mutations(TEXT_KINDS), min_size=PDF_BATCH * 20, max_size=PDF_BATCH * 20, unique=True))
    def pdfs_build(candidates: list[Mutation]) -> None:
        accepted: list[Mutation] = []
        for mutation in candidates:  # text mutations: what `check` accepts and the PDFs must then typeset
            if len(accepted) == PDF_BATCH or len(built) >= PDF_BATCHES * PDF_BATCH:
                break
            ok, touched = workspace.check([mutation])
            if ok and touched:
                accepted.append(mutation)
        for group in accepted_groups(workspace, accepted):
            out = outputs / f"pdf-{len(built)}"
            shutil.copytree(baseline, out)
            build_group(workspace, group, out, pdf=True)
            assert {p.name for p in (out / "pdf").glob("*.pdf")} == {p.name for p in (baseline / "pdf").glob("*.pdf")}
            built.extend(group)

    pdfs_build()
    assert len(built) >= PDF_BATCHES * PDF_BATCH * 3 // 4, built
