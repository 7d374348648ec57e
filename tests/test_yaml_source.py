"""The YAML loader: plain data, marks for every key and value, and hard limits."""

from __future__ import annotations

from pathlib import Path

from techfile.sources.yaml_source import Mark, load_yaml_source


def load(tmp_path: Path, text: str | bytes):
    path = tmp_path / "x.yaml"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return load_yaml_source(path, "x.yaml")


def test_marks_point_at_keys_and_values(tmp_path: Path) -> None:
    document, findings = load(tmp_path, "id: a\nnested:\n  items:\n    - one\n    -  two\n")
    assert findings == []
    assert document.data == {"id": "a", "nested": {"items": ["one", "two"]}}
    assert document.key_mark(("nested", "items")) == Mark(3, 3)
    assert document.mark(("nested", "items", 1)) == Mark(5, 8)
    assert document.mark(("nested", "missing", 4)) == Mark(3, 3)
    assert document.key_mark(("nested", "missing", 4)) == Mark(3, 3)
    assert document.key_mark(("nested",)) == Mark(2, 1)


def test_dates_stay_text_and_scalars_keep_their_types(tmp_path: Path) -> None:
    document, _ = load(tmp_path, "d: 2025-01-31\nn: 3\nf: 0.5\nb: true\nz: null\n")
    assert document.data == {"d": "2025-01-31", "n": 3, "f": 0.5, "b": True, "z": None}


def test_merge_keys_are_expanded(tmp_path: Path) -> None:
    document, findings = load(tmp_path, "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n")
    assert findings == []
    assert document.data["use"] == {"x": 1, "y": 3}


def test_bom_is_ignored(tmp_path: Path) -> None:
    document, findings = load(tmp_path, "\ufeffid: a\n")
    assert findings == [] and document.data == {"id": "a"}


def test_alias_bomb_fails_fast(tmp_path: Path) -> None:
    """Twelve levels of nine aliases: 9^12 (about 2.8e11) strings if expanded, more than this machine can hold, so
    the test can pass only if the loader refuses the aliases before expanding them (no timer needed)."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 13):
        lines.append(f"l{level}: &l{level} [" + ",".join([f"*l{level - 1}"] * 9) + "]")
    document, findings = load(tmp_path, "\n".join(lines) + "\n")
    assert document is None and findings[0].code == "TF108"
    assert "alias" in findings[0].message


def test_oversized_file_fails_fast_without_reading_it(tmp_path: Path) -> None:
    """A sparse file of 64 GiB: reading it would exhaust this machine's memory, so the test can pass only if the
    loader refuses it by its size before reading (no timer needed)."""
    path = tmp_path / "big.yaml"
    with path.open("wb") as stream:
        stream.write(b"id: big\nnotes: |\n")
        stream.truncate(64 * 1024**3)
    assert path.stat().st_size == 64 * 1024**3
    document, findings = load_yaml_source(path, "big.yaml")
    assert document is None
    assert findings[0].code == "TF107" and "over the 5 MB limit" in findings[0].message


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    document, findings = load(tmp_path, "a: " + "[" * 200 + "]" * 200 + "\n")
    assert document is None and findings[0].code == "TF109"


def test_non_utf8_is_located(tmp_path: Path) -> None:
    document, findings = load(tmp_path, b"id: a\nname: caf\xe9\n")
    assert document is None
    assert (findings[0].code, findings[0].line, findings[0].col) == ("TF101", 2, 10)
