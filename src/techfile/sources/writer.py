"""Write a new source file as YAML the way a person would: modeline first, key order kept, block style,
multi-line text as literal blocks, short reference mappings on one line."""

from __future__ import annotations

from typing import Any

import yaml


class InlineMapping(dict):  # type: ignore[type-arg]
    """A mapping written on one line, e.g. `{namespace: s3://bucket, name: releases/cxr-train}`."""


class _SourceDumper(yaml.SafeDumper):
    """Block style, list items indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


def _represent_inline(dumper: yaml.SafeDumper, value: InlineMapping) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=True)


_SourceDumper.add_representer(str, _represent_text)
_SourceDumper.add_representer(InlineMapping, _represent_inline)


def source_yaml(data: dict[str, Any], modeline: str, width: int = 110) -> str:
    """`data` as the text of a source file, with the editor's schema modeline on line 1."""
    body = yaml.dump(data, Dumper=_SourceDumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=width)
    return f"{modeline}\n{body}"
