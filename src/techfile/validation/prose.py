"""Read user Markdown prose as techfile renders it: its lines, links, images and nesting depth.

One reader serves both `check` (which reports what it finds) and the renderer (which rewrites the prose): a link
or image is kept only in a canonical form techfile writes itself, and every other bracket is escaped, so neither
MkDocs nor pandoc ever sees link syntax that this reader did not judge.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from techfile.resources import user_cache_dir
from techfile.validation.files import resolve_inside, sha256_of

MAX_NESTING = 10  # blockquotes and list levels one prose text may nest (Typst stops at about 20)
WEB_SCHEMES = ("http", "https", "mailto")
IMAGE_TYPES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".webp": "WEBP"}

_FENCE = re.compile(r"^(\s{0,3})(`{3,}|~{3,})(.*)$")
_RAW_ATTRIBUTE = re.compile(r"\{=[A-Za-z0-9_-]+\}")
_DEFINITION = re.compile(r"^ {0,3}\[((?:\\.|[^\\\[\]])+)\]:[ \t]*(<[^<>\n]*>|\S+)(?:[ \t]+(\"[^\"]*\"|'[^']*'|\([^()]*\)))?[ \t]*$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_PAGE = re.compile(r"^([a-z0-9][a-z0-9._-]*)\.md$")
_FRAGMENT = re.compile(r"^[A-Za-z0-9_-]*$")
_CONTAINER = re.compile(r"[ \t]*(>|[-+*](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$))[ \t]?")
_URL_SAFE = "-._~:/?#@!$&+,;=%"
_MARKUP = re.compile(r"[\\`\[\]{<$@]")


@dataclass(frozen=True)
class ProseFinding:
    """A problem in a prose text: 0-based line and column within the text, a diagnostic code and message."""

    line: int
    col: int
    code: str
    message: str
    hint: str


@dataclass(frozen=True)
class ProseImage:
    """A project image a prose text shows, copied into the build as `images/<name>`."""

    source: Path
    name: str


@dataclass
class LinkPolicy:
    """What prose may link to: web and mail addresses always; `<document-id>.md` when `pages` names the document;
    images when `root` (the project folder) is given. Images used while rendering are collected in `images`."""

    pages: frozenset[str] | None = None
    root: Path | None = None
    images: dict[str, ProseImage] = field(default_factory=dict)


@dataclass(frozen=True)
class ProseLine:
    """One line of a prose text: `markdown` is False for fence lines and the code between them."""

    number: int
    text: str
    markdown: bool
    fence_open: bool = False
    fence_close: bool = False


def prose_lines(text: str) -> Iterator[ProseLine]:
    """The lines of a prose text, with fenced code blocks told apart from Markdown."""
    fence: str | None = None
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n")):
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(2)[0] * len(match.group(2))
            yield ProseLine(number, line, False, fence_open=True)
        elif fence is not None:
            closing = line.strip().startswith(fence) and set(line.strip()) == {fence[0]}
            fence = None if closing else fence
            yield ProseLine(number, line, False, fence_close=closing)
        else:
            yield ProseLine(number, line, True)


def nesting_findings(text: str) -> list[ProseFinding]:
    """Block nesting (blockquotes and list items) deeper than MAX_NESTING: the PDF renderer would refuse it."""
    open_items: list[int] = []  # content columns of the list items a line may continue
    for line in prose_lines(text):
        if not line.markdown or not line.text.strip():
            continue
        indent = len(line.text) - len(line.text.lstrip(" \t"))
        while open_items and indent < open_items[-1]:
            open_items.pop()
        depth, position, quotes = len(open_items), 0, 0
        for marker in _CONTAINER.finditer(line.text, pos=0):
            if marker.start() != position:
                break
            position = marker.end()
            depth += 1
            if marker.group(1) == ">":
                quotes += 1
            else:
                open_items.append(position)
        if depth > MAX_NESTING:
            return [ProseFinding(line.number, 0, "TF125", f"Markdown nested {depth} levels deep (blockquotes and lists); "
                                 f"the limit is {MAX_NESTING}",
                                 "Flatten the structure: the PDF renderer refuses deeper nesting.")]
    return []


def definitions(text: str) -> dict[str, tuple[str, int, int]]:
    """Reference-style link definitions (`[label]: target`): label → (target, line, column)."""
    found: dict[str, tuple[str, int, int]] = {}
    for line in prose_lines(text):
        match = _DEFINITION.match(line.text) if line.markdown else None
        if match:
            found.setdefault(_label(match.group(1)), (_strip_angle(match.group(2)), line.number, match.start(2)))
    return found


def is_definition(line: str) -> bool:
    return _DEFINITION.match(line) is not None


def _label(text: str) -> str:
    return " ".join(text.lower().split())


def _strip_angle(target: str) -> str:
    return target[1:-1] if target.startswith("<") and target.endswith(">") else target


@dataclass(frozen=True)
class Judgement:
    """What becomes of one link or image: its canonical target, or None (shown as text) with the finding why."""

    href: str | None
    finding: tuple[str, str, str] | None = None  # code, message, hint


def judge_link(target: str, policy: LinkPolicy) -> Judgement:
    """A link is kept for http(s) and mailto addresses, same-page anchors and documents of this project."""
    target = target.strip()
    scheme = _SCHEME.match(target)
    if scheme:
        name = scheme.group(1).lower()
        parts = urlsplit(target)
        if name in ("http", "https") and parts.netloc or name == "mailto" and len(target) > len("mailto:"):
            return Judgement(_encode(target))
        why = ("it is not a complete web address" if name in WEB_SCHEMES
               else "only http:, https: and mailto: links are allowed")
        return Judgement(None, ("TF126", f"link to {_short(target)!r} is shown as text: {why}",
                                "Link to a web page (https://…), a mail address (mailto:…) or another document "
                                "(<document-id>.md)."))
    path, _, fragment = target.partition("#")
    if not path:
        return Judgement("#" + _fragment(fragment))
    page = _PAGE.match(path)
    if policy.pages is not None and page and page.group(1) in policy.pages:
        return Judgement(f"{page.group(1)}.md" + (f"#{_fragment(fragment)}" if fragment else ""))
    if policy.pages is None:
        return Judgement(None)
    known = ", ".join(f"{page}.md" for page in sorted(policy.pages)[:2])
    return Judgement(None, ("TF127", f"link to {_short(target)!r} is shown as text: it is not a document of this project",
                            f"Link to another document by its file name, e.g. {known}…; or to a web address."))


def judge_image(target: str, policy: LinkPolicy, check_content: bool) -> Judgement:
    """An image is kept when it is a PNG, JPEG, GIF or WebP file inside the project (a path relative to its folder)."""
    target = target.strip()
    if _SCHEME.match(target) or target.startswith("//"):
        return Judgement(None, ("TF128", f"image {_short(target)!r} is shown as its description: images must be files "
                                         "in the project",
                                "Copy the image into the project (e.g. docs/images/) and refer to it by a path "
                                "relative to the project folder."))
    if policy.root is None:
        return Judgement(None)
    reference = unquote(target)
    resolved, code, reason = resolve_inside(policy.root, reference)
    if resolved is None:
        hint = ("Paths are relative to the project folder; copy the file into the project."
                if code == "TF402" else "Check the spelling; image paths are relative to the project folder.")
        return Judgement(None, (code, f"image: {reason}", hint))
    kind = IMAGE_TYPES.get(resolved.suffix.lower())
    problem = None if kind else "is not a PNG, JPEG, GIF or WebP file"
    if kind and check_content:
        problem = image_problem(resolved, kind)
    if problem:
        return Judgement(None, ("TF129", f"image {reference!r} {problem}",
                                "Use a PNG, JPEG, GIF or WebP image that opens in an image viewer."))
    name = sha256_of(resolved)[:20] + resolved.suffix.lower()
    policy.images.setdefault(name, ProseImage(resolved, name))
    return Judgement(f"images/{name}")


MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000


def image_problem(path: Path, kind: str) -> str | None:
    """Why an image file cannot be shown (wrong type, unreadable, too large), or None. Decodes it fully, unless the
    same bytes were found good as the same `kind` by the same Pillow before (see `_decoded_mark`)."""
    if path.stat().st_size > MAX_IMAGE_BYTES:
        return f"is larger than {MAX_IMAGE_BYTES // 1_048_576} MB"
    mark = _decoded_mark(path, kind)
    if mark is not None and mark.is_file():
        return None
    problem = _decode_problem(path, kind)
    if problem is None and mark is not None:
        try:
            mark.parent.mkdir(parents=True, exist_ok=True)
            mark.touch()
        except OSError:
            pass  # a cache that cannot be written only means decoding again next time
    return problem


def _decoded_mark(path: Path, kind: str) -> Path | None:
    """The user-cache file whose presence records that these bytes decoded as `kind` with this Pillow (an image that
    decoded once decodes again: it spares `check` importing Pillow's decoders); None when caching is off. Only good
    verdicts are kept, and the cache lies outside every project, so a project cannot vouch for its own images."""
    folder = user_cache_dir("images")
    if folder is None:
        return None
    import PIL  # the package only (its version), not the decoders

    digest = sha256_of(path)
    return folder / f"{digest}.{kind.lower()}.{MAX_IMAGE_PIXELS}.pillow-{PIL.__version__}.ok"


def _decode_problem(path: Path, kind: str) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.format != kind and not (kind == "JPEG" and image.format == "MPO"):
                return f"is not a {kind} file (its content is {image.format or 'unknown'})"
            if image.width * image.height > MAX_IMAGE_PIXELS:
                return f"has more than {MAX_IMAGE_PIXELS:,} pixels"
            image.load()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        return f"cannot be read as an image ({type(err).__name__})"
    return None


def _encode(url: str) -> str:
    """A URL with every character that could mean something to a Markdown reader percent-encoded."""
    encoded = quote(url, safe=_URL_SAFE)
    return re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", encoded)


def _fragment(fragment: str) -> str:
    return fragment if _FRAGMENT.match(fragment) else quote(fragment, safe="")


def _short(text: str, limit: int = 60) -> str:
    text = "".join(c if unicodedata.category(c)[0] != "C" else f"\\u{ord(c):04x}" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class _Link:
    image: bool
    text: str
    target: str
    end: int
    col: int  # where the target is written (for findings); the definition's line for reference links
    line: int | None = None


Escape = Callable[[str], str]


class InlineReader:
    """Rewrite one Markdown line: code spans kept, links and images judged, every other bracket, every `{` and all raw markup
    escaped. `findings` collects what the judgements report (with the line number given to `rewrite`)."""

    def __init__(self, policy: LinkPolicy, refs: dict[str, tuple[str, int, int]], check_images: bool = False) -> None:
        self.policy, self.refs, self.check_images = policy, refs, check_images
        self.findings: list[ProseFinding] = []
        self.used: set[tuple[int, int]] = set()  # definitions (line, column) a link used

    def rewrite(self, line: str, number: int) -> str:
        return self._inline(line, number, links=True)

    def _inline(self, text: str, number: int, links: bool) -> str:
        if not _MARKUP.search(text):
            return text
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            if c == "\\" and i + 1 < n:
                out.append(text[i:i + 2])
                i += 2
            elif c == "`":
                end = _code_span_end(text, i)
                run = len(text[i:]) - len(text[i:].lstrip("`"))
                if end is None:
                    out.append(text[i:i + run])
                    i += run
                    continue
                out.append(text[i:end])
                raw = _RAW_ATTRIBUTE.match(text, end)
                i = raw.end() if raw else end
            elif c == "[" or (c == "!" and text.startswith("[", i + 1)):
                link = _parse_link(text, i, self.refs) if links else None
                if link is None:
                    out.append("!\\[" if c == "!" else "\\[")
                    i += 2 if c == "!" else 1
                    continue
                out.append(self._emit(link, number))
                i = link.end
            elif c == "]":
                out.append("\\]")
                i += 1
            elif c in "{<$@":  # `{` would open pandoc attributes (on links, images, headings) or a raw attribute
                out.append("\\" + c)
                i += 1
            else:
                out.append(c)
                i += 1
        return "".join(out)

    def _emit(self, link: _Link, number: int) -> str:
        text = self._inline(link.text, number, links=False)
        if link.image:
            judgement = judge_image(link.target, self.policy, self.check_images)
        else:
            judgement = judge_link(link.target, self.policy)
        line = number if link.line is None else link.line
        if judgement.finding and (line, link.col) not in self.used:
            self.findings.append(ProseFinding(line, link.col, *judgement.finding))
        if link.line is not None:
            self.used.add((line, link.col))
        if judgement.href is None:
            return text
        return f"{'!' if link.image else ''}[{text}]({judgement.href})"


def _code_span_end(text: str, start: int) -> int | None:
    """The end of the code span opening at `start` (a run of backticks closed by a run of the same length)."""
    run = len(text[start:]) - len(text[start:].lstrip("`"))
    position = start + run
    while True:
        found = text.find("`" * run, position)
        if found < 0:
            return None
        after = found + run
        if after < len(text) and text[after] == "`":
            position = after + len(text[after:]) - len(text[after:].lstrip("`"))
            continue
        if found > 0 and text[found - 1] == "`":
            position = after
            continue
        return after


def _closing_bracket(text: str, start: int) -> int | None:
    """The `]` that closes the `[` at `start`, skipping escapes and code spans; None when it is not on this line."""
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "`":
            end = _code_span_end(text, i)
            if end is not None:
                i = end
                continue
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _parse_link(text: str, start: int, refs: dict[str, tuple[str, int, int]]) -> _Link | None:
    """An inline link `[text](target)`, a reference link `[text][label]`/`[label][]`/`[label]`, or the same as an
    image with a leading `!`; None when the brackets do not form one on this line."""
    image = text[start] == "!"
    opening = start + 1 if image else start
    closing = _closing_bracket(text, opening)
    if closing is None:
        return None
    label_text = text[opening + 1:closing]
    after = closing + 1
    if text.startswith("(", after):
        inline = _inline_target(text, after + 1)
        if inline is not None:
            target, target_col, end = inline
            return _Link(image, label_text, target, end, target_col)
    if text.startswith("[", after):
        end = text.find("]", after + 1)
        if end > 0 and "[" not in text[after + 1:end]:
            label = _label(text[after + 1:end]) or _label(label_text)
            if label in refs:
                target, line, col = refs[label]
                return _Link(image, label_text, target, end + 1, col, line)
            return None
    label = _label(label_text)
    if label and label in refs:
        target, line, col = refs[label]
        return _Link(image, label_text, target, after, col, line)
    return None


def _inline_target(text: str, i: int) -> tuple[str, int, int] | None:
    """Parse `target "title")` from position `i` (just after the opening parenthesis)."""
    n = len(text)
    while i < n and text[i] in " \t":
        i += 1
    target_col = i
    if i < n and text[i] == "<":
        end = text.find(">", i + 1)
        if end < 0 or "<" in text[i + 1:end]:
            return None
        target, i = text[i + 1:end], end + 1
    else:
        depth, begin = 0, i
        while i < n:
            c = text[i]
            if c == "\\" and i + 1 < n:
                i += 2
                continue
            if c in " \t":
                break
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    break
                depth -= 1
            i += 1
        target = re.sub(r"\\(.)", r"\1", text[begin:i])
    while i < n and text[i] in " \t":
        i += 1
    if i < n and text[i] in "\"'(":
        close = {"\"": "\"", "'": "'", "(": ")"}[text[i]]
        end = text.find(close, i + 1)
        if end < 0:
            return None
        i = end + 1
        while i < n and text[i] in " \t":
            i += 1
    if i < n and text[i] == ")":
        return target, target_col, i + 1
    return None


def scan_prose(text: str, policy: LinkPolicy, check_images: bool = True) -> list[ProseFinding]:
    """Everything a prose text would lose or fail on when rendered: links and images shown as text, nesting."""
    refs = definitions(text)
    reader = InlineReader(policy, refs, check_images=check_images)
    for line in prose_lines(text):
        if line.markdown and not is_definition(line.text):
            reader.rewrite(line.text, line.number)
    for label, (target, line, col) in refs.items():  # definitions nothing uses are dropped, but still judged
        if (line, col) not in reader.used:
            reader._emit(_Link(False, label, target, 0, col, line), line)
    return sorted(reader.findings + nesting_findings(text), key=lambda f: (f.line, f.col, f.code))
