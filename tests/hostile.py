"""Hostile sources for the safety tests: attack payloads placed in every string field the JSON Schemas define,
in every source kind, and in every Markdown prose file of the sample.

The fields come from walking `schemas/*.schema.json`, never from a list kept here. A field the sample does not
fill is added, with its siblings under the same new object. Each payload starts with a marker (`Q0001Z`) that
names the field it was put in, so that a test can find where the field landed in the site and in the PDFs.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from techfile.assess.logbook import entry_sha256
from techfile.sources.discovery import discover_sources
from techfile.sources.kinds import SOURCE_KINDS

from conftest import REPO, SAMPLE, SCHEMAS

CREDIT = REPO / "project_templates" / "credit"  # a deployer-side project: the kinds the sample has no use for
GPAI = REPO / "project_templates" / "gpai"  # a general-purpose model's provider: gpai_model.yaml
BASES = {"sample": SAMPLE, "credit": CREDIT, "gpai": GPAI}

ANY = "*"
CONSTRAINTS = ("pattern", "enum", "format", "const", "x-techfile-path", "x-techfile-ref")
MARKER = re.compile(r"Q(\d{4})Z")
END_MARKER = "Z{:04d}Q"

# One line of every attack on the renderers: HTML and script, link schemes, Jinja, Typst, pandoc raw markup,
# entities, zero-width and bidirectional characters, Markdown and YAML punctuation.
TEXT_ATTACKS = (
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    '<svg onload="window.__pwned=3">',
    '<iframe srcdoc="<script>parent.__pwned=4</script>"></iframe>',
    "[click](javascript:window.__pwned=5)",
    "[data](data:text/html,<script>parent.__pwned=6</script>)",
    "{{ 7*7 }} {% if true %}jinja{% endif %}",
    '#panic("typst") #read("/etc/passwd") #image("/etc/passwd")',
    "`raw`{=html} {=typst} $x$ $\\foo$ @cite",
    "&lt;b&gt; &#106;avascript: &amp;",
    "zero\u200bwidth\u200d bidi\u202eevil\u202c iso\u2066late\u2069",
)
PROSE_ATTACK = """<script>window.__pwned=11</script>
<img src=x onerror="window.__pwned=12"> <svg onload="window.__pwned=13"> <iframe srcdoc="<script>parent.__pwned=14</script>"></iframe>

Links: [inline js](javascript:window.__pwned=15) [spaced]( JaVaScRiPt:window.__pwned=16 "t") [data](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX19wd25lZD0xNzwvc2NyaXB0Pg==)
[vb](vbscript:msgbox) [file](file:///etc/passwd) [proto](//evil.example/x) [entity](&#106;avascript:window.__pwned=18) [dead](no-such-document.md)
[ref js][evil] [ref data][evil-data] [shortcut] <javascript:window.__pwned=19> <https://auto.example/>

![remote](https://evil.example/x.png) ![file](file:///etc/passwd) ![data](data:image/png;base64,iVBORw0KGgo=)

Jinja {{ 7*7 }} {% if true %}evaluated{% endif %} and Typst #panic("typst") #read("/etc/passwd") #image("/etc/passwd") $x$ @cite

```{=html}
<script>window.__pwned=20</script>
```

`<b>raw</b>`{=html} `#panic()`{=typst} <!-- comment --> &lt;script&gt; &amp; zero\u200bwidth bidi\u202eevil\u202c

> <script>window.__pwned=21</script>

[evil]: javascript:window.__pwned=22
[evil-data]: data:text/html,<script>parent.__pwned=23</script>
[shortcut]: vbscript:msgbox
"""


def kinds_absent_from(base: Path) -> set[str]:
    """The source kinds a base project has no file of."""
    found, _ = discover_sources(base)
    return {kind.name for kind in SOURCE_KINDS} - {source.kind.name for source in found}


def text_payload(number: int) -> str:
    """The attacks between two markers of the field: `Q0001Z` starts it, `Z0001Q` ends it."""
    return f"Q{number:04d}Z " + " ".join(TEXT_ATTACKS) + f" Z{number:04d}Q"


def prose_payload(number: int) -> str:
    return f"Q{number:04d}Z prose\n\n" + PROSE_ATTACK


@dataclass(frozen=True)
class Place:
    """A string place in a kind's schema: a path pattern, and whether it is free text, constrained or prose."""

    kind: str
    pattern: tuple[str, ...]
    role: str  # "free", "constrained", "prose", "key"


def schema_places() -> list[Place]:
    """Every place in every source kind's schema that holds a string (or Markdown prose, or a free key)."""
    places: list[Place] = []
    for kind in SOURCE_KINDS:
        root = json.loads((SCHEMAS / kind.schema_file).read_text(encoding="utf-8"))
        found: dict[tuple[str, ...], str] = {}
        _walk(root, root, (), found, 0)
        places.extend(Place(kind.name, pattern, role) for pattern, role in sorted(found.items()))
    return places


def _deref(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _walk(node: Any, root: dict[str, Any], pattern: tuple[str, ...], found: dict[tuple[str, ...], str], depth: int) -> None:
    if not isinstance(node, dict) or depth > 40:
        return
    if str(node.get("$ref", "")).endswith("/prose"):
        found[pattern] = "prose"
        return
    node = _deref(root, node)
    types = node.get("type") if isinstance(node.get("type"), list) else [node.get("type")]
    if "string" in types:
        found[pattern] = "constrained" if any(k in node for k in CONSTRAINTS) else "free"
    for key, child in node.get("properties", {}).items():
        _walk(child, root, (*pattern, key), found, depth + 1)
    if isinstance(node.get("additionalProperties"), dict):
        if "propertyNames" not in node:
            found[(*pattern, "<key>")] = "key"
        _walk(node["additionalProperties"], root, (*pattern, ANY), found, depth + 1)
    if isinstance(node.get("items"), dict):
        _walk(node["items"], root, (*pattern, ANY), found, depth + 1)
    for keyword in ("oneOf", "anyOf", "allOf"):
        for branch in node.get(keyword, []):
            _walk(branch, root, pattern, found, depth + 1)


def matches(data: Any, pattern: tuple[str, ...], prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The concrete paths in `data` that a place pattern matches."""
    if not pattern:
        yield prefix
        return
    head, rest = pattern[0], pattern[1:]
    if head == "<key>":
        if isinstance(data, dict):
            for key in data:
                yield (*prefix, ("<key>", key))
        return
    if head == ANY:
        items = enumerate(data) if isinstance(data, list) else data.items() if isinstance(data, dict) else ()
        for key, value in items:
            yield from matches(value, rest, (*prefix, key))
    elif isinstance(data, dict) and head in data:
        yield from matches(data[head], rest, (*prefix, head))


@dataclass
class Field:
    """One filled place: its kind, file, concrete path, role and the value it had in the sample."""

    kind: str
    relpath: str
    path: tuple[Any, ...]
    role: str
    original: Any


@dataclass
class Filled:
    """Where each payload went (marker number → field), and which fields `check` reported instead of accepting."""

    root: Path
    fields: dict[int, list[Field]] = field(default_factory=dict)  # several when one sample text is used in several
    uncovered: list[Place] = field(default_factory=list)
    absent_kinds: set[str] = field(default_factory=set)
    every_place: bool = True  # payloads in every place of the schemas (else in the places a test chose)
    prose_files: dict[int, str] = field(default_factory=dict)
    reported: dict[int, list[str]] = field(default_factory=dict)  # marker → the diagnostics at its place
    file_prose: list[Field] = field(default_factory=list)  # prose fields that name a .md file (filled in the file)
    inserted: dict[str, list[list[tuple[Any, ...]]]] = field(default_factory=dict)  # file → nodes added together

    @property
    def rendered(self) -> dict[int, list[Field]]:
        return {n: f for n, f in self.fields.items() if n not in self.reported}


def hostile_project(target: Path, roles: tuple[str, ...] = ("free", "prose", "key"), accept: bool = True,
                    places: list[Place] | None = None, base: Path = SAMPLE) -> Filled:
    """A copy of `base` with a payload in every string place of the given roles (absent places added) and
    appended to every Markdown prose file. With `accept`, a field whose payload `check` refuses with an error at
    that field is reported (and given back its sample value), until `check` accepts the project. Places of kinds
    `base` has no file of are listed in `absent_kinds` (another base covers them)."""
    shutil.copytree(base, target, ignore=shutil.ignore_patterns("build"))
    filled = Filled(target, every_place=places is None)
    found, _ = discover_sources(target)
    places = [p for p in (schema_places() if places is None else places) if p.role in roles]
    sources = [(s.kind.name, s.relpath, yaml.safe_load(s.path.read_text(encoding="utf-8"))) for s in found]
    counter = iter(range(1, 10_000))
    replacements: dict[str, int] = {}
    prose_files: set[str] = set()
    inserted = filled.inserted
    for place in places:
        documents = [(relpath, data) for kind, relpath, data in sources if kind == place.kind]
        if not documents:
            filled.absent_kinds.add(place.kind)
            continue
        hits = [(relpath, data, path) for relpath, data in documents for path in matches(data, place.pattern)]
        if not hits and place.role != "key":
            relpath, data = documents[0]
            created = _insert(data, place.kind, place.pattern, f"absent {'/'.join(place.pattern)}")
            if created:
                hits = [(relpath, data, path) for path in matches(data, place.pattern)]
                inserted.setdefault(relpath, []).append(created)
        if not hits:
            filled.uncovered.append(place)
            continue
        for relpath, data, path in hits:
            _fill(filled, place, relpath, data, path, counter, replacements, prose_files)
    _write(target, sources)
    for relpath in sorted(prose_files):
        number = next(counter)
        filled.prose_files[number] = relpath
        markdown = target / relpath
        markdown.write_text(markdown.read_text(encoding="utf-8") + "\n\n" + prose_payload(number), encoding="utf-8")
    rechain_logbook(target)
    while accept and _report_refused(filled, sources):
        _write(target, sources)
        rechain_logbook(target)
    return filled


def _write(target: Path, sources: list[tuple[str, str, Any]]) -> None:
    for _, relpath, data in sources:
        (target / relpath).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1 << 16),
                                      encoding="utf-8")


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        data = data[step]
    return data


def _report_refused(filled: Filled, sources: list[tuple[str, str, Any]]) -> bool:
    """Give back its sample value to each field `check` refuses (an error at its line); True if any was."""
    from techfile.loading import load_project

    errors = [d for d in load_project(filled.root).errors]
    if not errors:
        return False
    at: dict[tuple[str, int], list[int]] = {}
    for number, items in filled.fields.items():
        for item in items:
            if number not in filled.reported:
                at.setdefault((item.relpath, _line_of(filled.root, item, number)), []).append(number)
    refused, before = False, set(filled.reported)
    for error in errors:
        quoted = {int(m) for m in MARKER.findall(error.message)}  # a message that quotes a payload names its field
        for number in set(at.get((error.path, error.line), [])) | (quoted & set(filled.fields)):
            filled.reported.setdefault(number, []).append(f"{error.path}:{error.line}: {error.code} {error.message}")
            refused = True
    if not refused:
        raise AssertionError("check refuses the hostile project away from any payload: " +
                             "; ".join(f"{d.path}:{d.line}: {d.code} {d.message}" for d in errors[:5]))
    data_of = {relpath: data for _, relpath, data in sources}
    for number in sorted(set(filled.reported) - before):
        for item in filled.fields[number]:
            if not _present(data_of[item.relpath], item.path):
                continue
            group = next((g for g in filled.inserted.get(item.relpath, [])
                          if any(item.path[:len(r)] == r for r in g)), None)
            if group is None:
                _restore(data_of[item.relpath], item, number)
                continue
            filled.inserted[item.relpath].remove(group)  # a place the sample leaves out goes again, with its partners
            for root in group:
                _remove(data_of[item.relpath], root)
                for other, items in filled.fields.items():
                    if any(i.relpath == item.relpath and i.path[:len(root)] == root for i in items):
                        filled.reported.setdefault(other, []).append(f"removed with Q{number:04d}Z")
    return True


def _present(data: Any, path: tuple[Any, ...]) -> bool:
    try:
        _get(data, tuple(step for step in path if not isinstance(step, tuple)))
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _remove(data: Any, path: tuple[Any, ...]) -> None:
    *parents, last = path
    container = _get(data, tuple(parents))
    if isinstance(container, dict):
        container.pop(last, None)
    elif isinstance(container, list) and isinstance(last, int) and last < len(container):
        container.pop(last)


def _line_of(root: Path, item: Field, number: int) -> int:
    from techfile.sources.yaml_source import load_yaml_source

    document, _ = load_yaml_source(root / item.relpath, item.relpath)
    assert document is not None
    *parents, last = item.path
    if isinstance(last, tuple):
        container = _get(document.data, tuple(parents))
        key = next((k for k in container if str(k).startswith(f"Q{number:04d}Z")), None)
        return document.key_mark((*parents, key)).line if key is not None else 0
    try:
        _get(document.data, item.path)
    except (KeyError, IndexError, TypeError):
        return 0
    return document.mark(item.path).line


def field_lines(root: Path, item: Field, number: int) -> set[int]:
    """The lines where a filled field's value (or key) and the object holding it are written."""
    from techfile.sources.yaml_source import load_yaml_source

    document, _ = load_yaml_source(root / item.relpath, item.relpath)
    assert document is not None
    parent = tuple(step for step in item.path[:-1])
    return {_line_of(root, item, number), document.mark(parent).line, document.key_mark(parent).line}


def _restore(data: Any, item: Field, number: int) -> None:
    *parents, last = item.path
    container = _get(data, tuple(parents))
    if isinstance(last, tuple):
        key = next((k for k in container if str(k).startswith(f"Q{number:04d}Z")), None)
        if key is not None:
            container[item.original] = container.pop(key)
    elif isinstance(container[last], str) and container[last].startswith(f"Q{number:04d}Z"):
        container[last] = item.original


def _fill(filled: Filled, place: Place, relpath: str, data: Any, path: tuple[Any, ...], counter: Iterator[int],
          replacements: dict[str, int], prose_files: set[str]) -> None:
    *parents, last = path
    container = data
    for step in parents:
        container = container[step]
    if isinstance(last, tuple):  # a key of a free map: rename it, consistently with the values it must match
        key = last[1]
        if not isinstance(key, str):
            return
        number = _number(replacements, key, counter)
        container[text_payload(number)] = container.pop(key)
        filled.fields.setdefault(number, []).append(Field(place.kind, relpath, path, "key", key))
        return
    value = container[last]
    if place.role == "prose":
        if isinstance(value, str):
            number = next(counter)
            container[last] = prose_payload(number)
            filled.fields[number] = [Field(place.kind, relpath, path, "prose", value)]
        elif isinstance(value, dict) and isinstance(value.get("file"), str):
            prose_files.add(value["file"])
            filled.file_prose.append(Field(place.kind, relpath, path, "prose", value))
        return
    if isinstance(value, (dict, list)) or value is None:
        return
    number = _number(replacements, str(value), counter)  # a number where the schema also allows text becomes text
    container[last] = text_payload(number)
    filled.fields.setdefault(number, []).append(Field(place.kind, relpath, path, place.role, value))


def _number(replacements: dict[str, int], original: str, counter: Iterator[int]) -> int:
    """One marker per sample text, so that values which must agree (ids of a project's own framework, slice keys and
    subgroups, lineage node names) still agree after the payloads are in."""
    if original not in replacements:
        replacements[original] = next(counter)
    return replacements[original]


def _insert(data: Any, kind: str, pattern: tuple[str, ...], value: str) -> list[tuple[Any, ...]]:
    """Add a place the sample leaves out, as its schema shapes it: lists or maps on the way (first item or key `k`),
    each new object with its required properties and the partners its keys require, each new list with its
    minimum number of items. Gives back the paths of the outermost node it created and of its partners."""
    root = _schema(kind)
    node, schema, path = data, root, ()
    created: list[tuple[Any, ...]] = []
    for index, step in enumerate(pattern):
        last = index == len(pattern) - 1
        child = _child(root, schema, step)
        if child is None:
            return []
        if step == ANY and isinstance(node, list):
            key: Any = 0
            if not node:
                node.extend(_example(root, child, value) for _ in range(max(1, _deref(root, schema).get("minItems", 1))))
                created = created or [path]
        elif isinstance(node, dict):
            key = "k" if step == ANY and not node else next(iter(node)) if step == ANY else step
            if key in node and not last and not isinstance(node[key], (dict, list)):  # a scalar branch of a oneOf
                branch = next((b for b in _deref(root, child).get("oneOf", []) if _child(root, b, pattern[index + 1])), None)
                if branch is None:
                    return []
                node[key] = _example(root, branch, value)
                created = created or [(*path, key)]
            elif key not in node:
                node[key] = value if last else _example(root, child, value)
                if not created:
                    created = [(*path, key)]
                    for partner in _deref(root, schema).get("dependentRequired", {}).get(key, []):
                        if partner not in node:
                            node[partner] = _example(root, _child(root, schema, partner) or {}, value)
                            created.append((*path, partner))
        else:
            return []
        if last:
            return created
        node, schema, path = node[key], child, (*path, key)
    return created


def _schema(kind: str) -> dict[str, Any]:
    schema_file = next(k.schema_file for k in SOURCE_KINDS if k.name == kind)
    return json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))


def _child(root: dict[str, Any], node: dict[str, Any], step: str) -> dict[str, Any] | None:
    """The schema of `step` under `node` (a property, a map value or a list item), looked for in its branches too."""
    node = _deref(root, node)
    if step == ANY:
        for keyword in ("items", "additionalProperties"):
            if isinstance(node.get(keyword), dict):
                return node[keyword]
    elif step in node.get("properties", {}):
        return node["properties"][step]
    for keyword in ("oneOf", "anyOf", "allOf"):
        for branch in node.get(keyword, []):
            found = _child(root, branch, step)
            if found is not None:
                return found
    return None


def _example(root: dict[str, Any], node: dict[str, Any], text: str) -> Any:
    """A small value the schema accepts: its required properties, its minimum items, a date for a date."""
    if str(node.get("$ref", "")).endswith("/prose"):
        return text
    node = _deref(root, node)
    for keyword in ("oneOf", "anyOf"):
        if node.get(keyword):
            return _example(root, node[keyword][0], text)
    if "const" in node:
        return node["const"]
    if node.get("enum"):
        return node["enum"][0]
    kind = node.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    if kind == "object" or "properties" in node:
        return {key: _example(root, _child(root, node, key) or {}, text) for key in node.get("required", [])}
    if kind == "array":
        return [_example(root, node.get("items", {}), text) for _ in range(max(1, node.get("minItems", 1)))]
    if kind in ("integer", "number"):
        return node.get("minimum", 1)
    if kind == "boolean":
        return False
    if node.get("format") == "date" or node.get("pattern", "").startswith("^\\d{4}-"):
        return "2026-01-01"
    if "pattern" in node:  # the schema's own example, where its description gives one that fits
        examples = re.findall(r"e\.g\.,? \"?([^\s,;\"]+)", node.get("description", ""))
        return next((e.rstrip(".)") for e in examples if re.fullmatch(node["pattern"], e.rstrip(".)"))), text)
    return text


def rechain_logbook(project: Path) -> None:
    """Record each logbook entry's new predecessor hash, as an author appending entries would."""
    from techfile.loading import load_project

    loaded = load_project(project)
    entries = sorted(loaded.project.logbook, key=lambda e: e.sequence)
    for previous, entry in zip(entries, entries[1:], strict=False):
        path = project / entry.location.path
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["previous_entry_sha256"] = entry_sha256(loaded.project, previous)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1 << 16), encoding="utf-8")
