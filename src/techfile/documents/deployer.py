"""What the deployer edition of the instructions for use needs: entity ids replaced by the names people use, and
result slices as plain labels ("Sex: female" rather than `sex=female`)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from techfile.project import Project, Prose

_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def entity_names(project: Project) -> dict[str, str]:
    """Every entity id → the name or title its source gives it (ids without one are left out)."""
    names = {}
    for entity in project.entities():
        name = getattr(entity, "name", None) or getattr(entity, "title", None)
        if isinstance(name, str) and name.strip() and entity.id != name:
            names[entity.id] = " ".join(name.replace("`", "'").split())
    return names


def plain_names(text: str, names: Mapping[str, str]) -> str:
    """`text` with each entity id, as a code span or a bare word, replaced by the entity's name.

    Bare ids are replaced only when they cannot be ordinary words (they hold a hyphen, an underscore or a digit) and
    are not part of a path, a link target or a `key=value`."""
    if not names:
        return text
    text = _CODE_SPAN.sub(lambda m: names.get(m.group(1), m.group(0)), text)
    bare = sorted((i for i in names if re.search(r"[-_0-9]", i)), key=len, reverse=True)
    if not bare:
        return text
    pattern = re.compile(r"(?<![\w/#=.-])(" + "|".join(map(re.escape, bare)) + r")(?![\w/=-]|\.\w)")
    return pattern.sub(lambda m: names[m.group(1)], text)


def with_plain_names(value: object, names: Mapping[str, str]) -> object:
    """A copy of a dataclass tree in which every Prose text has entity ids replaced by names."""
    if isinstance(value, Prose):
        return dataclasses.replace(value, text=plain_names(value.text, names))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: with_plain_names(getattr(value, f.name), names) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **{k: v for k, v in changes.items() if v is not getattr(value, k)})
    if isinstance(value, list):
        items = [with_plain_names(v, names) for v in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value


def slice_label(slice_: Mapping[str, object]) -> str:
    """A result slice in words: "Sex: female", "Age band: 75+; Sex: female", or "All cases"."""
    if not slice_:
        return "All cases"
    return "; ".join(f"{str(k).replace('_', ' ').capitalize()}: {v}" for k, v in sorted(slice_.items()))
