"""The build cache beside the output (`.NAME.cache`): what the last build read and wrote, so that a build whose
inputs have not changed writes nothing.

Files are hashed once: a file's sha256 is reused while its size, mtime and inode are those recorded, and only if it
had not changed in the two seconds before it was recorded (an edit within the clock's granularity could keep its
stamp; git calls this the "racy" case). Everything here is plain JSON or the bytes of an output; nothing is executed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from techfile.publish.output import CACHE_TAG
from techfile.validation.files import sha256_of

CACHE_VERSION = 1
_SETTLED_NS = 2_000_000_000
Stamp = tuple[int, int, int]


def cache_dir(out: Path) -> Path:
    """The cache folder of output folder `out`: `.NAME.cache` beside it."""
    return out.parent / f".{out.name}{CACHE_TAG}"


def stamp_of(path: Path) -> Stamp | None:
    """(size, mtime in ns, inode) of a file, or None when it is not a readable regular file."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns, info.st_ino


@dataclass
class FileHashes:
    """sha256 of files, re-hashing only those whose stamp changed since the digest was recorded."""

    known: dict[str, tuple[Stamp, str]] = field(default_factory=dict)
    hashed: int = 0  # files actually read in this run

    def sha256(self, path: Path, written_now: bool = False) -> str | None:
        """The file's digest; `written_now` for a file this process has just written (its stamp is trusted at once:
        nobody else writes inside the output folder)."""
        stamp = stamp_of(path)
        if stamp is None:
            return None
        name = str(path.absolute())
        remembered = self.known.get(name)
        if remembered is not None and remembered[0] == stamp:
            return remembered[1]
        digest = sha256_of(path)
        self.hashed += 1
        if stamp == stamp_of(path) and (written_now or stamp[1] < time.time_ns() - _SETTLED_NS):
            self.known[name] = (stamp, digest)
        else:
            self.known.pop(name, None)
        return digest

    def to_json(self) -> dict[str, Any]:
        return {name: [list(stamp), digest] for name, (stamp, digest) in sorted(self.known.items())}

    @classmethod
    def from_json(cls, data: Any) -> FileHashes:
        known: dict[str, tuple[Stamp, str]] = {}
        if isinstance(data, dict):
            for name, entry in data.items():
                try:
                    (size, mtime, inode), digest = entry
                    known[str(name)] = ((int(size), int(mtime), int(inode)), str(digest))
                except (TypeError, ValueError):
                    continue
        return cls(known)


@dataclass
class BuildCache:
    """The cache of one output folder: file digests, the last build's key and outputs."""

    folder: Path
    hashes: FileHashes
    last_key: str | None = None
    last_outputs: dict[str, str] = field(default_factory=dict)  # output path → sha256
    last_summary: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, out: Path) -> BuildCache:
        folder = cache_dir(out)
        try:
            state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
            if state.get("version") != CACHE_VERSION:
                raise ValueError("another cache version")
        except (OSError, ValueError, AttributeError):
            state = {}
        outputs = state.get("outputs") if isinstance(state.get("outputs"), dict) else {}
        summary = state.get("summary") if isinstance(state.get("summary"), dict) else {}
        key = state.get("key") if isinstance(state.get("key"), str) else None
        return cls(folder, FileHashes.from_json(state.get("hashes")), key, dict(outputs), dict(summary))

    def output_intact(self, out: Path) -> bool:
        """The output folder holds exactly the files the last build wrote, each with the bytes it wrote."""
        if not self.last_outputs or not out.is_dir():
            return False
        present = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() or p.is_symlink()}
        if present != set(self.last_outputs):
            return False
        return all(self.hashes.sha256(out / name) == digest for name, digest in self.last_outputs.items())

    def record(self, out: Path, key: str, summary: dict[str, Any]) -> None:
        """Remember the build just swapped into `out` (its key, every output file's digest) and save the cache."""
        self.last_key, self.last_summary = key, summary
        self.last_outputs = {p.relative_to(out).as_posix(): self.hashes.sha256(p, written_now=True) or ""
                             for p in sorted(out.rglob("*")) if p.is_file()}
        self.save()

    def forget(self) -> None:
        self.last_key, self.last_outputs, self.last_summary = None, {}, {}
        self.save()

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        state = {"version": CACHE_VERSION, "key": self.last_key, "outputs": self.last_outputs,
                 "summary": self.last_summary, "hashes": self.hashes.to_json()}
        temporary = self.folder / f"state.json.{os.getpid()}"
        temporary.write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.folder / "state.json")


def digest_of(parts: Any) -> str:
    """The sha256 of a JSON value (keys sorted)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode("utf-8")).hexdigest()


_TOOL_DISTRIBUTIONS = ("pypandoc", "pypandoc-binary", "typst", "mkdocs", "mkdocs-material", "pymdown-extensions",
                       "markdown", "jinja2", "grandalf", "openpyxl", "python-docx", "pyhanko", "pyyaml")
_TOOL_ENVIRONMENT = ("SOURCE_DATE_EPOCH", "TZ", "TYPST_FONT_PATHS", "TYPST_PACKAGE_PATH", "PYPANDOC_PANDOC")


def tool_facts(hashes: FileHashes) -> dict[str, Any]:
    """What, besides the sources, shapes the output: techfile's own code, templates and schemas (by content), the
    versions of the tools and libraries it drives, the pandoc binary, and the environment variables they read."""
    import shutil
    from importlib import metadata

    import techfile
    from techfile.resources import doc_templates_dir, schemas_dir

    code: dict[str, str | None] = {}
    for folder in (Path(techfile.__file__).parent, doc_templates_dir(), schemas_dir()):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                code[path.as_posix()] = hashes.sha256(path)
    versions = {}
    for name in _TOOL_DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    pandoc = shutil.which("pandoc")
    return {"techfile": techfile.__version__, "code": digest_of(code), "versions": versions,
            "pandoc": [pandoc, stamp_of(Path(pandoc)) if pandoc else None],
            "environment": {name: os.environ.get(name) for name in _TOOL_ENVIRONMENT}}


def input_digests(root: Path, paths: list[str], hashes: FileHashes) -> dict[str, str | None]:
    """Project-relative path → sha256 of each file the build reads (its sources, the files they name, the templates
    and the evidence files, as the manifest lists them): a data file in the project that no source names is never
    opened."""
    root = root.absolute()
    return {path: hashes.sha256(root / path) for path in sorted(paths)}


def to_plain(value: Any) -> Any:
    """A dataclass value (documents, gaps, charts, tables) as plain JSON data; bytes as UTF-8 text."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {item.name: to_plain(getattr(value, item.name)) for item in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, str):
        return str(value)  # a Markup is plain text here
    return value


def from_plain(hint: Any, value: Any) -> Any:
    """The typed value of `hint` that `to_plain` made `value` from."""
    import dataclasses
    import types
    import typing

    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return None if value is None else from_plain(options[0], value)
    if origin is tuple:
        arguments = typing.get_args(hint)
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return tuple(from_plain(arguments[0], item) for item in value)
        return tuple(from_plain(a, item) for a, item in zip(arguments, value, strict=True))
    if origin is list:
        return [from_plain(typing.get_args(hint)[0], item) for item in value]
    if origin is dict:
        return {key: from_plain(typing.get_args(hint)[1], item) for key, item in value.items()}
    if hint is bytes:
        return value.encode("utf-8")
    if dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return hint(**{name: from_plain(hints[name], item) for name, item in value.items()})
    return value
