"""Which characters the PDFs can print: those every shipped font face has a glyph for (body text is serif, headings
and the cover sans, code mono, each also bold and italic; Typst does not reliably fall back from one face to
another), plus spaces and the characters Unicode says are drawn invisibly. PDF/A refuses a document that needs a
glyph its font lacks. Reads the fonts' cmap tables directly, so `check` needs no font library."""

from __future__ import annotations

import re
import struct
from functools import cache
from pathlib import Path

from techfile.resources import doc_templates_dir

FONT_SUFFIXES = (".ttf", ".otf")
_SPACES = frozenset([0x20, 0xA0, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000])  # blank ones only
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): zero-width, joiners, bidirectional controls,
# variation selectors, tags. Other format characters (e.g. U+0600 ARABIC NUMBER SIGN) are visible and need a glyph.
_DEFAULT_IGNORABLE = ((0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
                      (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
                      (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
                      (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF))


_ASCII_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # what `printable` refuses below U+0080


def printable(character: str) -> bool:
    """True when the PDF renderer can print `character` with the shipped fonts."""
    code = ord(character)
    if code < 0x7F:
        return 0x20 <= code or character in "\t\n\r"
    if code in covered_code_points() or code in _SPACES:
        return True
    return any(first <= code <= last for first, last in _DEFAULT_IGNORABLE)


def unprintable(text: str) -> str | None:
    """The first character of `text` that the PDFs cannot print, or None."""
    if text.isascii():
        found = _ASCII_UNPRINTABLE.search(text)
        return found.group(0) if found else None
    suspects = {c for c in set(text) if ord(c) not in covered_code_points()}
    if not any(not printable(c) for c in suspects):
        return None
    return next(c for c in text if c in suspects and not printable(c))


@cache
def covered_code_points() -> frozenset[int]:
    """Every code point that every shipped font face maps to a glyph."""
    folder = doc_templates_dir() / "pdf" / "fonts"
    faces = [font_code_points(font) for font in sorted(folder.iterdir()) if font.suffix.lower() in FONT_SUFFIXES]
    return frozenset(set.intersection(*faces)) if faces else frozenset()


def font_code_points(path: Path) -> set[int]:
    """The code points a TrueType/OpenType font's Unicode cmap subtables (formats 4 and 12) map to glyphs."""
    with path.open("rb") as stream:
        header = stream.read(12)
        count = struct.unpack_from(">H", header, 4)[0]
        tables = _table_directory(stream.read(16 * count), count)
        if "cmap" not in tables:
            return set()
        offset, length = tables["cmap"]
        stream.seek(offset)
        data = stream.read(length)
    base = 0
    _, count = struct.unpack_from(">HH", data, base)
    subtables: dict[int, int] = {}
    for index in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", data, base + 4 + 8 * index)
        if (platform, encoding) in ((0, 3), (0, 4), (0, 6), (3, 1), (3, 10)):
            subtables.setdefault(struct.unpack_from(">H", data, base + offset)[0], base + offset)
    if 12 in subtables:  # the full repertoire; format 4 repeats its Basic Multilingual Plane part
        return _format12(data, subtables[12])
    return _format4(data, subtables[4]) if 4 in subtables else set()


def _table_directory(data: bytes, count: int) -> dict[str, tuple[int, int]]:
    tables = {}
    for index in range(count):
        tag, _, offset, length = struct.unpack_from(">4sIII", data, 16 * index)
        tables[tag.decode("latin-1")] = (offset, length)
    return tables


def _format4(data: bytes, start: int) -> set[int]:
    segments = struct.unpack_from(">H", data, start + 6)[0] // 2
    ends_at = start + 14
    starts_at = ends_at + 2 * segments + 2
    deltas_at = starts_at + 2 * segments
    ranges_at = deltas_at + 2 * segments
    points = set()
    for segment in range(segments):
        end = struct.unpack_from(">H", data, ends_at + 2 * segment)[0]
        first = struct.unpack_from(">H", data, starts_at + 2 * segment)[0]
        delta = struct.unpack_from(">h", data, deltas_at + 2 * segment)[0]
        range_offset = struct.unpack_from(">H", data, ranges_at + 2 * segment)[0]
        last = min(end, 0xFFFE)
        if range_offset == 0:  # glyph = code + delta: every code maps, except the one whose sum wraps to 0
            points.update(range(first, last + 1))
            wraps = (-delta) & 0xFFFF
            if first <= wraps <= last:  # segments do not overlap, so this code is this segment's own
                points.discard(wraps)
            continue
        for code in range(first, last + 1):
            at = ranges_at + 2 * segment + range_offset + 2 * (code - first)
            glyph = struct.unpack_from(">H", data, at)[0]
            if glyph and (glyph + delta) & 0xFFFF:
                points.add(code)
    return points


def _format12(data: bytes, start: int) -> set[int]:
    groups = struct.unpack_from(">I", data, start + 12)[0]
    points = set()
    for group in range(groups):
        first, last, glyph = struct.unpack_from(">III", data, start + 16 + 12 * group)
        points.update(range(first if glyph else first + 1, last + 1))
    return points
