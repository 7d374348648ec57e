"""Hostile sources: attack payloads in every string field of every source kind (found by walking the JSON Schemas)
and in every Markdown prose file. The site, loaded in Debian's Chromium over http and from disk, never runs script
and has no javascript:/data: link; the PDFs show the payloads as literal text; what `check` refuses, it reports at
the field. One build covers every field."""

from __future__ import annotations

import functools
import http.server
import re
import subprocess
import threading
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from hostile import (
    BASES,
    END_MARKER,
    MARKER,
    PROSE_ATTACK,
    TEXT_ATTACKS,
    Filled,
    field_lines,
    hostile_project,
    kinds_absent_from,
    matches,
    schema_places,
)
from techfile.loading import load_project
from techfile.publish.build import BuildResult, build
from test_site import CHROMIUM, CHROMIUM_ARGS, QuietHandler

from conftest import SAMPLE, run_cli

# What a page may hold: no event-handler attribute, no script or foreign-scheme URL in any URL attribute (a file: URL
# only into the site itself), no frame but the hidden one the theme's search worker uses on file://, and no `__pwned`
# from any payload.
DOM_PROBLEMS = """(site) => {
  const problems = [];
  const urlAttributes = ["href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset"];
  for (const element of document.querySelectorAll("*")) {
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value.replace(/[\\u0000-\\u0020]/g, "").toLowerCase();
      if (name.startsWith("on")) problems.push(`${element.tagName} has ${name}`);
      if (name === "srcdoc") problems.push(`${element.tagName} has srcdoc`);
      const inSite = site && value.startsWith(site);  // from disk, the theme's search links pages as file: URLs
      if (urlAttributes.includes(name) && /^(javascript|data|vbscript|file):/.test(value) && !inSite) {
        problems.push(`${element.tagName} ${name}=${attribute.value.slice(0, 80)}`);
      }
    }
    const tag = element.tagName;
    if (["OBJECT", "EMBED", "FRAME", "BASE", "META"].includes(tag) && tag !== "META") problems.push(tag);
    if (tag === "META" && (element.getAttribute("http-equiv") || "").toLowerCase() === "refresh") problems.push("meta refresh");
    if (tag === "IFRAME" && !(element.hidden && !element.getAttribute("src"))) problems.push("iframe");
    if (tag === "SCRIPT" && /__pwned/.test(element.textContent)) problems.push("script with a payload");
  }
  return problems;
}"""
SEARCHES = ("onerror", "script", "iframe", "srcdoc", "zero")


@pytest.fixture(scope="module", params=sorted(BASES))
def hostile(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Filled:
    """The sample, and the credit and gpai templates for the kinds the sample has no file of (FRIA, registration,
    general-purpose AI model)."""
    base = BASES[request.param]
    kinds = kinds_absent_from(SAMPLE) | {"project"}  # the other base's own kinds, and a title for its pages
    places = None if base == SAMPLE else [p for p in schema_places() if p.kind in kinds]
    return hostile_project(tmp_path_factory.mktemp("hostile") / "project", base=base, places=places)


@pytest.fixture(scope="module")
def hostile_build(hostile: Filled, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(hostile.root, tmp_path_factory.mktemp("hostile-out") / "build", jobs=2)


@pytest.fixture(scope="module")
def served(hostile_build: BuildResult) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(hostile_build.out / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def test_payloads_are_in_every_string_field_of_every_source_kind(hostile: Filled) -> None:
    places = [p for p in schema_places() if p.role in ("free", "prose", "key")]
    kinds = {p.kind for p in places}
    assert kinds >= {"project", "system", "pipeline_stage", "dataset", "model", "risk", "control", "procedure",
                     "evidence", "logbook_entry", "soa", "change", "framework", "lineage"}
    assert hostile.uncovered == []
    assert set.intersection(*(kinds_absent_from(base) for base in BASES.values())) == set()  # some base has each
    filled = [f for fields in hostile.fields.values() for f in fields] + hostile.file_prose
    for place in places:
        if place.kind in hostile.absent_kinds or place.kind not in {f.kind for f in filled}:
            continue  # the other base holds it
        assert any(f.kind == place.kind and _fits(place.pattern, f.path) for f in filled), place
    referenced = {p.as_posix() for p in (hostile.root / "docs").rglob("*.md")} if hostile.every_place else set()
    assert {str(hostile.root / f) for f in hostile.prose_files.values()} >= referenced
    for number, diagnostics in hostile.reported.items():  # what check refused, it reported at the field
        assert diagnostics, number


def _fits(pattern: tuple[str, ...], path: tuple[object, ...]) -> bool:
    """True when a filled field's concrete path is an instance of a schema place pattern."""
    if len(pattern) != len(path):
        return False
    for want, step in zip(pattern, path, strict=True):
        if want == "<key>":
            if not isinstance(step, tuple):
                return False
        elif want != "*" and want != step:
            return False
    return True


def test_check_accepts_hostile_text_and_reports_every_dropped_link(hostile: Filled) -> None:
    result = run_cli("check", str(hostile.root))
    assert result.exit_code == 0, result.output[-3000:]
    warnings = load_project(hostile.root).warnings
    for relpath in hostile.prose_files.values():
        codes = {d.code for d in warnings if d.path == relpath}
        assert {"TF126", "TF127", "TF128"} <= codes, (relpath, codes)
    inline = [f for fields in hostile.rendered.values() for f in fields if f.role == "prose"]
    assert inline
    for item in inline:
        assert any(d.path == item.relpath and d.code == "TF126" for d in warnings), item


def _site_prefix(site: Path) -> str:
    """The file: URL of the site's folder, lower case as DOM_PROBLEMS compares it."""
    return site.resolve().as_uri().lower() + "/"


def _pages(site: Path) -> list[str]:
    return sorted(p.name for p in site.glob("*.html"))


def _visit(page: object, url: str, dialogs: list[str], site: Path) -> list[str]:
    page.goto(url, wait_until="load")
    page.wait_for_timeout(150)
    problems = page.evaluate(DOM_PROBLEMS, _site_prefix(site))
    for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
        problems += _foreign(href, site)
    for frame in page.frames:
        if frame.evaluate("() => typeof window.__pwned !== 'undefined'"):
            problems.append(f"script ran in {frame.url}")
    return [f"{url}: {p}" for p in problems] + [f"{url}: dialog {d}" for d in dialogs]


def _foreign(href: str, site: Path) -> list[str]:
    """Every link on a page of the hostile site is an anchor or a file of the site: nothing in the sources makes a
    link of its own (titles of risks, controls and procedures become anchors only)."""
    if href.startswith("#"):
        return []
    path = href.split("#", 1)[0].split("?", 1)[0]
    if re.match(r"^[a-z][a-z0-9+.-]*:|^//|^/", path, re.I) or not (site / path).resolve().is_relative_to(site.resolve()):
        return [f"foreign link {href[:80]!r}"]
    return [] if (site / path).exists() else [f"dead link {href[:80]!r}"]


def _search(page: object, query: str) -> int:
    """Type a query into the site's search; the number of results it shows."""
    page.locator("label.md-search__icon, .md-search__input").first.click()
    field = page.locator("input.md-search__input")
    field.fill("")
    field.press_sequentially(query, delay=20)
    page.wait_for_function("() => /matching|no match/i.test(document.querySelector('.md-search-result__meta')"
                           "?.textContent || '')", timeout=90_000)  # the index of this site is large
    page.wait_for_timeout(200)
    return page.locator(".md-search-result__item").count()


def _browse(browser: object, base: str, site: Path) -> list[str]:
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    problems: list[str] = []
    pages = _pages(site)
    assert "404.html" in pages and "index.html" in pages and len(pages) >= (7 if not any("model-card" in n for n in pages) else 15)
    for name in pages:
        problems += _visit(page, f"{base}/{name}", dialogs, site)
    page.goto(f"{base}/index.html", wait_until="networkidle")
    found = 0
    for query in SEARCHES:
        found += _search(page, query) > 0
        problems += [f"search {query}: {p}" for p in page.evaluate(DOM_PROBLEMS, _site_prefix(site))]
        if page.evaluate("() => typeof window.__pwned !== 'undefined'"):
            problems.append(f"search {query}: script ran")
    problems += [f"dialog {d}" for d in dialogs]
    page.close()
    assert found >= 3, "the site's search shows payloads for most queries"
    return problems


def test_site_over_http_never_runs_script(browser: object, served: str, hostile_build: BuildResult) -> None:
    assert _browse(browser, served, hostile_build.out / "site") == []


def test_site_from_disk_never_runs_script(browser: object, hostile_build: BuildResult) -> None:
    site = hostile_build.out / "site"
    assert _browse(browser, site.resolve().as_uri(), site) == []


def test_site_shows_payloads_as_text(browser: object, served: str, hostile_build: BuildResult) -> None:
    page = browser.new_page()
    page.goto(f"{served}/index.html", wait_until="load")
    title, heading = page.title(), page.locator("h1").first.inner_text()
    assert "<script>window.__pwned=1</script>" in title and "<script>window.__pwned=1</script>" in heading
    nav = page.locator("nav.md-nav--primary").first.inner_text()
    assert "<img src=x onerror=" in nav
    page.goto(f"{served}/{hostile_build.documents[1].id}.html", wait_until="load")
    text = page.locator("article").inner_text()
    assert '#panic("typst")' in text and "{{ 7*7 }}" in text and "49" not in re.findall(r"\{\{ (\d+) \}\}", text)
    page.close()


def _small(result: BuildResult) -> bool:
    """The gpai template: a provider of a general-purpose model, with its four documents and the matrix only."""
    return not any(d.kind == "model-card" for d in result.documents)


def _pdf_text(pdf: Path) -> str:
    """The PDF's text in content order, without the spaces, line breaks, hyphenation points and invisible characters
    that typesetting adds, and without the page furniture (DRAFT watermark, footer) that lands between the lines of
    a text broken across pages: the payloads are compared character by character, whitespace aside."""
    # the body of an A4 page, between the 2.5 cm top and 2.2 cm bottom margins (and the few points below the last
    # baseline that a body line's box takes up): the running header and footer left out
    body = ["-x", "0", "-y", "71", "-W", "2000", "-H", "712"]
    done = subprocess.run(["pdftotext", "-raw", *body, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True)
    text = _squeezed(done.stdout).replace("DRAFT", "")
    return re.sub(re.escape(pdf.stem) + r"—version[^—]{1,40}—(draft|approved)Page\d+of\d+", "", text)


def _squeezed(text: str) -> str:
    return "".join(c for c in text if not c.isspace() and c != "\u00ad" and unicodedata.category(c) != "Cf")


# The payload as a PDF shows it: the part before the bidirectional attack (a right-to-left override reverses what
# follows it, as it should), every other character literal.
LITERAL = _squeezed(" ".join(TEXT_ATTACKS[:-1]))


def _in_order(literal: str, text: str) -> bool:
    """True when every character of `literal` appears in `text`, in order."""
    at = 0
    for character in literal:
        at = text.find(character, at) + 1
        if at == 0:
            return False
    return True


def _shown_literally(text: str, start: int, number: int) -> bool:
    """True when the payload that starts at `start` shows every character of the attacks, in order, before its end
    marker: a value that a table cell or a page break splits has its neighbouring cells between its parts (other
    payloads among them are left out), but loses or changes no character."""
    end = text.find(END_MARKER.format(number), start)
    if end < 0:
        return False
    return _in_order(LITERAL, re.sub(r"Q(\d{4})Z.*?Z\1Q", "", text[start:end]))


def test_pdfs_show_payloads_literally(hostile: Filled, hostile_build: BuildResult) -> None:
    pdfs = sorted((hostile_build.out / "pdf").glob("*.pdf"))
    assert len(pdfs) >= (14 if hostile.every_place else 5)
    seen: set[int] = set()
    wrong: list[str] = []
    for pdf in pdfs:
        text = _pdf_text(pdf)
        assert "{{49}}" not in text  # Jinja never evaluated a value
        for match in MARKER.finditer(text):
            number = int(match.group(1))
            fields = hostile.fields.get(number, [])
            if not fields or fields[0].role == "prose":
                continue
            seen.add(number)
            if not _shown_literally(text, match.end(), number):
                wrong.append(f"{pdf.name} Q{number:04d}Z: {text[match.end():match.end() + 400]!r}")
    assert wrong == []
    assert not re.search(r"\\[<>\[\]{}`$@#*_]", "".join(_pdf_text(p) for p in pdfs).replace("$\\foo$", ""))  # no escape shows
    assert len(seen) >= (300 if hostile.every_place else 20)  # most fields reach a PDF (some, such as the site's home page, only the site)


def test_pdfs_show_prose_payloads_literally(hostile: Filled, hostile_build: BuildResult) -> None:
    text = "".join(_pdf_text(p) for p in sorted((hostile_build.out / "pdf").glob("*.pdf")))
    literal = ["<script>window.__pwned=11</script>", '<imgsrc=xonerror="window.__pwned=12">',
               'Jinja{{7*7}}{%iftrue%}evaluated{%endif%}andTypst#panic("typst")#read("/etc/passwd")',
               "<script>window.__pwned=20</script>", "<b>raw</b>", "<!--comment--><script>&zero",
               "Links:inlinejsspaceddatavbfileprotoentitydead", "refjsrefdatashortcut<javascript:window.__pwned=19>"]
    source = _squeezed(PROSE_ATTACK)[:180]  # up to the first link, shown as its source
    found = 0
    for number in [*hostile.prose_files, *(n for n, f in hostile.rendered.items() if f[0].role == "prose")]:
        windows = [re.split(r"Q\d{4}Zprose", text[m.end():m.end() + len(PROSE_ATTACK) * 2])[0]  # up to the next prose
                   for m in re.finditer(f"Q{number:04d}Zprose", text)]
        if not windows:
            continue
        found += 1
        # where prose is shown as prose, its links are text and its markup literal; a table cell may show it
        # flattened, as literal text (the link checks above hold for every occurrence)
        shown = [w for w in windows if all(piece in w for piece in literal)]
        # a table cell shows the prose's source text literally, perhaps split by a page break (up to the next prose)
        as_source = [w for w in windows if _in_order(source, w)]
        assert shown or as_source, (number, windows[0][:600])
        assert all("javascript:window.__pwned=15" not in w for w in shown)  # a dropped link shows its text only
    assert found >= (20 if hostile.every_place else 3)


def test_pdfs_hold_no_script_and_link_only_where_allowed(hostile_build: BuildResult) -> None:
    allowed = re.compile(rb"^(https?://[^/]|mailto:.|[\w.-]+\.pdf(#[\w-]*)?$)")
    for pdf in sorted((hostile_build.out / "pdf").glob("*.pdf")):
        data = pdf.read_bytes()
        assert b"/JavaScript" not in data and b"/Launch" not in data and not re.search(rb"/JS\s*[(<]", data), pdf.name
        for uri in re.findall(rb"/URI\s*\(((?:\\.|[^\\)])*)\)", data):
            assert allowed.match(uri), (pdf.name, uri)


def test_charts_are_svg_with_payloads_as_text_only(hostile: Filled, hostile_build: BuildResult) -> None:
    """Charts and lineage diagrams (SVG written by documents/svg.py) carry names from the sources: as escaped text, never as markup,
    script, links or mathtext."""
    import xml.etree.ElementTree as ET

    charts = sorted((hostile_build.out / "site" / "charts").glob("*.svg"))
    assert len(charts) >= (8 if hostile.every_place else 0 if _small(hostile_build) else 1)
    texts = []
    for chart in charts:
        root = ET.fromstring(chart.read_bytes())
        for element in root.iter():
            tag = element.tag.rsplit("}", 1)[-1]
            assert tag not in ("script", "foreignObject", "a", "image", "iframe"), (chart.name, tag)
            for name, value in element.attrib.items():
                name = name.rsplit("}", 1)[-1]
                assert not name.lower().startswith("on"), (chart.name, name)
                assert name != "href" or value.startswith("#"), (chart.name, value)
            texts.append("".join(element.itertext()) if tag == "text" else "")
    shown = [t for t in texts if MARKER.search(t)]
    if hostile.every_place:
        assert len(shown) >= 10 and any("<script>window.__pwned=1</script>" in t for t in shown)
        assert any("$\\foo$" in t for t in shown)  # mathtext is off: the dollar signs stay text


def test_docx_links_only_where_allowed(hostile_build: BuildResult) -> None:
    """The Word edition reads the same Markdown through pandoc: its hyperlinks go to web and mail addresses and the
    sibling DOCX only."""
    import zipfile

    allowed = re.compile(r"^(https?://[^/]|mailto:.|[\w.-]+\.docx(#[\w-]*)?$)")
    documents = sorted((hostile_build.out / "docx").glob("*.docx"))
    assert len(documents) >= (5 if _small(hostile_build) else 14)
    for document in documents:
        with zipfile.ZipFile(document) as package:
            relations = package.read("word/_rels/document.xml.rels").decode("utf-8")
            body = package.read("word/document.xml").decode("utf-8")
        for target in re.findall(r'TargetMode="External"[^>]*Target="([^"]*)"|Target="([^"]*)"[^>]*TargetMode="External"', relations):
            link = next(t for t in target if t)
            assert allowed.match(link), (document.name, link)
        assert not re.search(r"HYPERLINK\s+\"?(javascript|data|vbscript|file):", body, re.I), document.name


def test_markdown_outputs_hold_no_live_link_or_raw_markup(hostile_build: BuildResult) -> None:
    live = re.compile(r"(?<!\\)\]\(\s*(?!https?://|mailto:|[\w.-]+\.md(#|\))|#|charts/|images/)")
    fenced = re.compile(r"^(```|~~~)[^\n]*\n.*?^\1[ \t]*$", re.M | re.S)
    for markdown in sorted((hostile_build.out / "markdown").glob("*.md")):
        text = fenced.sub("", markdown.read_text(encoding="utf-8"))  # code blocks show their text as code
        assert not live.search(text), (markdown.name, live.search(text))
        assert "{=html}" not in text and "{=typst}" not in text and not re.search(r"(?<!\\)<(script|img|svg|iframe)", text)


def test_constrained_fields_refuse_payloads_at_the_field(tmp_path: Path) -> None:
    """Ids, dates, hashes, paths, enums, references: a payload there is an error located at that field. One project
    per source kind (an unknown schema_version stops every other check, so it goes alone)."""
    places = [p for p in schema_places() if p.role == "constrained"]
    groups: dict[str, list] = {}
    for place in places:
        groups.setdefault("schema_version" if place.pattern == ("schema_version",) else place.kind, []).append(place)
    unreported, covered = [], []
    for name, group in sorted(groups.items()):
        base = next(b for b in BASES.values() if group[0].kind not in kinds_absent_from(b))
        filled = hostile_project(tmp_path / name, roles=("constrained",), accept=False, places=group, base=base)
        assert filled.uncovered == [], name
        errors = load_project(filled.root).errors
        for number, fields in filled.fields.items():
            for item in fields:
                covered.append(item)
                lines = field_lines(filled.root, item, number)  # the value's line, and its object's
                if not any(d.path == item.relpath and (d.line in lines or f"Q{number:04d}Z" in d.message) for d in errors):
                    unreported.append(f"{item.relpath}:{min(lines)} {'/'.join(map(str, item.path))}")
    assert unreported == []
    for place in places:
        assert any(f.kind == place.kind and _fits(place.pattern, f.path) for f in covered), place


def test_payload_places_match_only_what_the_schemas_define() -> None:
    """The walk finds the places a hand-written reading of the schemas finds, e.g. every prose field of a dataset."""
    places = {(p.kind, p.pattern): p.role for p in schema_places()}
    assert places[("system", ("name",))] == "free"
    assert places[("dataset", ("composition", "instances"))] == "prose"
    assert places[("risk", ("id",))] == "constrained"
    assert places[("model", ("hyperparameters", "<key>"))] == "key"
    assert list(matches({"a": [{"b": "x"}, {"b": "y"}]}, ("a", "*", "b"))) == [("a", 0, "b"), ("a", 1, "b")]
