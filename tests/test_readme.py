"""README documents every diagnostic code exactly as the code catalogue defines it."""

from __future__ import annotations

import re

import yaml

from conftest import REPO


def test_readme_code_table_matches_the_catalogue() -> None:
    catalogue = yaml.safe_load((REPO / "src/techfile/validation/codes.yaml").read_text(encoding="utf-8"))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = {m.group(1): (m.group(2), m.group(3), m.group(4))
            for m in re.finditer(r"^\| (TF\d{3}) \| (\w+) \| (.+?) \| (.+?) \|$", readme, re.MULTILINE)}
    assert rows == {code: (entry["severity"], entry["meaning"], entry["fix"]) for code, entry in catalogue.items()}


def test_every_code_used_in_the_source_is_catalogued() -> None:
    catalogue = yaml.safe_load((REPO / "src/techfile/validation/codes.yaml").read_text(encoding="utf-8"))
    used = set()
    for path in (REPO / "src/techfile").rglob("*.py"):
        used |= set(re.findall(r'"(TF\d{3})"', path.read_text(encoding="utf-8")))
    assert used <= set(catalogue), used - set(catalogue)
