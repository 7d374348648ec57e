"""`build --sign KEY` and `verify`: PAdES signatures that pyHanko validates, PDF/A-2b identification kept, a flipped
byte caught, clear errors for unusable keys, nothing signed without a key or for drafts. Keys are made here."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from techfile.cli import main
from techfile.publish.build import BuildResult, build
from techfile.publish.signing import load_signing_key

from conftest import SAMPLE

DECLARATION = "pdf/thoravis-cxr-declaration-of-conformity.pdf"
KINDS = {"declaration-of-conformity", "qms-manual"}
PASSWORD = "correct horse battery staple"


def make_key(folder: Path, name: str = "Dr. Miriam Hollstein", valid: tuple[int, int] = (2020, 2040),
             key_usage: bool = True) -> dict[str, Path]:
    """An RSA key with a self-signed certificate, as PEM (key + certificate), PKCS#12 (with PASSWORD) and the
    certificate alone."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Thoravis Medical GmbH")])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(dt.datetime(valid[0], 1, 1, tzinfo=dt.UTC))
               .not_valid_after(dt.datetime(valid[1], 1, 1, tzinfo=dt.UTC)))
    builder = builder.add_extension(x509.KeyUsage(
        digital_signature=key_usage, content_commitment=key_usage, key_encipherment=not key_usage, data_encipherment=False,
        key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
    certificate = builder.sign(key, hashes.SHA256())
    folder.mkdir(parents=True, exist_ok=True)
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    pem_cert = certificate.public_bytes(serialization.Encoding.PEM)
    files = {"pem": folder / "signer.pem", "cert": folder / "signer.crt", "p12": folder / "signer.p12",
             "key_only": folder / "signer.key"}
    files["pem"].write_bytes(pem_key + pem_cert)
    files["cert"].write_bytes(pem_cert)
    files["key_only"].write_bytes(pem_key)
    files["p12"].write_bytes(pkcs12.serialize_key_and_certificates(
        b"signer", key, certificate, None, serialization.BestAvailableEncryption(PASSWORD.encode())))
    return files


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_key(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def approved_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample outside git, where techfile.yaml's approval covers every document (in techfile's own repository,
    later commits touch the sample, so its documents built in place are drafts)."""
    import shutil

    copy = tmp_path_factory.mktemp("approved") / "project"
    shutil.copytree(SAMPLE, copy, ignore=shutil.ignore_patterns("build"))
    return copy


@pytest.fixture(scope="module")
def signed(keys: dict[str, Path], approved_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(approved_sample, tmp_path_factory.mktemp("signed") / "build", only=KINDS, site=False, docx=False, xlsx=False,
                 sign=load_signing_key(keys["pem"]))


@pytest.fixture(scope="module")
def unsigned(approved_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(approved_sample, tmp_path_factory.mktemp("unsigned") / "build", only=KINDS, site=False, docx=False, xlsx=False)


def xmp_of(data: bytes) -> bytes:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(data)).root["/Metadata"].get_object().data


def test_signed_declaration_validates_with_pyhanko_and_keeps_pdf_a_2b(signed: BuildResult, keys: dict[str, Path]) -> None:
    from asn1crypto import pem, x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    data = (signed.out / DECLARATION).read_bytes()
    reader = PdfFileReader(io.BytesIO(data))
    assert len(reader.embedded_signatures) == 1
    signature = reader.embedded_signatures[0]
    _, _, der = pem.unarmor(keys["cert"].read_bytes())
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[x509.Certificate.load(der)], allow_fetching=False))
    assert status.bottom_line and status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.coverage.name == "ENTIRE_FILE"
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert status.signer_reported_dt == dt.datetime.fromtimestamp(json.loads(
        (signed.out / "manifest.json").read_text())["source_date_epoch"], tz=dt.UTC)
    xmp = xmp_of(data).decode("utf-8")
    assert re.search(r"<pdfaid:part>2</pdfaid:part>|pdfaid:part=\"2\"", xmp)
    assert re.search(r"<pdfaid:conformance>B</pdfaid:conformance>|pdfaid:conformance=\"B\"", xmp)


def test_poppler_also_finds_the_signature_valid_over_the_whole_file(signed: BuildResult) -> None:
    done = subprocess.run(["pdfsig", str(signed.out / DECLARATION)], capture_output=True, text=True, check=False)
    assert "Signer Certificate Common Name: Dr. Miriam Hollstein" in done.stdout, done.stdout + done.stderr
    assert "Signature is Valid." in done.stdout and "Total document signed" in done.stdout
    assert "ETSI.CAdES.detached" in done.stdout


def test_signing_appends_to_the_unsigned_pdf_and_leaves_its_metadata(signed: BuildResult, unsigned: BuildResult) -> None:
    before = (unsigned.out / DECLARATION).read_bytes()
    after = (signed.out / DECLARATION).read_bytes()
    assert after.startswith(before) and len(after) > len(before), "the signature is an incremental update of the same PDF"
    assert xmp_of(after) == xmp_of(before)
    info = re.findall(rb"/Producer|/ModDate \(D", after[len(before):])
    assert not info, "the information dictionary is not rewritten"


def test_without_a_key_nothing_is_signed(unsigned: BuildResult) -> None:
    manifest = json.loads((unsigned.out / "manifest.json").read_text())
    assert "signed_pdfs" not in manifest and "pyHanko" not in manifest["tools"]
    assert not any(b"/ByteRange" in p.read_bytes() for p in (unsigned.out / "pdf").glob("*.pdf"))


def test_two_signed_builds_are_byte_identical(signed: BuildResult, keys: dict[str, Path], approved_sample: Path,
                                              tmp_path: Path) -> None:
    again = build(approved_sample, tmp_path / "again", only=KINDS, site=False, docx=False, xlsx=False, sign=load_signing_key(keys["pem"]))
    for name in ("pdf/thoravis-cxr-declaration-of-conformity.pdf", "pdf/thoravis-cxr-qms-manual.pdf", "manifest.json"):
        assert (again.out / name).read_bytes() == (signed.out / name).read_bytes(), name


def test_manifest_records_each_signed_pdf(signed: BuildResult, keys: dict[str, Path]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    manifest = json.loads((signed.out / "manifest.json").read_text())
    fingerprint = x509.load_pem_x509_certificate(keys["cert"].read_bytes()).fingerprint(hashes.SHA256()).hex()
    assert manifest["signed_pdfs"] == {
        DECLARATION: {"signer": "Dr. Miriam Hollstein", "certificate_sha256": fingerprint},
        "pdf/thoravis-cxr-qms-manual.pdf": {"signer": "Dr. Miriam Hollstein", "certificate_sha256": fingerprint},
    }
    assert signed.signed == sorted(manifest["signed_pdfs"])


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_verify_accepts_the_signed_pdf_and_the_build_folder(signed: BuildResult, keys: dict[str, Path]) -> None:
    code, output = run("verify", str(signed.out / DECLARATION), "--trust", str(keys["cert"]))
    assert code == 0, output
    assert "signed by Organization: Thoravis Medical GmbH, Common Name: Dr. Miriam Hollstein (trusted" in output
    code, output = run("verify", str(signed.out))
    assert code == 0 and "2 signed, 0 problem(s)" in output and "identity not checked" in output, output


@pytest.mark.parametrize("where", ["content", "signature", "trailer"])
def test_a_flipped_byte_fails_verify(signed: BuildResult, keys: dict[str, Path], tmp_path: Path, where: str) -> None:
    data = bytearray((signed.out / DECLARATION).read_bytes())
    contents = data.index(b"/Contents <") + len(b"/Contents <")
    position = {"content": len(data) // 3, "signature": contents + 200, "trailer": len(data) - 40}[where]
    data[position] ^= 0x01
    pdf = tmp_path / "flipped.pdf"
    pdf.write_bytes(bytes(data))
    code, output = run("verify", str(pdf), "--trust", str(keys["cert"]))
    assert code == 1, output
    assert re.search(rf"{re.escape(pdf.as_posix())}:1:1: TF87[678] error: ", output), output
    folder = tmp_path / "build"
    shutil.copytree(signed.out, folder)
    (folder / DECLARATION).write_bytes(bytes(data))
    code, output = run("verify", str(folder))
    assert code == 1 and f"{(folder / DECLARATION).as_posix()}:1:1: TF876 error: the file does not match its sha256" in output


def test_an_unsigned_pdf_fails_verify_and_an_untrusted_signer_is_named(signed: BuildResult, unsigned: BuildResult,
                                                                      tmp_path: Path) -> None:
    code, output = run("verify", str(unsigned.out / DECLARATION))
    assert code == 1 and "TF878 error: the PDF carries no signature" in output
    other = make_key(tmp_path / "other", name="Someone Else")
    code, output = run("verify", str(signed.out / DECLARATION), "--trust", str(other["cert"]))
    assert code == 1 and "TF879 error: the signer Organization: Thoravis Medical GmbH, Common Name: Dr. Miriam Hollstein is not trusted" in output


def test_pkcs12_with_password_from_the_environment(keys: dict[str, Path], project_copy: Path) -> None:
    out = project_copy / "build"
    code, output = run("build", str(project_copy), "--only", "declaration-of-conformity", "--no-site", "--no-docx",
                       "--sign", str(keys["p12"]), "--sign-password-env", "MY_P12_PASSWORD", env={"MY_P12_PASSWORD": PASSWORD})
    assert code == 0, output
    assert "signed 1 approved PDF(s) as Dr. Miriam Hollstein" in output
    assert b"/ETSI.CAdES.detached" in (out / DECLARATION).read_bytes()


@pytest.mark.parametrize("case, code, message", [
    ("missing file", "TF870", "the file cannot be read"),
    ("not a key", "TF871", "the file is neither a PKCS#12 file nor a PEM file with a private key"),
    ("no password", "TF872", "the PKCS#12 file needs a password and TECHFILE_SIGN_PASSWORD is not set"),
    ("wrong password", "TF873", "the password in TECHFILE_SIGN_PASSWORD does not open the PKCS#12 file"),
    ("other certificate", "TF874", "the certificate does not belong to the private key"),
    ("expired", "TF875", "the certificate is valid from 2001-01-01 to 2002-01-01, not on the documents' date"),
    ("encryption only", "TF875", "the certificate's key usage allows neither digital signatures nor non-repudiation"),
    ("key without certificate", "TF871", "no certificate found for the private key"),
])
def test_unusable_keys_are_located_errors_and_nothing_is_built(keys: dict[str, Path], project_copy: Path, tmp_path: Path,
                                                               case: str, code: str, message: str) -> None:
    env = {"TECHFILE_SIGN_PASSWORD": PASSWORD}
    extra: list[str] = []
    if case == "missing file":
        key = tmp_path / "nowhere.p12"
    elif case == "not a key":
        key = tmp_path / "notes.txt"
        key.write_text("just some text\n")
        env = {}
    elif case == "no password":
        key, env = keys["p12"], {}
    elif case == "wrong password":
        key, env = keys["p12"], {"TECHFILE_SIGN_PASSWORD": "wrong"}
    elif case == "other certificate":
        key, extra = keys["key_only"], ["--sign-cert", str(make_key(tmp_path / "other")["cert"])]
    elif case == "expired":
        key = make_key(tmp_path / "old", valid=(2001, 2002))["pem"]
    elif case == "encryption only":
        key = make_key(tmp_path / "enc", key_usage=False)["pem"]
    else:
        key = keys["key_only"]
    exit_code, output = run("build", str(project_copy), "--no-site", "--sign", str(key), *extra, env=env)
    assert exit_code == 2, output
    assert re.search(rf"^{re.escape(key.as_posix())}:1:1: {code} error: {re.escape(message)}", output, re.MULTILINE), output
    assert "hint: " in output and "Traceback" not in output
    assert not (project_copy / "build").exists()


def test_drafts_are_not_signed(keys: dict[str, Path], project_copy: Path) -> None:
    (project_copy / "techfile.yaml").write_text((project_copy / "techfile.yaml").read_text().replace(
        "status: approved", "status: draft"), encoding="utf-8")
    code, output = run("build", str(project_copy), "--only", "declaration-of-conformity", "--no-site", "--no-docx",
                       "--sign", str(keys["pem"]))
    assert code == 0, output
    assert "signed 0 approved PDF(s)" in output and f"note: {DECLARATION} is a draft and was not signed" in output
    assert b"/ByteRange" not in (project_copy / "build" / DECLARATION).read_bytes()


def test_without_the_sign_extra_build_sign_and_verify_name_it(keys: dict[str, Path], signed: BuildResult) -> None:
    code = ("import sys; sys.modules['pyhanko'] = None; from techfile.cli import main; "
            "main(sys.argv[1:])")
    for args in (["build", str(SAMPLE), "--out", "unused", "--sign", str(keys["pem"])], ["verify", str(signed.out / DECLARATION)]):
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
        assert done.returncode == 2, done.stderr
        assert "pip install 'techfile[sign]'" in done.stderr
