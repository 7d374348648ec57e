"""Add results to a model source, or replace some, as a minimal edit of its text: comments, key order, quoting
and the list's own style (flow items on one line, or block mappings) stay as they are. Used by every writer of
results (`techfile evaluate`, the MLflow and Fairlearn imports); the edit is checked by reading it back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class ResultsEditError(Exception):
    """The file cannot be edited without changing something else; nothing was written."""


def results_text(path: Path, appended: list[dict[str, Any]], replaced: dict[int, dict[str, Any]] | None = None) -> str:
    """The text of model file `path` with `replaced` (results index → new result) swapped in place and
    `appended` added at the end of its results list; nothing else changes."""
    text = path.read_bytes().decode("utf-8")
    newline = "\r\n" if "\r\n" in text else "\n"
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    pair = next(((k, v) for k, v in root.value if k.value == "results"), None) if isinstance(root, yaml.MappingNode) else None
    if pair is None or not isinstance(pair[1], yaml.SequenceNode):
        raise ResultsEditError(f"{path.name} has no results list to add to")
    key, node = pair
    updated = text
    for index in sorted(replaced or {}, reverse=True):  # from the end, so earlier offsets stay valid
        item = node.value[index]
        start, end = item.start_mark.index, _content_end(text, item)
        if item.flow_style or isinstance(item, yaml.ScalarNode):
            replacement = _flow((replaced or {})[index])
        else:
            indent = " " * item.start_mark.column
            block = yaml.safe_dump((replaced or {})[index], sort_keys=False, allow_unicode=True, default_flow_style=False,
                                   width=110).rstrip("\n").split("\n")
            replacement = (newline + indent).join(block)
        updated = updated[:start] + replacement + updated[end:]
    if appended:
        updated = _appended(updated, newline, appended)
    _check(path, text, updated, appended, replaced or {})
    return updated


def with_list_item(text: str, key: str, item: str) -> str:
    """`text` with `item` (a scalar) added to the top-level list `key`, which is created at the end if absent."""
    newline = "\r\n" if "\r\n" in text else "\n"
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    pair = next(((k, v) for k, v in root.value if k.value == key), None)
    if pair is None:
        updated = text + ("" if text.endswith(("\n", "\r")) else newline) + f"{key}:{newline}  - {item}{newline}"
    elif isinstance(pair[1], yaml.SequenceNode) and pair[1].flow_style:
        node = pair[1]
        inside = text[node.start_mark.index + 1:node.end_mark.index - 1].strip()
        updated = text[:node.start_mark.index] + f"[{inside + ', ' if inside else ''}{item}]" + text[node.end_mark.index:]
    elif isinstance(pair[1], yaml.SequenceNode):
        node = pair[1]
        at = _line_end(text, _content_end(text, node.value[-1]))
        updated = text[:at] + f"{newline}{' ' * node.start_mark.column}- {item}" + text[at:]
    else:
        raise ResultsEditError(f"`{key}` is not a list")
    expected = yaml.safe_load(text)
    expected[key] = [*(expected.get(key) or []), item]
    if yaml.safe_load(updated) != expected:
        raise ResultsEditError(f"could not add {item} to `{key}` without changing anything else")
    return updated


def _appended(text: str, newline: str, results: list[dict[str, Any]]) -> str:
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    key, node = next((k, v) for k, v in root.value if k.value == "results")
    if node.flow_style and node.value:  # results: [{...}, {...}]
        before = text[:node.end_mark.index - 1]
        kept = before.rstrip()
        return f"{kept}, {', '.join(_flow(r) for r in results)}{before[len(kept):]}{text[node.end_mark.index - 1:]}"
    if node.flow_style:  # results: []
        indent = " " * (key.start_mark.column + 2)
        items = newline.join(f"{indent}- {_flow(r)}" for r in results)
        return f"{text[:node.start_mark.index].rstrip(' ')}{newline}{items}{text[node.end_mark.index:]}"
    last = node.value[-1]
    indent = " " * node.start_mark.column
    if last.flow_style or isinstance(last, yaml.ScalarNode):
        lines = [f"{indent}- {_flow(r)}" for r in results]
    else:
        block = yaml.safe_dump(results, sort_keys=False, allow_unicode=True, default_flow_style=False, width=110)
        lines = [f"{indent}{line}" for line in block.splitlines()]
    at = _line_end(text, _content_end(text, last))
    return text[:at] + newline + newline.join(lines) + text[at:]


def _flow(result: dict[str, Any]) -> str:
    return yaml.safe_dump(result, sort_keys=False, allow_unicode=True, default_flow_style=True, width=1_000_000).strip()


def flow_text(result: dict[str, Any]) -> str:
    """A result as one flow-style line, e.g. for a message that asks to add it by hand."""
    return _flow(result)


def _content_end(text: str, node: yaml.Node) -> int:
    """Where the last character of a node's content is, ignoring the line breaks a block scalar or mapping ends with."""
    while isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    index = node.end_mark.index
    while index > 0 and text[index - 1] in " \t\r\n":
        index -= 1
    return index


def _line_end(text: str, index: int) -> int:
    end = text.find("\n", index)
    if end == -1:
        return len(text)
    return end - 1 if end > 0 and text[end - 1] == "\r" else end


def _check(path: Path, before: str, after: str, appended: list[dict[str, Any]], replaced: dict[int, dict[str, Any]]) -> None:
    """The edited text must read as the old data with the results replaced and appended, and nothing else."""
    expected = yaml.safe_load(before)
    results = list(expected.get("results") or [])
    for index, result in replaced.items():
        results[index] = result
    expected["results"] = [*results, *appended]
    try:
        same = yaml.safe_load(after) == expected
    except yaml.YAMLError:
        same = False
    if not same:
        listed = "\n".join(f"  - {_flow(r)}" for r in [*replaced.values(), *appended])
        raise ResultsEditError(f"could not write results to {path.name} without changing anything else; "
                               f"nothing was written. Add them by hand:\n{listed}")
