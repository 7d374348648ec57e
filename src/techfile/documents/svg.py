"""A small SVG writer for the charts: shapes and text placed in points, every number written at a fixed precision and
every text escaped, so that the same drawing always gives the same bytes and a source's text can only be text."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

FONT = "DejaVu Sans"  # shipped with the PDF template (Typst draws the charts with it); browsers fall back to sans-serif
AVERAGE_ADVANCE = 0.62  # DejaVu Sans, in ems, a little above its average (wide for digits and capitals)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

Point = tuple[float, float]


def number(value: float) -> str:
    """`value` with at most two decimals and no trailing zeros ("-0" written as "0")."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold (C0 controls but tab, line feed and carriage return; lone
    surrogates; U+FFFE and U+FFFF): what any XML edition (SVG, XLSX) may carry of a source's text."""
    return _NOT_XML.sub("", text)


def escaped(text: str) -> str:
    """Text for element content or a double-quoted attribute: markup characters escaped, characters XML forbids and
    line breaks dropped or made spaces."""
    text = xml_text(text.replace("\r", " ").replace("\n", " ").replace("\t", " "))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def text_width(text: str, size: float) -> float:
    """An estimate of the width of `text` set at `size` points (slightly wide, so that what is fitted by it fits)."""
    return len(text) * size * AVERAGE_ADVANCE


def middle(y: float, size: float) -> float:
    """The baseline that centres a line of text of `size` points on `y` (DejaVu's capitals are 0.73 em high)."""
    return y + 0.36 * size


class Canvas:
    """An SVG drawing of `width` × `height` points on a white ground, y growing downwards."""

    def __init__(self, width: float, height: float) -> None:
        self.width, self.height = width, height
        self.parts: list[str] = []

    def group(self, name: str) -> None:
        """Begin a named group (closed by `end`): the parts of a chart a reader or test looks for, such as its legend."""
        self.parts.append(f'<g id="{escaped(name)}">')

    def end(self) -> None:
        self.parts.append("</g>")

    def rect(self, x: float, y: float, width: float, height: float, fill: str, stroke: str | None = None,
             stroke_width: float = 0.8, dash: str | None = None, rounding: float = 0.0) -> None:
        attributes = f'x="{number(x)}" y="{number(y)}" width="{number(width)}" height="{number(height)}" fill="{fill}"'
        if rounding:
            attributes += f' rx="{number(rounding)}"'
        self.parts.append(f"<rect {attributes}{_stroke(stroke, stroke_width, dash)}/>")

    def line(self, points: Iterable[Point], colour: str, width: float = 0.8, dash: str | None = None) -> None:
        """An open line through `points`."""
        path = " ".join(f"{number(x)},{number(y)}" for x, y in points)
        self.parts.append(f'<polyline points="{path}" fill="none"{_stroke(colour, width, dash)}/>')

    def polygon(self, points: Iterable[Point], fill: str) -> None:
        path = " ".join(f"{number(x)},{number(y)}" for x, y in points)
        self.parts.append(f'<polygon points="{path}" fill="{fill}"/>')

    def circle(self, x: float, y: float, radius: float, fill: str) -> None:
        self.parts.append(f'<circle cx="{number(x)}" cy="{number(y)}" r="{number(radius)}" fill="{fill}"/>')

    def arrow(self, points: list[Point], colour: str, width: float = 0.8, head: float = 5.0) -> None:
        """A line through `points` ending in a filled head at the last point."""
        (x0, y0), (x1, y1) = points[-2], points[-1]
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        base = (x1 - ux * head, y1 - uy * head)
        self.line([*points[:-1], base], colour, width)
        half = head * 0.4
        self.polygon([(x1, y1), (base[0] - uy * half, base[1] + ux * half), (base[0] + uy * half, base[1] - ux * half)],
                     colour)

    def text(self, x: float, y: float, text: str, size: float = 8.0, anchor: str = "start", colour: str = "#212121",
             bold: bool = False, rotated: bool = False) -> None:
        """`text` with its baseline at `y`; `anchor` start, middle or end; `rotated` reads bottom to top."""
        attributes = f'x="{number(x)}" y="{number(y)}" font-size="{number(size)}"'
        if anchor != "start":
            attributes += f' text-anchor="{anchor}"'
        if colour != "#212121":
            attributes += f' fill="{colour}"'
        if bold:
            attributes += ' font-weight="bold"'
        if rotated:
            attributes += f' transform="rotate(-90 {number(x)} {number(y)})"'
        self.parts.append(f"<text {attributes}>{escaped(text)}</text>")

    def svg(self) -> bytes:
        head = (f'<?xml version="1.0" encoding="utf-8"?>\n'
                f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{number(self.width)}pt" '
                f'height="{number(self.height)}pt" viewBox="0 0 {number(self.width)} {number(self.height)}" '
                f'font-family="{FONT}, sans-serif" fill="#212121">\n'
                f'<rect width="{number(self.width)}" height="{number(self.height)}" fill="#ffffff"/>\n')
        return (head + "\n".join(self.parts) + "\n</svg>\n").encode("utf-8")


def _stroke(colour: str | None, width: float, dash: str | None) -> str:
    if colour is None:
        return ""
    return f' stroke="{colour}" stroke-width="{number(width)}"' + (f' stroke-dasharray="{dash}"' if dash else "")


def ticks(low: float, high: float, most: int = 7, whole: bool = False) -> list[float]:
    """Round values from `low` to `high` (at most `most`, steps of 1, 2, 2.5 or 5 times a power of ten; `whole`:
    whole numbers only, for counts)."""
    span = high - low
    if not span > 0 or not math.isfinite(span):
        return [low]
    raw = max(span / max(1, most - 1), 1.0 if whole else 0.0)
    power = 10.0 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if whole and power < 10 else (1, 2, 2.5, 5, 10)
    step = next(m * power for m in steps if m * power >= raw * (1 - 1e-9))
    first = math.ceil(low / step - 1e-9)
    values = [(first + index) * step for index in range(int((high - first * step) / step + 1e-9) + 1)]
    return [0.0 if abs(v) < step * 1e-9 else v for v in values]


def tick_labels(values: list[float]) -> list[str]:
    """The tick values at one precision: as many decimals as the step between them needs."""
    step = values[1] - values[0] if len(values) > 1 else abs(values[0]) or 1.0
    decimals = 0
    while decimals < 12 and abs(round(step, decimals) - step) > step * 1e-6:
        decimals += 1
    magnitude = max(abs(v) for v in values)
    if magnitude >= 1e7 or decimals > 6:  # in powers of ten, with the digits that tell neighbours apart
        digits = max(1, math.ceil(math.log10(magnitude / step)) + 1) if magnitude else 1
        return [f"{v:.{digits}g}" for v in values]
    return [f"{v:.{decimals}f}" for v in values]
