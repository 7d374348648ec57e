"""The submission bundle: deterministic, complete, and `verify_bundle` catches every change to it."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from techfile import load_project
from techfile.publish.build import BuildFindings
from techfile.publish.bundle import BundleError, BundleResult, make_bundle
from techfile.publish.verify import verify_bundle

from conftest import SAMPLE


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample outside git, shared by the tests that only read it."""
    copy = tmp_path_factory.mktemp("bundle") / "project"
    shutil.copytree(SAMPLE, copy, ignore=shutil.ignore_patterns("build"))
    return copy


@pytest.fixture(scope="module")
def bundle(project: Path, tmp_path_factory: pytest.TempPathFactory) -> BundleResult:
    return make_bundle(project, tmp_path_factory.mktemp("zips") / "submission.zip")


def entries(zip_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(zip_path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite(source: Path, target: Path, change: dict[str, bytes | None]) -> None:
    """Copy the zip entry by entry, replacing (bytes) or dropping (None) the entries named in `change`."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = change.get(info.filename, old.read(info.filename))
            if data is not None:
                new.writestr(info, data)


def flip_one_byte(data: bytes) -> bytes:
    return data[:10] + bytes([data[10] ^ 0x01]) + data[11:]


def test_two_bundles_of_the_same_sources_are_byte_identical(project: Path, bundle: BundleResult,
                                                              tmp_path: Path) -> None:
    again = make_bundle(project, tmp_path / "again.zip", build_dir=tmp_path / "elsewhere" / "build")
    assert again.zip_path.read_bytes() == bundle.zip_path.read_bytes()
    assert again.sha256 == bundle.sha256 == hashlib.sha256(bundle.zip_path.read_bytes()).hexdigest()


def test_zip_entries_are_sorted_files_with_fixed_metadata(bundle: BundleResult) -> None:
    manifest = json.loads(entries(bundle.zip_path)["manifest.json"])
    with zipfile.ZipFile(bundle.zip_path) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos) == list(bundle.entries)
    assert len(infos) == bundle.count
    day = tuple(int(part) for part in manifest["build_date"].split("-"))
    for info in infos:
        assert not info.is_dir()
        assert info.date_time[:3] == day and info.date_time >= (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o100644
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert info.extra == b"" and info.comment == b""
        assert info.flag_bits & 0x08 == 0  # sizes in the local header, no data descriptor


def test_bundle_holds_every_pdf_evidence_file_source_and_the_index(project: Path, bundle: BundleResult) -> None:
    files = entries(bundle.zip_path)
    loaded = load_project(str(project))
    manifest = json.loads(files["manifest.json"])
    assert {"manifest.json", "index.md", "SHA256SUMS"} <= set(files)

    pdfs = {name for name in files if name.startswith("pdf/")}
    assert pdfs == {e["path"] for e in manifest["outputs"] if e["path"].startswith("pdf/")}
    assert pdfs == {f"pdf/{document_id}.pdf" for document_id in bundle.documents}
    assert len(pdfs) == 20 and all(files[name].startswith(b"%PDF-") for name in pdfs)

    evidence_files = {item.file for item in loaded.project.evidence if item.file}
    assert evidence_files and {n.removeprefix("evidence/") for n in files if n.startswith("evidence/")} == evidence_files
    assert evidence_files == {e["path"] for e in manifest["evidence"]} == set(bundle.evidence)
    for path in evidence_files:
        assert files[f"evidence/{path}"] == (project / path).read_bytes()

    # sources: the YAML sources and the prose files they name, each once; evidence files are not sources
    sources = {n.removeprefix("sources/") for n in files if n.startswith("sources/")}
    assert sources == {e["path"] for e in manifest["sources"]}
    assert sources == set(loaded.source_files) | {p for p in loaded.referenced_files if p not in evidence_files}
    assert {"techfile.yaml", "system.yaml", "docs/intended-purpose.md"} <= sources
    assert not sources & evidence_files and not any(p.startswith("schemas/") for p in sources)
    assert set(files) == pdfs | {f"evidence/{p}" for p in evidence_files} | {f"sources/{p}" for p in sources} | {
        "manifest.json", "index.md", "SHA256SUMS"}

    index = files["index.md"].decode("utf-8")
    assert loaded.project.system is not None
    assert f"- System: {loaded.project.system.name} {loaded.project.system.version}" in index
    assert f"- Build date: {manifest['build_date']}" in index and "- Git commit: not in git" in index
    for document_id in bundle.documents:
        assert f"| pdf/{document_id}.pdf |" in index
    for item in loaded.project.evidence:
        assert item.title in index
        assert f"| {item.sha256} | evidence/{item.file} |" in index if item.file else f"| — | {item.url} |" in index


def test_sha256sums_lists_every_other_file_and_sha256sum_accepts_it(bundle: BundleResult, tmp_path: Path) -> None:
    files = entries(bundle.zip_path)
    lines = files["SHA256SUMS"].decode("utf-8").splitlines()
    listed = [line.split("  ", 1)[1] for line in lines]
    assert listed == sorted(set(files) - {"SHA256SUMS"})
    for line in lines:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(files[name]).hexdigest() == digest
    with zipfile.ZipFile(bundle.zip_path) as archive:
        archive.extractall(tmp_path)
    done = subprocess.run(["sha256sum", "-c", "--quiet", "--strict", "SHA256SUMS"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_fresh_bundle_verifies(bundle: BundleResult) -> None:
    result = verify_bundle(bundle.zip_path)
    assert result.ok and result.problems == []
    assert result.checked == bundle.count


def test_one_flipped_byte_in_an_evidence_file_is_named(bundle: BundleResult, tmp_path: Path) -> None:
    name = next(n for n in bundle.entries if n.startswith("evidence/"))
    tampered = tmp_path / "tampered.zip"
    rewrite(bundle.zip_path, tampered, {name: flip_one_byte(entries(bundle.zip_path)[name])})
    result = verify_bundle(tampered)
    assert not result.ok
    assert all(problem.startswith(f"{name}: sha256 is ") for problem in result.problems)
    assert any("SHA256SUMS says" in p for p in result.problems)
    assert any("the manifest's evidence say" in p for p in result.problems)


def test_a_changed_pdf_is_caught_by_the_manifest_even_with_matching_sums(bundle: BundleResult, tmp_path: Path) -> None:
    files = entries(bundle.zip_path)
    name = f"pdf/{bundle.documents[0]}.pdf"
    changed = flip_one_byte(files[name])
    sums = files["SHA256SUMS"].decode().replace(hashlib.sha256(files[name]).hexdigest(),
                                                hashlib.sha256(changed).hexdigest())
    tampered = tmp_path / "tampered.zip"
    rewrite(bundle.zip_path, tampered, {name: changed, "SHA256SUMS": sums.encode()})
    assert verify_bundle(tampered).problems == [
        f"{name}: sha256 is {hashlib.sha256(changed).hexdigest()}, "
        f"the manifest's outputs say {hashlib.sha256(files[name]).hexdigest()}"]


def test_a_removed_entry_is_reported_missing(bundle: BundleResult, tmp_path: Path) -> None:
    name = f"pdf/{bundle.documents[-1]}.pdf"
    shortened = tmp_path / "shortened.zip"
    rewrite(bundle.zip_path, shortened, {name: None})
    assert verify_bundle(shortened).problems == [f"{name}: listed in SHA256SUMS but missing from the bundle"]

    files = entries(bundle.zip_path)
    sums = "".join(line for line in files["SHA256SUMS"].decode().splitlines(keepends=True) if not line.endswith(f"{name}\n"))
    rewrite(bundle.zip_path, shortened, {name: None, "SHA256SUMS": sums.encode()})
    assert verify_bundle(shortened).problems == [f"{name}: in the manifest's outputs but missing from the bundle"]


def test_an_added_file_and_a_missing_sums_file_are_reported(bundle: BundleResult, tmp_path: Path) -> None:
    extended = tmp_path / "extended.zip"
    shutil.copyfile(bundle.zip_path, extended)
    with zipfile.ZipFile(extended, "a") as archive:
        archive.writestr("evidence/extra.txt", b"not part of the build")
    assert verify_bundle(extended).problems == ["evidence/extra.txt: in the bundle but not listed in SHA256SUMS"]

    unsummed = tmp_path / "unsummed.zip"
    rewrite(bundle.zip_path, unsummed, {"SHA256SUMS": None})
    assert verify_bundle(unsummed).problems == ["SHA256SUMS: missing from the bundle"]


def test_damaged_compressed_data_is_named(bundle: BundleResult, tmp_path: Path) -> None:
    with zipfile.ZipFile(bundle.zip_path) as archive:
        info = archive.getinfo("index.md")
    data = bytearray(bundle.zip_path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode())
    data[start + info.compress_size // 2] ^= 0xFF
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    problems = verify_bundle(damaged).problems
    assert problems and all(p.startswith("index.md: cannot be read from the bundle") for p in problems)


@pytest.mark.parametrize(("content", "message"), [
    (b"%PDF-1.7 this is not a zip\n", "not a zip file, or a damaged one (File is not a zip file)"),
    (b"", "not a zip file, or a damaged one (File is not a zip file)"),
])
def test_a_non_zip_file_is_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bundle.zip"
    path.write_bytes(content)
    with pytest.raises(BundleError) as caught:
        verify_bundle(path)
    assert str(caught.value) == f"{path.as_posix()}: {message}"


def test_a_truncated_zip_and_a_missing_file_are_clear_errors(bundle: BundleResult, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(bundle.zip_path.read_bytes()[: bundle.bytes // 2])
    with pytest.raises(BundleError, match=r"truncated\.zip: not a zip file, or a damaged one"):
        verify_bundle(truncated)
    with pytest.raises(BundleError, match=r"absent\.zip: no such file$"):
        verify_bundle(tmp_path / "absent.zip")
    with pytest.raises(BundleError, match=r": is a folder, not a zip file$"):
        verify_bundle(tmp_path)


def test_refused_build_leaves_the_previous_zip_alone(project_copy: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "submission.zip"
    target.parent.mkdir()
    target.write_bytes(b"previous bundle")
    (project_copy / "system.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(BuildFindings):
        make_bundle(project_copy, target)
    assert target.read_bytes() == b"previous bundle"
    assert [p.name for p in target.parent.iterdir()] == ["submission.zip"]
    with pytest.raises(BundleError, match="is a folder; give the path of the .zip file"):
        make_bundle(project_copy, target.parent)


def test_bundle_and_verify_commands(tmp_path: Path) -> None:
    import zipfile

    from conftest import run_cli

    project = tmp_path / "p"
    assert run_cli("init", str(project), "--template", "minimal").exit_code == 0
    target = tmp_path / "submission.zip"
    made = run_cli("bundle", str(project), "--out", str(target))
    assert made.exit_code == 0, made.output
    ok = run_cli("verify", str(target))
    assert ok.exit_code == 0 and ok.output.startswith("ok: ")
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(target) as source, zipfile.ZipFile(tampered, "w") as copy:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("pdf/"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            copy.writestr(info, data)
    bad = run_cli("verify", str(tampered))
    assert bad.exit_code == 1 and "pdf/" in bad.output and "failed" in bad.output
    assert run_cli("verify", str(tmp_path / "missing.zip")).exit_code == 1
