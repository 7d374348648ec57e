"""`techfile verify`: check that a received bundle is exactly what was built, and, against the sender's certificate
or a published SHA256SUMS digest, that it comes from the sender.

The bundle is untrusted input. Entry names are checked before anything is read; no entry is extracted; sizes are
checked before any byte is decompressed (a zip bomb is reported, not unpacked); text files are read with size
bounds and the manifest's nesting is bounded before it is parsed."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from techfile.publish.bundle import (
    BLOCK,
    INDEX_NAME,
    MANIFEST_NAME,
    REQUIRED_NAMES,
    SIGNATURE_NAME,
    SUMS_NAME,
    BundleError,
    folded,
    unsafe_entry_name,
)
from techfile.publish.manifest import MANIFEST_VERSION

if TYPE_CHECKING:
    import zipfile

MAX_ENTRIES = 100_000
DEFAULT_MAX_BYTES = 64 << 30  # what verify decompresses at most, in all; `--max-gib` raises it
DEFLATE_MAX_RATIO = 1032  # the most deflate can expand: 258 bytes per 2 bits
TEXT_LIMIT = 16 << 20  # manifest.json and SHA256SUMS are read whole; anything larger is not ours
MAX_JSON_DEPTH = 16  # a techfile manifest nests 3 levels
_STORED, _DEFLATED = 0, 8
_SHA256 = re.compile(r"[0-9a-f]{64}")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


@dataclass
class VerifyResult:
    """What `verify_bundle` found: `ok` when every file matches SHA256SUMS and the manifest (and, when asked for,
    the signature or the published digest)."""

    zip_path: Path
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    sums_sha256: str | None = None  # the sha256 of SHA256SUMS: what a sender publishes out of band
    signer: str | None = None  # who signed SHA256SUMS, when the signature holds

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_bundle(zip_path: str | Path, expect_certificate: str | Path | None = None, expect_sums: str | None = None,
                  max_bytes: int = DEFAULT_MAX_BYTES) -> VerifyResult:
    """Check every file in the bundle against SHA256SUMS, and the PDFs, evidence and sources against the manifest;
    with `expect_certificate`, require SHA256SUMS.p7s to be a valid signature by that certificate's key; with
    `expect_sums`, require SHA256SUMS to have that sha256.

    Raises BundleError when the file is missing, unreadable or not a zip, or the certificate cannot be read."""
    import zipfile

    path = Path(zip_path)
    expected = None
    if expect_certificate is not None:
        from techfile.publish.signature import SignatureError, load_certificate

        try:
            expected = load_certificate(expect_certificate)
        except SignatureError as err:
            raise BundleError(str(err)) from None
    result = VerifyResult(path)
    try:
        stream = path.open("rb")
    except FileNotFoundError:
        raise BundleError(f"{path.as_posix()}: no such file") from None
    except IsADirectoryError:
        raise BundleError(f"{path.as_posix()}: is a folder, not a zip file") from None
    except OSError as err:
        raise BundleError(f"{path.as_posix()}: cannot be read: {err.strerror}") from None
    with stream:
        count = central_directory_entries(stream)
        if count is not None and count > MAX_ENTRIES:
            raise BundleError(f"{path.as_posix()}: holds {count} entries, more than the {MAX_ENTRIES} a bundle may "
                              "have; not read")
        try:
            archive = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, ValueError, EOFError, OSError) as err:
            raise BundleError(f"{path.as_posix()}: not a zip file, or a damaged one ({err})") from None
        with archive:
            _check_bundle(archive, result, expected, max_bytes)
    if expect_sums is not None and result.sums_sha256 is not None and result.sums_sha256 != expect_sums.lower():
        result.problems.append(f"{SUMS_NAME}: sha256 is {result.sums_sha256}, not the {expect_sums.lower()} expected")
    return result


def central_directory_entries(stream: IO[bytes]) -> int | None:
    """The number of entries the zip's end-of-central-directory record announces (zip64 too), read before the
    central directory itself; None when there is no such record (zipfile then reports the damage)."""
    size = stream.seek(0, 2)
    tail_size = min(size, 22 + 0xFFFF)
    stream.seek(size - tail_size)
    tail = stream.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    count = int.from_bytes(tail[at + 10:at + 12], "little")
    if count != 0xFFFF or at < 20 or tail[at - 20:at - 16] != b"PK\x06\x07":
        return count
    stream.seek(int.from_bytes(tail[at - 12:at - 4], "little"))
    record = stream.read(56)
    if len(record) < 56 or record[:4] != b"PK\x06\x06":
        return None
    return int.from_bytes(record[32:40], "little")


def _check_bundle(archive: zipfile.ZipFile, result: VerifyResult, expected: Any | None, max_bytes: int) -> None:
    problems = result.problems
    infos = archive.infolist()
    for info in infos:
        reason = unsafe_entry_name(info.filename.removesuffix("/") if info.is_dir() else info.filename)
        if reason is not None:
            problems.append(f"{info.filename!r}: unsafe entry name: {reason}")
    files = [i for i in infos if not i.is_dir()]
    names = [i.filename for i in files]
    problems += [f"{name}: appears {count} times in the bundle" for name, count in sorted(Counter(names).items())
                 if count > 1]
    by_fold: dict[str, set[str]] = defaultdict(set)
    for name in names:
        by_fold[folded(name)].add(name)
    problems += [f"{' and '.join(sorted(group))}: one file on Windows and macOS (the names differ only in case or "
                 "Unicode form)" for group in sorted(by_fold.values(), key=sorted) if len(group) > 1]

    total = sum(i.file_size for i in files)
    if total > max_bytes:
        problems.append(f"the entries add up to {total} bytes uncompressed, over the {max_bytes} bytes verify reads "
                        "(a zip bomb?); nothing was decompressed")
        return
    unreadable = _zip_bomb_signs(archive, files, problems)
    actual: dict[str, str | None] = {}
    for info in files:
        actual[info.filename] = None if id(info) in unreadable else _entry_sha256(archive, info, problems)
    result.checked = sum(1 for info in files if id(info) not in unreadable)

    present = set(names)
    sums_text = _read_text(archive, SUMS_NAME, problems) if SUMS_NAME in present else None
    listed = _parse_sums(sums_text, problems) if sums_text is not None else {}
    if sums_text is not None and actual.get(SUMS_NAME) is not None:
        result.sums_sha256 = actual[SUMS_NAME]
    problems += [f"{name}: missing from the bundle" for name in REQUIRED_NAMES
                 if name not in present and name not in listed]
    for name, digest in sorted(listed.items()):
        if name not in present:
            problems.append(f"{name}: listed in {SUMS_NAME} but missing from the bundle")
        elif actual[name] is not None and actual[name] != digest:
            problems.append(f"{name}: sha256 is {actual[name]}, {SUMS_NAME} says {digest}")
    if SUMS_NAME in present:
        problems += [f"{name}: in the bundle but not listed in {SUMS_NAME}" for name in sorted(present - set(listed))
                     if name not in (SUMS_NAME, SIGNATURE_NAME)]

    manifest = _read_manifest(archive, problems) if MANIFEST_NAME in present else None
    if manifest is not None:
        _check_against_manifest(manifest, present & set(listed), present | set(listed), actual, problems)
    _check_signature(archive, present, sums_text, expected, result)


def _zip_bomb_signs(archive: zipfile.ZipFile, files: list[zipfile.ZipInfo], problems: list[str]) -> set[int]:
    """Entries that must not be decompressed: sizes no honest deflate stream has, compression or encryption that
    techfile never uses, and entries whose data overlap (one compressed stream counted many times)."""
    refused: set[int] = set()
    for info in files:
        reason = None
        if info.flag_bits & 0x1:
            reason = "is encrypted; techfile bundles are not"
        elif info.compress_type not in (_STORED, _DEFLATED):
            reason = f"uses compression method {info.compress_type}; techfile bundles use deflate"
        elif info.compress_type == _STORED and info.file_size != info.compress_size:
            reason = f"is stored uncompressed but claims {info.file_size} bytes from {info.compress_size}"
        elif info.compress_type == _DEFLATED and info.file_size > DEFLATE_MAX_RATIO * info.compress_size + 1024:
            reason = (f"claims {info.file_size} bytes from {info.compress_size} compressed ones, more than deflate "
                      "can produce (a zip bomb?)")
        if reason is not None:
            problems.append(f"{info.filename}: {reason}; not read")
            refused.add(id(info))
    ordered = sorted(files, key=lambda i: i.header_offset)
    for before, after in zip(ordered, ordered[1:], strict=False):
        name_bytes = len(before.orig_filename.encode("utf-8" if before.flag_bits & 0x800 else "cp437", "replace"))
        if before.header_offset + 30 + name_bytes + before.compress_size > after.header_offset:
            problems.append(f"{before.filename} and {after.filename}: their data overlap in the zip file (a zip bomb, "
                            "or a damaged zip); not read")
            refused |= {id(before), id(after)}
    return refused


def _entry_sha256(archive: zipfile.ZipFile, info: zipfile.ZipInfo, problems: list[str]) -> str | None:
    import zipfile
    import zlib

    digest = hashlib.sha256()
    try:
        with archive.open(info) as stream:  # reads at most the declared size, and checks the CRC at the end
            for block in iter(lambda: stream.read(BLOCK), b""):
                digest.update(block)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError) as err:
        problems.append(f"{info.filename}: cannot be read from the bundle ({err})")
        return None
    return digest.hexdigest()


def _read_bytes(archive: zipfile.ZipFile, name: str, limit: int) -> bytes | None:
    """The entry's content when it is at most `limit` bytes (None when it cannot be read: already reported)."""
    import zipfile
    import zlib

    try:
        with archive.open(name) as stream:
            return stream.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError):
        return None


def _read_text(archive: zipfile.ZipFile, name: str, problems: list[str]) -> str | None:
    data = _read_bytes(archive, name, TEXT_LIMIT)
    if data is None:
        return None
    if len(data) > TEXT_LIMIT:
        problems.append(f"{name}: larger than {TEXT_LIMIT >> 20} MiB; not a techfile {name}")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(f"{name}: not UTF-8 text")
        return None


def _parse_sums(text: str, problems: list[str]) -> dict[str, str]:
    """Path → sha256 from SHA256SUMS (`<hex>  <path>` or `<hex> *<path>`); malformed lines and unsafe names are
    problems."""
    listed: dict[str, str] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if line == "" and number > text.count("\n"):
            break
        match = re.fullmatch(r"([0-9a-fA-F]{64}) [ *](.+)", line)
        if match is None:
            problems.append(f"{SUMS_NAME}: line {number} is not '<sha256>  <path>'")
            continue
        name = match.group(2)
        reason = unsafe_entry_name(name)
        if reason is not None:
            problems.append(f"{SUMS_NAME}: line {number} lists an unsafe name {name!r}: {reason}")
        if name in listed:
            problems.append(f"{SUMS_NAME}: {name} is listed twice")
        listed[name] = match.group(1).lower()
    return listed


def json_nesting(text: str) -> int:
    """How deeply arrays and objects nest in a JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    for bracket in re.findall(r"[\[\]{}]", _JSON_STRING.sub("", text)):
        depth = depth + 1 if bracket in "[{" else depth - 1
        deepest = max(deepest, depth)
    return deepest


def _read_manifest(archive: zipfile.ZipFile, problems: list[str]) -> dict[str, dict[str, str]] | None:
    """The manifest's tables (path → sha256) of sources, evidence and outputs; None, with a problem, when it is not
    a techfile build manifest. Nesting is bounded before parsing, so no manifest can exhaust the parser."""
    text = _read_text(archive, MANIFEST_NAME, problems)
    if text is None:
        return None
    if json_nesting(text) > MAX_JSON_DEPTH:
        problems.append(f"{MANIFEST_NAME}: nested deeper than {MAX_JSON_DEPTH} levels; not a techfile build manifest")
        return None
    try:
        manifest = json.loads(text)
        version = manifest.get("manifest_version")
        tables = {name: {e["path"]: e["sha256"] for e in manifest[name]} for name in ("sources", "evidence", "outputs")}
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        problems.append(f"{MANIFEST_NAME}: not a techfile build manifest")
        return None
    if version != MANIFEST_VERSION:
        problems.append(f"{MANIFEST_NAME}: manifest_version {version!r}; this techfile reads {MANIFEST_VERSION}")
        return None
    for name, table in tables.items():
        if not all(isinstance(p, str) and isinstance(h, str) and _SHA256.fullmatch(h) for p, h in table.items()):
            problems.append(f"{MANIFEST_NAME}: its {name} are not a list of paths with sha256 hashes")
            return None
    return tables


def _check_against_manifest(manifest: dict[str, dict[str, str]], listed: set[str], known: set[str],
                            actual: dict[str, str | None], problems: list[str]) -> None:
    """Every file listed in SHA256SUMS is one the manifest describes, with the hash it records (pdf/ in its outputs,
    evidence/ in its evidence, sources/ in its sources); every PDF, evidence file and source the manifest names is in
    the bundle (`known`: present, or already reported missing)."""
    where = {"pdf": "outputs", "evidence": "evidence", "sources": "sources"}
    for name in sorted(listed - {MANIFEST_NAME, INDEX_NAME, SUMS_NAME, SIGNATURE_NAME}):
        folder, _, rest = name.partition("/")
        table = manifest[where[folder]] if folder in where else None
        key = name if folder == "pdf" else rest
        if table is None or key not in table:
            problems.append(f"{name}: not a file of the build the manifest describes")
        elif actual[name] is not None and actual[name] != table[key]:
            problems.append(f"{name}: sha256 is {actual[name]}, the manifest's {where[folder]} say {table[key]}")
    missing = [f"{key}" for key in manifest["outputs"] if key.startswith("pdf/") and key.endswith(".pdf")]
    missing += [f"evidence/{key}" for key in manifest["evidence"]] + [f"sources/{key}" for key in manifest["sources"]]
    for name in sorted(set(missing) - known):
        folder = name.partition("/")[0]
        problems.append(f"{name}: in the manifest's {where[folder]} but missing from the bundle")


def _check_signature(archive: zipfile.ZipFile, present: set[str], sums_text: str | None, expected: Any | None,
                     result: VerifyResult) -> None:
    """SHA256SUMS.p7s, when present, must be a valid signature of SHA256SUMS (by the expected certificate's key when
    one is given); with an expected certificate it must be present."""
    from techfile.publish.signature import MAX_SIGNATURE_BYTES, check_signature

    if SIGNATURE_NAME not in present:
        if expected is not None:
            result.problems.append(f"{SIGNATURE_NAME}: missing: the bundle is not signed, and --expect-cert asks for "
                                   "a signature")
        return
    signature = _read_bytes(archive, SIGNATURE_NAME, MAX_SIGNATURE_BYTES)
    if signature is None or sums_text is None:
        return  # already reported: unreadable, or nothing to check it against
    check = check_signature(signature, sums_text.encode("utf-8"), expected)
    if check.problem is not None:
        result.problems.append(f"{SIGNATURE_NAME}: {check.problem}")
    else:
        result.signer = check.signer
