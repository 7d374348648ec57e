"""The built site in a real browser (Debian's Chromium through Playwright): pages, navigation, search, offline."""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from collections.abc import Iterator

import pytest

from techfile.publish.build import BuildResult, build

from conftest import SAMPLE

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def site_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(SAMPLE, tmp_path_factory.mktemp("site") / "build", pdf=False)


@pytest.fixture(scope="module")
def served(site_build: BuildResult) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(site_build.out / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class PageWatch:
    """Records console errors, page errors and every request that would leave the machine."""

    def __init__(self, page: object, allowed_prefix: str) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r: object) -> None:
            url = r.request.url
            if url.startswith(allowed_prefix) or url.startswith(("data:", "blob:")):
                r.continue_()
            else:
                self.outside.append(url)
                r.abort()

        page.route("**/*", route)


def nav_targets(page: object) -> list[str]:
    return sorted({a.get_attribute("href") for a in page.locator("nav.md-nav--primary a.md-nav__link[href$='.html']").all()})


def test_site_over_http(browser: object, served: str, site_build: BuildResult) -> None:
    page = browser.new_page()
    watch = PageWatch(page, served)
    page.goto(f"{served}/index.html", wait_until="load")
    assert "Thoravis" in page.locator("h1").first.inner_text()
    assert page.locator("text=Status board").count() >= 1
    targets = nav_targets(page)
    documents = [d for d in site_build.documents if d.kind != "home" and d.in_site]
    assert len([t for t in targets if t != "index.html"]) == len(documents)
    for document in documents:
        page.goto(f"{served}/{document.site_name or document.id}.html", wait_until="load")
        assert page.locator("h1").first.inner_text().strip() == document.title
    page.goto(f"{served}/index.html", wait_until="networkidle")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    page.locator("input.md-search__input").press_sequentially("pneumothorax", delay=30)
    page.locator(".md-search-result__item").first.wait_for(timeout=45_000)
    assert page.locator(".md-search-result__item").count() > 0
    assert watch.errors == [] and watch.outside == []


def test_site_from_disk(browser: object, site_build: BuildResult) -> None:
    page = browser.new_page()
    watch = PageWatch(page, "file://")
    home = (site_build.out / "site" / "index.html").resolve().as_uri()
    page.goto(home, wait_until="load")
    assert "Thoravis" in page.locator("h1").first.inner_text()
    first = nav_targets(page)[1]
    page.goto(home.rsplit("/", 1)[0] + "/" + first, wait_until="load")
    assert page.locator("h1").count() >= 1
    page.goto(home, wait_until="networkidle")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    page.locator("input.md-search__input").press_sequentially("radiograph", delay=30)
    page.locator(".md-search-result__item").first.wait_for(timeout=45_000)
    assert watch.errors == [] and watch.outside == []


def test_dark_mode_toggle(browser: object, served: str) -> None:
    page = browser.new_page()
    page.goto(f"{served}/index.html", wait_until="load")
    before = page.locator("body").get_attribute("data-md-color-scheme")
    page.locator("label.md-header__button[for^='__palette']:visible").first.click()
    after = page.locator("body").get_attribute("data-md-color-scheme")
    assert {before, after} == {"default", "slate"}


HTML_HEADING = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1>", re.DOTALL)
MARKDOWN_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")


def repeated_headings(headings: list[tuple[int, str, bool]]) -> list[str]:
    """Headings (level, text, whether anything but blank space stands between it and the one before) that only
    repeat the heading just above them at a deeper level."""
    return [text for (level, text, _), (deeper, again, apart) in zip(headings, headings[1:], strict=False)
            if not apart and deeper > level and again.casefold() == text.casefold()]


def html_headings(html: str) -> list[tuple[int, str, bool]]:
    article = html.split('<article', 1)[-1].split("</article>", 1)[0]
    found, end = [], None
    for match in HTML_HEADING.finditer(article):
        text = " ".join(re.sub(r"<[^>]+>|¶", " ", match.group(2)).split())
        apart = end is not None and bool(re.sub(r"<[^>]+>", "", article[end:match.start()]).strip())
        found.append((int(match.group(1)), text, apart))
        end = match.end()
    return found


def markdown_headings(markdown: str) -> list[tuple[int, str, bool]]:
    found, apart, fence = [], False, False
    for line in markdown.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        heading = None if fence else MARKDOWN_HEADING.match(line)
        if heading:
            found.append((len(heading.group(1)), " ".join(heading.group(2).split()), apart))
            apart = False
        elif line.strip():
            apart = True
    return found


def test_no_page_repeats_the_heading_above_it(site_build: BuildResult) -> None:
    """Prose placed under a heading that starts with the same heading (the sample's intended purpose) shows it once,
    on the home page as in every document."""
    home = next(d for d in site_build.documents if d.kind == "home")
    assert "## Intended purpose" in (SAMPLE / "docs" / "intended-purpose.md").read_text(encoding="utf-8")
    assert [text for _, text, _ in markdown_headings(home.markdown)].count("Intended purpose") == 1
    repeats = {d.id: repeated_headings(markdown_headings(d.markdown)) for d in site_build.documents}
    pages = sorted((site_build.out / "site").glob("*.html"))
    repeats |= {page.name: repeated_headings(html_headings(page.read_text(encoding="utf-8"))) for page in pages}
    assert len(pages) > len([d for d in site_build.documents if d.in_site])  # the pages and the 404 page
    assert {name: found for name, found in repeats.items() if found} == {}
