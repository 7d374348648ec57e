"""A bundle is untrusted when it arrives: `verify` reports unsafe names, duplicates, files the build did not make,
files taken away, zip bombs and hostile manifests; with the sender's certificate (or the SHA256SUMS digest the sender
published) it also catches a bundle rewritten as a whole. `bundle` refuses names that are unsafe to extract."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import NameOID

from techfile.publish.bundle import BundleResult, UnsafeName, make_bundle
from techfile.publish.signing import load_signing_key
from techfile.publish.verify import MAX_JSON_DEPTH, verify_bundle

from conftest import run_cli

PASSWORD = "correct horse battery staple"
PASSWORD_ENV = "TECHFILE_TEST_SENDER_PASSWORD"


@dataclass(frozen=True)
class Identity:
    key: object
    certificate: x509.Certificate
    cert_path: Path


def make_identity(folder: Path, name: str, curve: bool = False, serial: int = 4242,
                  subject: str | None = None) -> Identity:
    """A private key and a self-signed certificate, made for the test (nothing is read from the machine)."""
    key = ec.generate_private_key(ec.SECP256R1()) if curve else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject or name),
                              x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Provider")])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(subject_name).issuer_name(subject_name)
                   .public_key(key.public_key()).serial_number(serial).not_valid_before(start)
                   .not_valid_after(start + dt.timedelta(days=3650))
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .sign(key, hashes.SHA256()))
    cert_path = folder / f"{name}.crt"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return Identity(key, certificate, cert_path)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Identity]:
    folder = tmp_path_factory.mktemp("keys")
    return {
        "sender": make_identity(folder, "sender"),
        "other": make_identity(folder, "other", curve=True),
        # same subject, issuer and serial number as the sender's certificate, but another key
        "forger": make_identity(folder, "forger", subject="sender"),
    }


@pytest.fixture(scope="module")
def sender_p12(keys: dict[str, Identity], tmp_path_factory: pytest.TempPathFactory) -> Path:
    sender = keys["sender"]
    path = tmp_path_factory.mktemp("p12") / "sender.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"sender", sender.key, sender.certificate, None, serialization.BestAvailableEncryption(PASSWORD.encode())))
    return path


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("minimal") / "project"
    assert run_cli("init", str(folder), "--template", "minimal").exit_code == 0
    return folder


@pytest.fixture(scope="module")
def signed(project: Path, sender_p12: Path, tmp_path_factory: pytest.TempPathFactory) -> BundleResult:
    os.environ[PASSWORD_ENV] = PASSWORD
    signer = load_signing_key(sender_p12, password_env=PASSWORD_ENV)
    return make_bundle(project, tmp_path_factory.mktemp("zips") / "signed.zip", signer=signer)


def entries(zip_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(zip_path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def write_zip(target: Path, files: list[tuple[str, bytes]]) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names, which some tests write on purpose
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in files:
                archive.writestr(name, data)
    return target


def sums_for(files: dict[str, bytes]) -> bytes:
    lines = [f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
             if name not in ("SHA256SUMS", "SHA256SUMS.p7s")]
    return "".join(lines).encode()


def tampered(source: Path, target: Path, change: dict[str, bytes | None], resum: bool = True) -> Path:
    """A copy of the bundle with entries replaced (bytes), added or dropped (None); SHA256SUMS rewritten to match."""
    files = entries(source)
    for name, data in change.items():
        if data is None:
            files.pop(name, None)
        else:
            files[name] = data
    if resum and "SHA256SUMS" not in change:
        files["SHA256SUMS"] = sums_for(files)
    return write_zip(target, sorted(files.items()))


def problems(path: Path, **options: object) -> list[str]:
    return verify_bundle(path, **options).problems  # type: ignore[arg-type]


def test_the_signed_bundle_verifies_against_the_senders_certificate(signed: BundleResult, keys: dict[str, Identity]) -> None:
    result = verify_bundle(signed.zip_path, expect_certificate=keys["sender"].cert_path, expect_sums=signed.sums_sha256)
    assert result.ok, result.problems
    assert result.signer == "O=Test Provider,CN=sender"
    files = entries(signed.zip_path)
    assert result.sums_sha256 == signed.sums_sha256 == hashlib.sha256(files["SHA256SUMS"]).hexdigest()
    assert "SHA256SUMS.p7s" in files and "SHA256SUMS.p7s" not in files["SHA256SUMS"].decode()


@pytest.mark.parametrize(("name", "reason"), [
    ("../../evil.sh", "climbs out of the folder it is extracted into"),
    ("sources/../../evil.sh", "climbs out of the folder it is extracted into"),
    ("/etc/cron.d/evil", "the name is absolute"),
    ("C:/Windows/evil.dll", "the name is absolute"),
    ("sources\\..\\..\\evil.bat", "backslash"),
    ("sources/./system.yaml", "an empty or '.' folder part"),
    ("evidence//report.md", "an empty or '.' folder part"),
    ("evidence/CON.txt", "Windows cannot create a file named 'CON.txt'"),
    ("evidence/report:hidden-stream", "Windows cannot create a file named"),
    ("evidence/report\x1b[2J.md", "control character U+001B"),
])
def test_unsafe_entry_names_are_reported_even_when_listed(signed: BundleResult, tmp_path: Path, name: str,
                                                           reason: str) -> None:
    bad = tampered(signed.zip_path, tmp_path / "slip.zip", {name: b"#!/bin/sh\nrm -rf ~\n"})
    found = problems(bad)
    assert any(p.startswith(f"{name!r}: unsafe entry name: ") and reason in p for p in found), found
    assert any(f"lists an unsafe name {name!r}" in p for p in found), found


def test_an_unsafe_directory_entry_is_reported(signed: BundleResult, tmp_path: Path) -> None:
    files = sorted(entries(signed.zip_path).items()) + [("../outside/", b"")]
    found = problems(write_zip(tmp_path / "dir.zip", files))
    assert found == ["'../outside/': unsafe entry name: the name climbs out of the folder it is extracted into (..)"]


def test_duplicate_entries_are_reported(signed: BundleResult, tmp_path: Path) -> None:
    files = entries(signed.zip_path)
    twice = sorted(files.items()) + [("sources/system.yaml", b"id: another-system\n")]
    found = problems(write_zip(tmp_path / "twice.zip", twice))
    assert "sources/system.yaml: appears 2 times in the bundle" in found

    folded = tampered(signed.zip_path, tmp_path / "case.zip", {"sources/System.yaml": files["sources/system.yaml"]})
    found = problems(folded)
    assert ("sources/System.yaml and sources/system.yaml: one file on Windows and macOS (the names differ only in "
            "case or Unicode form)") in found


def test_a_file_added_and_listed_is_not_a_file_of_the_build(signed: BundleResult, tmp_path: Path) -> None:
    added = tampered(signed.zip_path, tmp_path / "added.zip", {"evidence/extra-results.pdf": b"%PDF-1.7 better results"})
    assert problems(added) == ["evidence/extra-results.pdf: not a file of the build the manifest describes",
                               "SHA256SUMS.p7s: was made over other content: SHA256SUMS changed after it was signed"]
    unlisted = tampered(signed.zip_path, tmp_path / "unlisted.zip", {"notes.txt": b"x"}, resum=False)
    assert problems(unlisted) == ["notes.txt: in the bundle but not listed in SHA256SUMS"]


@pytest.mark.parametrize("name", ["sources/system.yaml", "sources/risks/risk-misrouted-email.yaml",
                                  "evidence/evidence/files/monthly-accuracy-check-2026-10.md"])
def test_a_file_removed_and_resummed_is_reported(signed: BundleResult, tmp_path: Path, name: str) -> None:
    assert name in entries(signed.zip_path)
    removed = tampered(signed.zip_path, tmp_path / "removed.zip", {name: None, "SHA256SUMS.p7s": None})
    table = "evidence" if name.startswith("evidence/") else "sources"
    assert problems(removed) == [f"{name}: in the manifest's {table} but missing from the bundle"]


def test_a_file_listed_but_absent_is_reported(signed: BundleResult, tmp_path: Path) -> None:
    files = entries(signed.zip_path)
    absent = write_zip(tmp_path / "absent.zip", [(n, d) for n, d in sorted(files.items()) if n != "sources/system.yaml"])
    assert problems(absent) == ["sources/system.yaml: listed in SHA256SUMS but missing from the bundle"]


def forge(bundle: Path, target: Path) -> Path:
    """What an attacker with the bundle in hand can do: change a source, record its new hash in the manifest, and
    rewrite SHA256SUMS to match, so that every hash in the bundle agrees with every other."""
    files = entries(bundle)
    forged_source = files["sources/system.yaml"].replace(b"version:", b"# approved by the Notified Body\nversion:", 1)
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["sources"]:
        if entry["path"] == "system.yaml":
            entry["sha256"], entry["bytes"] = hashlib.sha256(forged_source).hexdigest(), len(forged_source)
    return tampered(bundle, target, {"sources/system.yaml": forged_source,
                                     "manifest.json": (json.dumps(manifest, indent=2) + "\n").encode()})


def test_a_forged_manifest_and_sums_pass_alone_but_not_against_the_certificate(
        signed: BundleResult, keys: dict[str, Identity], tmp_path: Path) -> None:
    forged = forge(signed.zip_path, tmp_path / "forged.zip")
    unsigned_view = tampered(forged, tmp_path / "forged-unsigned.zip", {"SHA256SUMS.p7s": None}, resum=False)
    assert problems(unsigned_view) == []  # the limit: a bundle alone can only be checked against itself
    sender = keys["sender"].cert_path
    assert problems(forged, expect_certificate=sender) == [
        "SHA256SUMS.p7s: was made over other content: SHA256SUMS changed after it was signed"]
    assert problems(unsigned_view, expect_certificate=sender) == [
        "SHA256SUMS.p7s: missing: the bundle is not signed, and --expect-cert asks for a signature"]
    digest = hashlib.sha256(entries(forged)["SHA256SUMS"]).hexdigest()
    assert problems(unsigned_view, expect_sums=signed.sums_sha256) == [
        f"SHA256SUMS: sha256 is {digest}, not the {signed.sums_sha256} expected"]


def resigned(bundle: Path, target: Path, signature: bytes) -> Path:
    return tampered(bundle, target, {"SHA256SUMS.p7s": signature}, resum=False)


def test_a_forged_bundle_signed_with_another_key_fails(signed: BundleResult, keys: dict[str, Identity],
                                                        tmp_path: Path) -> None:
    forged = forge(signed.zip_path, tmp_path / "forged.zip")
    sums = entries(forged)["SHA256SUMS"]
    other = keys["other"]
    other_pem = tmp_path / "other.pem"
    other_pem.write_bytes(other.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption())
                          + other.certificate.public_bytes(serialization.Encoding.PEM))
    from techfile.publish.signature import sign

    signature = sign(load_signing_key(other_pem), sums, dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    by_other = resigned(forged, tmp_path / "by-other.zip", signature)
    assert problems(by_other) == []  # intact, by whoever signed it: only the expected certificate says who that must be
    assert problems(by_other, expect_certificate=keys["sender"].cert_path) == [
        "SHA256SUMS.p7s: signed by another certificate (O=Test Provider,CN=other), "
        "not the expected one (O=Test Provider,CN=sender)"]
    assert problems(by_other, expect_certificate=other.cert_path) == []


def test_a_signature_claiming_the_senders_certificate_but_made_with_another_key_is_invalid(
        signed: BundleResult, keys: dict[str, Identity], tmp_path: Path) -> None:
    forged = forge(signed.zip_path, tmp_path / "forged.zip")
    sums = entries(forged)["SHA256SUMS"]
    forger = keys["forger"]
    assert forger.certificate.issuer == keys["sender"].certificate.issuer
    assert forger.certificate.serial_number == keys["sender"].certificate.serial_number
    # made with cryptography's own PKCS#7 builder, as a third-party tool would: it names the signer by issuer and serial
    signature = (pkcs7.PKCS7SignatureBuilder().set_data(sums).add_signer(forger.certificate, forger.key, hashes.SHA256())
                 .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))
    claimed = resigned(forged, tmp_path / "claimed.zip", signature)
    found = problems(claimed, expect_certificate=keys["sender"].cert_path)
    assert found == ["SHA256SUMS.p7s: is invalid: it was not made with the key of "
                     "O=Test Provider,CN=sender"]


@pytest.mark.parametrize(("signature", "message"), [
    (b"not a signature", "SHA256SUMS.p7s: cannot be read as a CMS signature"),
    (b"", "SHA256SUMS.p7s: cannot be read as a CMS signature"),
])
def test_a_damaged_signature_is_reported(signed: BundleResult, keys: dict[str, Identity], tmp_path: Path,
                                         signature: bytes, message: str) -> None:
    damaged = resigned(signed.zip_path, tmp_path / "damaged.zip", signature)
    found = problems(damaged, expect_certificate=keys["sender"].cert_path)
    assert len(found) == 1 and found[0].startswith(message), found


def test_a_deeply_nested_manifest_is_reported_not_parsed(signed: BundleResult, tmp_path: Path) -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    nested = tampered(signed.zip_path, tmp_path / "deep.zip", {"manifest.json": deep, "SHA256SUMS.p7s": None})
    assert problems(nested) == [f"manifest.json: nested deeper than {MAX_JSON_DEPTH} levels; not a techfile build manifest"]
    strings = json.dumps({"note": "[" * 100_000, "sources": [], "evidence": [], "outputs": [], "manifest_version": 2})
    brackets_in_strings = tampered(signed.zip_path, tmp_path / "strings.zip",
                                   {"manifest.json": strings.encode(), "SHA256SUMS.p7s": None})
    assert all("nested deeper" not in p for p in problems(brackets_in_strings))


@pytest.mark.parametrize(("manifest", "message"), [
    (b'{"manifest_version": 2, "sources": [], "evidence": [], "outputs": [], "size": ' + b"9" * 5000 + b"}",
     "manifest.json: not a techfile build manifest"),
    (b'{"manifest_version": 2, "sources": [["a"]], "evidence": [], "outputs": []}', "manifest.json: not a techfile build manifest"),
    (b'{"manifest_version": 2, "sources": [{"path": "a", "sha256": 7}], "evidence": [], "outputs": []}',
     "manifest.json: its sources are not a list of paths with sha256 hashes"),
    (b'{"manifest_version": 1, "sources": [], "evidence": [], "outputs": []}',
     "manifest.json: manifest_version 1; this techfile reads 2"),
    (b"\xff\xfe not text", "manifest.json: not UTF-8 text"),
    (b" " * (16 << 20) + b"{}", "manifest.json: larger than 16 MiB; not a techfile manifest.json"),
])
def test_hostile_manifests_are_reported(signed: BundleResult, tmp_path: Path, manifest: bytes, message: str) -> None:
    bad = tampered(signed.zip_path, tmp_path / "bad.zip", {"manifest.json": manifest, "SHA256SUMS.p7s": None})
    assert message in problems(bad)


def test_a_bundle_claiming_more_than_the_limit_is_not_decompressed(signed: BundleResult, tmp_path: Path) -> None:
    zeros = bytes(64 << 20)
    bomb = tampered(signed.zip_path, tmp_path / "bomb.zip", {"evidence/zeros.bin": zeros, "SHA256SUMS.p7s": None})
    assert bomb.stat().st_size < 1 << 20  # 64 MiB of zeros compress to about 64 KiB
    result = verify_bundle(bomb, max_bytes=32 << 20)
    assert len(result.problems) == 1 and result.checked == 0
    assert result.problems[0].endswith(f"bytes uncompressed, over the {32 << 20} bytes verify reads (a zip bomb?); "
                                       "nothing was decompressed")


def patch_sizes(path: Path, name: str, claimed: int) -> None:
    """Make the local header and the central directory of entry `name` claim `claimed` uncompressed bytes."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    central = 0
    while True:
        central = data.index(b"PK\x01\x02", central)
        length = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46:central + 46 + length]) == encoded:
            break
        central += 4
    struct.pack_into("<I", data, central + 24, claimed)
    local = struct.unpack_from("<I", data, central + 42)[0]
    struct.pack_into("<I", data, local + 22, claimed)
    path.write_bytes(bytes(data))


def test_an_entry_claiming_more_than_deflate_can_produce_is_not_read(signed: BundleResult, tmp_path: Path) -> None:
    bomb = tampered(signed.zip_path, tmp_path / "ratio.zip", {"evidence/note.txt": b"small", "SHA256SUMS.p7s": None})
    patch_sizes(bomb, "evidence/note.txt", 0xFFFF0000)
    found = problems(bomb, max_bytes=1 << 40)
    assert any(p.startswith("evidence/note.txt: claims 4294901760 bytes from ") and
               p.endswith("compressed ones, more than deflate can produce (a zip bomb?); not read") for p in found), found


def overlapping(source: Path, target: Path, copies: int) -> Path:
    """A zip whose central directory lists one compressed stream many times under other names (the overlapping-
    entries zip bomb): each copy claims the same 64 MiB, none has data of its own."""
    zeros = zlib.compressobj(9, zlib.DEFLATED, -15)
    kernel = zeros.compress(bytes(64 << 20)) + zeros.flush()
    name = b"evidence/k0000.bin"
    crc = zlib.crc32(bytes(64 << 20))
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(kernel), 64 << 20, len(name), 0)
    body = local + name + kernel
    central = b""
    for number in range(copies):
        entry_name = f"evidence/k{number:04d}.bin".encode()
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(kernel), 64 << 20,
                               len(entry_name), 0, 0, 0, 0, 0, 0) + entry_name
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, copies, copies, len(central), len(body), 0)
    target.write_bytes(body + central + end)
    return target


def test_overlapping_entries_are_reported_and_not_decompressed(signed: BundleResult, tmp_path: Path) -> None:
    bomb = overlapping(signed.zip_path, tmp_path / "overlap.zip", copies=200)  # 12.5 GiB claimed by a 64 KiB file
    result = verify_bundle(bomb, max_bytes=1 << 40)
    assert result.checked == 0
    assert "evidence/k0000.bin and evidence/k0001.bin: their data overlap in the zip file (a zip bomb, or a damaged " \
           "zip); not read" in result.problems


def test_a_zip_announcing_too_many_entries_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from techfile.publish.bundle import BundleError
    from techfile.publish.verify import MAX_ENTRIES

    path = tmp_path / "many.zip"
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    record = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, 10**9, 10**9, 0, 0)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, 0, 1)
    path.write_bytes(record + locator + end)
    with pytest.raises(BundleError, match=rf"holds 1000000000 entries, more than the {MAX_ENTRIES} a bundle may have"):
        verify_bundle(path)


def test_bundle_refuses_names_that_are_unsafe_to_extract(project: Path, tmp_path: Path) -> None:
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    evidence = copy / "evidence" / "ev-monthly-accuracy-check.yaml"
    original = next((copy / "evidence" / "files").iterdir())
    renamed = original.with_name("accuracy: October.md")
    original.rename(renamed)
    evidence.write_text(evidence.read_text(encoding="utf-8").replace(f"file: evidence/files/{original.name}",
                                                                     f'file: "evidence/files/{renamed.name}"'),
                        encoding="utf-8")
    assert run_cli("check", str(copy)).exit_code == 0  # a valid name on Linux
    with pytest.raises(UnsafeName, match=r"'evidence/evidence/files/accuracy: October.md' cannot go into the bundle: "
                                         r"Windows cannot create a file named 'accuracy: October.md'"):
        make_bundle(copy, tmp_path / "refused.zip")
    result = run_cli("bundle", str(copy), "--out", str(tmp_path / "refused.zip"))
    assert result.exit_code == 1 and "bundle refused:" in result.output
    assert not (tmp_path / "refused.zip").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".refused")] == []


def test_bundle_refuses_two_names_that_are_one_file_on_windows(project: Path, tmp_path: Path) -> None:
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    (copy / "docs").mkdir()
    (copy / "docs" / "Purpose.md").write_text("Suggests a category for incoming support emails.\n", encoding="utf-8")
    (copy / "docs" / "purpose.md").write_text("Check every suggestion before routing the email.\n", encoding="utf-8")
    system = copy / "system.yaml"
    text = system.read_text(encoding="utf-8")
    start, end = text.index("intended_purpose: >-"), text.index("deployers:")
    text = text[:start] + "intended_purpose: {file: docs/Purpose.md}\n" + text[end:]
    text = text.replace("instructions_for_use: Check every suggestion before routing the email; change it when it is wrong.",
                        "instructions_for_use: {file: docs/purpose.md}")
    system.write_text(text, encoding="utf-8")
    assert run_cli("check", str(copy)).exit_code == 0
    with pytest.raises(UnsafeName, match="'sources/docs/Purpose.md' and 'sources/docs/purpose.md' would be one file on "
                                         "Windows and macOS"):
        make_bundle(copy, tmp_path / "refused.zip")


def test_evidence_named_by_two_records_is_stored_once(project: Path, tmp_path: Path) -> None:
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    record = copy / "evidence" / "ev-monthly-accuracy-check.yaml"
    twin = copy / "evidence" / "ev-monthly-accuracy-twin.yaml"
    twin.write_text(record.read_text(encoding="utf-8").replace("ev-monthly-accuracy-check", "ev-monthly-accuracy-twin"),
                    encoding="utf-8")
    made = make_bundle(copy, tmp_path / "once.zip")
    names = [n for n in made.entries if Path(n).name == next((copy / "evidence" / "files").iterdir()).name]
    assert names == ["evidence/evidence/files/monthly-accuracy-check-2026-10.md"]
    assert verify_bundle(made.zip_path).ok


def test_signed_bundles_are_deterministic_and_the_digest_is_printed(project: Path, sender_p12: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TECHFILE_SIGN_PASSWORD", PASSWORD)
    first = run_cli("bundle", str(project), "--out", str(tmp_path / "one.zip"), "--sign", str(sender_p12))
    second = run_cli("bundle", str(project), "--out", str(tmp_path / "two.zip"), "--sign", str(sender_p12))
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    digest = hashlib.sha256(entries(tmp_path / "one.zip")["SHA256SUMS"]).hexdigest()
    assert f"SHA256SUMS sha256: {digest}\n" in first.output
    assert "signed SHA256SUMS as sender (one.zip holds SHA256SUMS.p7s)" in first.output
    ok = run_cli("verify", str(tmp_path / "one.zip"), "--expect-sums", digest.upper())
    assert ok.exit_code == 0 and f"SHA256SUMS sha256: {digest}" in ok.output
    assert run_cli("verify", str(tmp_path / "one.zip"), "--expect-sums", "0" * 64).exit_code == 1
    assert run_cli("verify", str(tmp_path / "one.zip"), "--expect-sums", "abc").exit_code == 2


def test_a_pem_key_with_its_certificate_and_a_password_from_a_named_variable(
        project: Path, keys: dict[str, Identity], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sender = keys["sender"]
    key = tmp_path / "sender-key.pem"
    key.write_bytes(sender.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.BestAvailableEncryption(b"pem secret")))
    target = str(tmp_path / "pem.zip")
    args = ["bundle", str(project), "--out", target, "--sign", str(key), "--sign-cert", str(sender.cert_path)]
    monkeypatch.delenv("TECHFILE_SIGN_PASSWORD", raising=False)
    missing = run_cli(*args)
    assert missing.exit_code == 2 and "TF872" in missing.output
    assert "the private key is encrypted and TECHFILE_SIGN_PASSWORD is not set" in missing.output
    named = [*args, "--sign-password-env", "RELEASE_KEY_PASSWORD"]
    monkeypatch.delenv("RELEASE_KEY_PASSWORD", raising=False)
    assert "the private key is encrypted and RELEASE_KEY_PASSWORD is not set" in run_cli(*named).output
    monkeypatch.setenv("RELEASE_KEY_PASSWORD", "wrong")
    wrong = run_cli(*named)
    assert wrong.exit_code == 2 and "the password in RELEASE_KEY_PASSWORD does not open the private key" in wrong.output
    monkeypatch.setenv("RELEASE_KEY_PASSWORD", "pem secret")
    made = run_cli(*named)
    assert made.exit_code == 0, made.output
    checked = run_cli("verify", target, "--expect-cert", str(sender.cert_path))
    assert checked.exit_code == 0 and "signed by: O=Test Provider,CN=sender" in checked.output
    other = run_cli("verify", target, "--expect-cert", str(keys["other"].cert_path))
    assert other.exit_code == 1 and "signed by another certificate" in other.output
    key_without_cert = run_cli("bundle", str(project), "--out", target, "--sign", str(key), "--sign-password-env",
                               "RELEASE_KEY_PASSWORD")
    assert key_without_cert.exit_code == 2 and "no certificate found for the private key" in key_without_cert.output
    wrong_cert = run_cli(*args[:-1], str(keys["other"].cert_path), "--sign-password-env", "RELEASE_KEY_PASSWORD")
    assert wrong_cert.exit_code == 2 and "the certificate does not belong to the private key" in wrong_cert.output


def test_the_password_is_never_a_command_line_argument(project: Path, sender_p12: Path) -> None:
    result = run_cli("bundle", str(project), "--sign", str(sender_p12), "--password", PASSWORD)
    assert result.exit_code == 2 and "No such option" in result.output


@pytest.mark.parametrize("manifest", [b"[" * 200_000 + b"]" * 200_000, b'["a list, not a manifest"]'])
def test_a_hostile_manifest_in_a_build_folder_is_reported(tmp_path: Path, manifest: bytes) -> None:
    folder = tmp_path / "build"
    folder.mkdir()
    (folder / "manifest.json").write_bytes(manifest)
    result = run_cli("verify", str(folder))
    assert result.exit_code == 1 and "TF876" in result.output and "TF900" not in result.output, result.output
