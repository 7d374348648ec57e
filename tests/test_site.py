"""The built site in a real browser (Debian's Chromium through Playwright): pages, navigation, search, offline."""

from __future__ import annotations

import functools
import http.server
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
