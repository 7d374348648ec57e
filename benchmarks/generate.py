"""Generate a valid techfile project at any scale from the sample: `scale` copies of its models, datasets, risks,
controls, evidence records (with their files) and logbook entries, every reference pointing at the copy's own
entities, every recorded hash right, and the logbook one unbroken chain.

Usage: python benchmarks/generate.py TARGET [--scale 10] [--seed 0] [--sample sample_project]

Copy 1 is the sample itself; copy k (k >= 2) renames each copied entity `<id>-c<k>` (logbook entries continue the
sequence). The seed chooses the copies' dataset hashes and code commits, so the same arguments give the same files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from techfile.sources.yaml_source import load_yaml_source

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_project"
COPIED_FOLDERS = ("datasets", "models", "risks", "controls", "evidence")
LOGBOOK = "logbook"
SHARED_LISTS = ("soa.yaml",)  # single sources whose lists name every implementing entity: the copies join them


@dataclass(frozen=True)
class Generated:
    """What was written: the project folder and how many source files of each copied kind it holds."""

    root: Path
    scale: int
    counts: dict[str, int]
    files: int


def generate(target: Path, scale: int, seed: int = 0, sample: Path = SAMPLE) -> Generated:
    """Write a project of `scale` copies of the sample's entities into `target` (which must not exist yet)."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    if target.exists():
        raise FileExistsError(f"{target} exists; generate into a new folder")
    shutil.copytree(sample, target, ignore=shutil.ignore_patterns("site", "build", "dist", ".techfile-cache"))
    rng = random.Random(seed)
    originals = {folder: _sources(target / folder) for folder in COPIED_FOLDERS}
    logbook = sorted(_sources(target / LOGBOOK), key=lambda item: item[1].data["sequence"])
    entries: list[tuple[Path, str, dict[str, Any]]] = []
    copies_of: dict[str, list[str]] = {}
    for copy in range(2, scale + 1):
        renames = {doc.data["id"]: f"{doc.data['id']}-c{copy}" for folder in COPIED_FOLDERS
                   for _, doc in originals[folder] if isinstance(doc.data.get("id"), str)}
        renames |= {doc.data["sha256"]: _hex(rng, 64) for _, doc in originals["datasets"]
                    if isinstance(doc.data.get("sha256"), str)}
        for original, renamed in renames.items():
            copies_of.setdefault(original, []).append(renamed)
        for folder in COPIED_FOLDERS:
            for path, doc in originals[folder]:
                data = _renamed(doc.data, renames)
                if folder == "evidence" and isinstance(data.get("file"), str):
                    data["file"] = _copy_evidence_file(target, data["file"], copy)
                _write(target / folder / f"{data['id']}{path.suffix}", _modeline(path), data)
        for path, doc in logbook:
            data = _renamed(doc.data, renames)
            number = len(logbook) + len(entries) + 1
            data["id"] = _numbered(doc.data["id"], number)
            data["sequence"] = number
            code = data.get("code_version")
            if isinstance(code, dict) and isinstance(code.get("commit"), str):
                code["commit"] = _hex(rng, 40)
            entries.append((target / LOGBOOK / f"{data['id']}{path.suffix}", _modeline(path), data))
    _write_chain(logbook[-1][1].data if logbook else None, entries)
    for shared in SHARED_LISTS:
        if (target / shared).is_file():
            document, _ = load_yaml_source(target / shared, shared)
            _write(target / shared, _modeline(target / shared), _with_copies(document.data, copies_of))
    counts = {folder: len(list((target / folder).glob("*.yaml"))) for folder in (*COPIED_FOLDERS, LOGBOOK)}
    files = sum(1 for p in target.rglob("*") if p.is_file())
    return Generated(target, scale, counts, files)


def _sources(folder: Path) -> list[tuple[Path, Any]]:
    """The folder's YAML sources, loaded as techfile loads them (dates stay text)."""
    loaded = []
    for path in sorted(folder.glob("*.yaml")):
        document, findings = load_yaml_source(path, path.name)
        if document is None or not isinstance(document.data, dict):
            raise ValueError(f"{path} does not load: {findings}")
        loaded.append((path, document))
    return loaded


def _renamed(value: Any, renames: dict[str, str]) -> Any:
    """A deep copy of `value` in which every string equal to a renamed id (or hash) is replaced."""
    if isinstance(value, dict):
        return {key: _renamed(item, renames) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, renames) for item in value]
    if isinstance(value, str):
        return renames.get(value, value)
    return value


def _with_copies(value: Any, copies_of: dict[str, list[str]]) -> Any:
    """A deep copy of `value` in which each list that names a copied entity also names its copies, after it."""
    if isinstance(value, dict):
        return {key: _with_copies(item, copies_of) for key, item in value.items()}
    if isinstance(value, list):
        extended: list[Any] = []
        for item in value:
            extended.append(_with_copies(item, copies_of))
            if isinstance(item, str):
                extended.extend(copies_of.get(item, []))
        return extended
    return value


def _copy_evidence_file(root: Path, relpath: str, copy: int) -> str:
    """Copy an evidence file (same bytes, so its recorded sha256 still holds) under the copy's name."""
    source = Path(relpath)
    copied = source.with_name(f"{source.stem}-c{copy}{source.suffix}")
    shutil.copyfile(root / source, root / copied)
    return copied.as_posix()


def _numbered(first_id: str, number: int) -> str:
    """`lb-0001` → `lb-0042` for number 42: the id's prefix with the new number, as wide as before (or wider)."""
    stem = first_id.rstrip("0123456789")
    width = len(first_id) - len(stem)
    return f"{stem}{number:0{width}d}"


def _hex(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def _modeline(path: Path) -> str:
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    return first if first.startswith("# yaml-language-server:") else ""


def _write(path: Path, modeline: str, data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1 << 16)
    path.write_text(f"{modeline}\n{text}" if modeline else text, encoding="utf-8")


def _write_chain(last: Any, entries: list[tuple[Path, str, dict[str, Any]]]) -> None:
    """Write the new logbook entries in sequence order after the sample's `last` one, each recording the content
    hash of the one before (as `techfile.assess.logbook.entry_sha256` computes it: canonical JSON of its data)."""
    previous = _content_sha256(last) if last is not None else None
    for path, modeline, data in entries:
        if previous is not None:
            data["previous_entry_sha256"] = previous
        _write(path, modeline, data)
        document, _ = load_yaml_source(path, path.name)
        previous = _content_sha256(document.data if document else None)


def _content_sha256(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", type=Path)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample", type=Path, default=SAMPLE)
    args = parser.parse_args()
    made = generate(args.target, args.scale, args.seed, args.sample)
    shown = ", ".join(f"{count} {folder}" for folder, count in made.counts.items())
    print(f"{made.root}: {made.scale}x the sample, {made.files} files ({shown})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
