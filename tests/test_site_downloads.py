"""In Chromium: every page of the site links its own PDF and DOCX (and XLSX where there is one), and each link works,
over HTTP and from disk; the instructions' page is the deployer edition."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from techfile.publish.build import BuildResult, build
from test_site import CHROMIUM, CHROMIUM_ARGS, QuietHandler, nav_targets

from conftest import SAMPLE


@pytest.fixture(scope="module")
def full_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(SAMPLE, tmp_path_factory.mktemp("downloads") / "build")


@pytest.fixture(scope="module")
def served(full_build: BuildResult) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(full_build.out / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def expected_editions(result: BuildResult, page: str) -> dict[str, Path]:
    """suffix → the build's file, for the document shown on `page` (e.g. thoravis-cxr-soa.html)."""
    name = page.removesuffix(".html")
    document = next(d for d in result.documents if (d.site_name or d.id) == name and d.in_site)
    files = {f".{folder}": result.out / folder / f"{document.id}.{folder}" for folder in ("pdf", "docx", "xlsx")}
    return {suffix: path for suffix, path in files.items() if path.is_file()}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_every_page(browser: object, result: BuildResult, base: str) -> int:
    """Open every page in the navigation, follow each download link, compare what arrives with the build's file."""
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(f"{base}/index.html", wait_until="load")
    pages = [p for p in nav_targets(page) if p != "index.html"]
    assert len(pages) == len([d for d in result.documents if d.in_site and d.kind != "home"])
    followed = 0
    for target in pages:
        url = f"{base}/{target}"
        page.goto(url, wait_until="load")
        links = page.locator("article.md-content__inner a[href^='downloads/']")
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        expected = expected_editions(result, target)
        assert {".pdf", ".docx"} <= set(expected), target
        assert sorted(hrefs) == sorted(f"downloads/{p.name}" for p in expected.values()), target
        for suffix, path in sorted(expected.items(), key=lambda item: item[0] == ".pdf"):  # the PDF, which navigates, last
            link = page.locator(f"article.md-content__inner a[href='downloads/{path.name}']")
            assert link.inner_text() in {"PDF", "Word (DOCX)", "Excel (XLSX)"}
            if suffix == ".pdf":  # opens in the browser's PDF viewer
                with page.expect_navigation() as navigation:
                    link.click()
                assert page.url == f"{base}/downloads/{path.name}"
                assert page.evaluate("document.contentType") == "application/pdf"
                if base.startswith("http"):
                    assert navigation.value is not None and navigation.value.status == 200
                    assert sha(context.request.get(page.url).body()) == sha(path.read_bytes())
                else:
                    assert sha(Path(page.evaluate("decodeURIComponent(location.pathname)")).read_bytes()) == sha(path.read_bytes())
            else:  # Word and Excel files are downloaded
                with page.expect_download() as download:
                    link.click()
                assert download.value.failure() is None
                assert sha(Path(download.value.path()).read_bytes()) == sha(path.read_bytes()), target
            followed += 1
    context.close()
    return followed


def test_every_page_links_working_pdf_and_docx_over_http(browser: object, served: str, full_build: BuildResult) -> None:
    assert check_every_page(browser, full_build, served) >= 2 * 14


def test_every_page_links_working_pdf_and_docx_from_disk(browser: object, full_build: BuildResult) -> None:
    assert check_every_page(browser, full_build, (full_build.out / "site").as_uri()) >= 2 * 14


def test_downloads_are_the_built_files(full_build: BuildResult) -> None:
    downloads = full_build.out / "site" / "downloads"
    for path in downloads.iterdir():
        built = full_build.out / path.suffix[1:] / path.name
        assert path.read_bytes() == built.read_bytes(), path.name


def test_the_instructions_page_is_the_deployer_edition(browser: object, served: str) -> None:
    page = browser.new_page()
    page.goto(f"{served}/thoravis-cxr-instructions-for-use.html", wait_until="load")
    assert page.locator("h1").first.inner_text().endswith("(deployer edition)")
    article = page.locator("article").inner_text()
    assert "Sex: female" in article and "sex=female" not in article and "risk-automation-bias" not in article
    hrefs = {page.locator("article a[href^='downloads/']").nth(i).get_attribute("href") for i in range(2)}
    assert hrefs == {"downloads/thoravis-cxr-instructions-for-use-deployer.pdf",
                     "downloads/thoravis-cxr-instructions-for-use-deployer.docx"}
    page.close()
