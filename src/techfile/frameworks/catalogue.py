"""Load the framework catalogues that ship as data next to this module."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent


@cache
def load_catalogue(name: str) -> Any:
    """The parsed YAML catalogue `name` (file stem) from techfile/frameworks/."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load((HERE / f"{name}.yaml").read_text(encoding="utf-8"), Loader=loader)
