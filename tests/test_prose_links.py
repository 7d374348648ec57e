"""Links and images in prose: one reader judges them for `check` and for rendering, and both real Markdown readers
(Python-Markdown as MkDocs runs it, pandoc as the PDFs run it) see only the links it kept."""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from techfile.documents.markdown import prose
from techfile.publish.pdf import PANDOC_FORMAT, pandoc_path
from techfile.publish.site import SafeLinks
from techfile.validation.prose import LinkPolicy, scan_prose

PAGES = frozenset({"demo-risk-register", "demo-logbook"})

# Each line: link syntax as a contributor might write it, and the one target that may come out of it (None: text).
CASES = [
    ("[a](https://example.com/x)", "https://example.com/x"),
    ("[a](<https://example.com/a b>)", "https://example.com/a%20b"),
    ('[a](https://example.com/x "title")', "https://example.com/x"),
    ("[a](https://example.com/p_(q))", "https://example.com/p_%28q%29"),
    ("[a](mailto:dpo@example.com)", "mailto:dpo@example.com"),
    ("[a](demo-logbook.md)", "demo-logbook.md"),
    ("[a](demo-risk-register.md#risk-1)", "demo-risk-register.md#risk-1"),
    ("[a](#section)", "#section"),
    ("[a](javascript:alert(1))", None),
    ("[a]( javascript:alert(1))", None),
    ("[a](JAVASCRIPT:alert(1))", None),
    ("[a](<javascript:alert(1)>)", None),
    ("[a](java\\script:alert(1))", None),
    ("[a](&#106;avascript:alert(1))", None),
    ("[a](&#x6A;avascript:alert(1))", None),
    ("[a](%6Aavascript:alert(1))", None),
    ("[a](data:text/html;base64,PHNjcmlwdD4=)", None),
    ("[a](vbscript:msgbox)", None),
    ("[a](file:///etc/passwd)", None),
    ("[a](//evil.example/x)", None),
    ("[a](https:evil)", None),
    ("[a](no-such-doc.md)", None),
    ("[a](../demo-logbook.md)", None),
    ("[a](/demo-logbook.md)", None),
    ("[a][r1]", None),
    ("[r2][]", None),
    ("[r3]", None),
    ("[a](<javascript:alert(1)> \"t\")", None),
    ("[![x](https://img.example/x.png)](javascript:alert(1))", None),
    ("[a](https://example.com)[b](javascript:x)", "https://example.com"),
    ("[[a](javascript:x)](https://example.com)", "https://example.com"),
    ("<javascript:alert(1)>", None),
    ("<https://example.com/auto>", None),
    ("<dpo@example.com>", None),
    ("[a] (javascript:alert(1))", None),
    ("[a]\t(javascript:alert(1))", None),
    ("`[a](javascript:x)`", None),
    ("\\[a](javascript:x)", None),
    ("\\\\[a](javascript:x)", None),
    ("[a](javascript:x\\)", None),
    ("[a](<javascript:x>", None),
    ("[a](java\tscript:x)", None),
    ("[^1] [x] [ ] ![", None),
    ('<a href="javascript:alert(1)">a</a>', None),
    ("[a](https://example.com/<script>)", "https://example.com/%3Cscript%3E"),
]
DEFINITIONS = "\n\n[r1]: javascript:alert(1)\n[r2]: data:text/html,x\n[r3]: <vbscript:msgbox> \"title\"\n"


def _markdown() -> str:
    text = "\n\n".join(f"Case {i}: {case}" for i, (case, _) in enumerate(CASES)) + DEFINITIONS
    return str(prose(text, policy=LinkPolicy(pages=PAGES)))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []  # (case paragraph text so far, href)
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.found.append((self.text, value))
            if name.startswith("on"):
                self.found.append((self.text, f"{name}!"))

    def handle_data(self, data: str) -> None:
        self.text += data


def _hrefs_by_case(html: str) -> dict[int, list[str]]:
    parser = _Links()
    parser.feed(html)
    found: dict[int, list[str]] = {}
    for text, href in parser.found:
        case = re.findall(r"Case (\d+):", text)
        found.setdefault(int(case[-1]) if case else -1, []).append(href)
    return found


def _expected() -> dict[int, list[str]]:
    return {i: [target] for i, (_, target) in enumerate(CASES) if target is not None}


def test_python_markdown_as_mkdocs_reads_it_sees_only_the_kept_links() -> None:
    import markdown

    html = markdown.markdown(_markdown(), extensions=["tables", "toc", "pymdownx.escapeall", "pymdownx.superfences",
                                                       SafeLinks({"demo-logbook.md"}, set()).extension()])
    assert _hrefs_by_case(html) == _expected()


def test_pandoc_as_the_pdfs_read_it_sees_only_the_kept_links() -> None:
    done = subprocess.run([pandoc_path(), "--from", PANDOC_FORMAT, "--to", "html5"], input=_markdown(),
                          capture_output=True, text=True, check=True)
    assert _hrefs_by_case(done.stdout) == _expected()


def test_the_site_guard_drops_what_a_template_might_still_write() -> None:
    """Defence in depth: raw Markdown link syntax reaching the site reader (e.g. from a project template) is judged
    again on the rendered tree; raw HTML is not read at all."""
    import markdown

    source = ("[js](javascript:alert(1)) [data](data:x) [web](https://example.com) [left out](demo-logbook.md) "
              "[kept](demo-risk-register.md) ![img](https://evil.example/x.png) ![chart](charts/c.svg) "
              '<img src=x onerror="alert(1)"> <a href="javascript:x">raw</a> <https://auto.example> '
              "[r]\n\n[r]: javascript:alert(2)\n")
    guard = SafeLinks({"demo-risk-register.md"}, {"demo-logbook.md"})
    html = markdown.markdown(source, extensions=["pymdownx.escapeall", guard.extension()])
    parser = _Links()
    parser.feed(html)
    assert [href for _, href in parser.found] == ["https://example.com", "demo-risk-register.md", "charts/c.svg"]
    assert "onerror" not in re.sub(r"&lt;.*?&gt;", "", html) and "&lt;img" in html


def test_check_reports_each_dropped_link_where_it_is_written() -> None:
    text = "First line.\nSee [x](javascript:alert(1)) and [y][r].\n\n[r]: data:text/html,x\n"
    findings = scan_prose(text, LinkPolicy(pages=PAGES))
    assert [(f.line, f.col, f.code) for f in findings] == [(1, 8, "TF126"), (3, 5, "TF126")]


@pytest.mark.parametrize("text", ["plain words", "a [bracket] and `code [x](y)`", "```\n[x](javascript:y)\n```"])
def test_prose_without_links_is_reported_for_nothing(text: str) -> None:
    assert scan_prose(text, LinkPolicy(pages=PAGES)) == []


def test_images_are_project_files_renamed_by_their_content(tmp_path: Path) -> None:
    from PIL import Image

    (tmp_path / "docs").mkdir()
    Image.new("RGB", (4, 4), (10, 20, 30)).save(tmp_path / "docs" / "a.png")
    policy = LinkPolicy(pages=PAGES, root=tmp_path)
    markdown = str(prose("![the flow](docs/a.png) ![again](docs/./a.png) ![web](https://x.example/a.png)", policy=policy))
    (name,) = policy.images
    assert re.fullmatch(r"[0-9a-f]{20}\.png", name)
    assert markdown == f"![the flow](images/{name}) ![again](images/{name}) web"
