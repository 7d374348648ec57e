"""Load the framework catalogues that ship as data next to this module.

Parsing YAML is slow next to JSON, and every `check` reads every catalogue: the parsed data is kept as JSON in the
user's cache folder under the sha256 of the YAML text (so it can never be stale), when it survives a JSON round
trip unchanged. Set TECHFILE_CACHE_DIR to move the folder, or to an empty value to keep nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from techfile.resources import user_cache_dir

HERE = Path(__file__).parent


@cache
def load_catalogue(name: str) -> Any:
    """The parsed YAML catalogue `name` (file stem) from techfile/frameworks/."""
    return load_yaml_data(HERE / f"{name}.yaml")


def load_yaml_data(path: Path) -> Any:
    """The data of a YAML file that ships with techfile, from the parsed-data cache when it holds it."""
    text = path.read_text(encoding="utf-8")
    folder = user_cache_dir("parsed")
    stored = folder / f"{hashlib.sha256(text.encode('utf-8')).hexdigest()}.json" if folder else None
    if stored is not None:
        try:
            return json.loads(stored.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    import yaml

    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if stored is not None:
        _store(stored, data)
    return data


def _store(stored: Path, data: Any) -> None:
    """Keep `data` as JSON if JSON gives back exactly the same data (no dates, no non-string keys); never fail."""
    try:
        text = json.dumps(data, ensure_ascii=False)
        if not _same(json.loads(text), data):
            return
        stored.parent.mkdir(parents=True, exist_ok=True)
        temporary = stored.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, stored)
    except (OSError, TypeError, ValueError):
        return


def _same(one: Any, two: Any) -> bool:
    """Equal, of the same types and in the same key order throughout (JSON has no dates, tuples or integer keys)."""
    if type(one) is not type(two):
        return False
    if isinstance(one, dict):
        return list(one) == list(two) and all(_same(one[k], two[k]) for k in one)  # in the same order
    if isinstance(one, list):
        return len(one) == len(two) and all(_same(a, b) for a, b in zip(one, two, strict=True))
    return bool(one == two)
