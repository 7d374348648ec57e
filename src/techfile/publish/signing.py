"""PAdES signatures (pyHanko, the `sign` extra): sign approved PDFs with a PKCS#12 or PEM key, and verify them.

A signature is an incremental update: the PDF's bytes, and so its PDF/A-2b identification (XMP pdfaid), stay as
they were, with the signature appended. The signing time is the build date (the documents' own date, from
SOURCE_DATE_EPOCH or git), not the clock, so a signed build is reproducible with an RSA key; it is the signer's
claim, not a trusted timestamp (no time-stamping authority is contacted, the build is offline).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from techfile.diagnostics import Diagnostic, finding
from techfile.integrations import MissingExtra

PASSWORD_ENV = "TECHFILE_SIGN_PASSWORD"
FIELD_NAME = "techfile-signature"
_PEM_KEY_MARKERS = (b"PRIVATE KEY-----",)


class SigningFailed(Exception):
    """pyHanko could not sign a PDF (the message names it)."""


class SigningProblem(Exception):
    """The key or certificate cannot be used; carries the located diagnostic to print."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


@dataclass(frozen=True)
class SigningKey:
    """A private key with its certificate (and chain), as DER, ready for pyHanko."""

    path: str
    key_pkcs8: bytes
    certificate: bytes
    chain: tuple[bytes, ...]
    subject: str
    fingerprint: str  # sha256 of the certificate
    not_before: dt.datetime
    not_after: dt.datetime


def _require_pyhanko() -> None:
    try:
        import pyhanko  # noqa: F401
        import pyhanko_certvalidator  # noqa: F401
    except ImportError:
        raise MissingExtra("sign") from None


def load_signing_key(key_path: str | Path, cert_path: str | Path | None = None, password_env: str = PASSWORD_ENV) -> SigningKey:
    """Read a PKCS#12 file, or a PEM file with a private key (and its certificates, or those in `cert_path`).

    The password comes from the environment variable `password_env`, never from the command line."""
    _require_pyhanko()
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    where = Path(key_path).as_posix()
    data = _read(key_path)
    password = os.environ.get(password_env)
    secret = password.encode("utf-8") if password is not None else None
    if any(marker in data for marker in _PEM_KEY_MARKERS):
        encrypted = b"ENCRYPTED PRIVATE KEY" in data or b"Proc-Type: 4,ENCRYPTED" in data
        if encrypted and secret is None:
            raise _problem("TF872", where, f"the private key is encrypted and {password_env} is not set",
                           f"export {password_env} with the key's password (it is never taken from the command line)")
        try:
            key = serialization.load_pem_private_key(data, password=secret if encrypted else None)
        except (ValueError, TypeError) as err:
            if encrypted:
                raise _problem("TF873", where, f"the password in {password_env} does not open the private key",
                               f"check {password_env}") from None
            raise _problem("TF871", where, f"the PEM private key cannot be read: {err}", _FORMAT_HINT) from None
        certificates = _pem_certificates(data, x509)
        if cert_path is not None:
            certificates += _pem_certificates(_read(cert_path), x509)
    elif not data.startswith(b"\x30"):  # PKCS#12 is DER: an ASN.1 SEQUENCE
        raise _problem("TF871", where, "the file is neither a PKCS#12 file nor a PEM file with a private key", _FORMAT_HINT)
    else:
        try:
            key, certificate, extra = pkcs12.load_key_and_certificates(data, secret)
        except ValueError:
            if secret is None:
                raise _problem("TF872", where, f"the PKCS#12 file needs a password and {password_env} is not set",
                               f"export {password_env} with the file's password (it is never taken from the command line)") from None
            raise _problem("TF873", where, f"the password in {password_env} does not open the PKCS#12 file, or it is not "
                           "a PKCS#12 file", f"check {password_env}; " + _FORMAT_HINT) from None
        if key is None:
            raise _problem("TF871", where, "the PKCS#12 file holds no private key", _FORMAT_HINT)
        certificates = ([certificate] if certificate is not None else []) + list(extra)
        if cert_path is not None:
            certificates += _pem_certificates(_read(cert_path), x509)
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    own = [c for c in certificates if c.public_key().public_bytes(serialization.Encoding.DER,
                                                                  serialization.PublicFormat.SubjectPublicKeyInfo) == public]
    if not certificates:
        raise _problem("TF871", where, "no certificate found for the private key",
                       "put the certificate in the same PEM file, or name it with --sign-cert CERT.pem")
    if not own:
        raise _problem("TF874", where, "the certificate does not belong to the private key",
                       "use the certificate issued for this key (compare their public keys)")
    certificate = own[0]
    subject = ", ".join(a.value for a in certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)) \
        or certificate.subject.rfc4514_string()
    return SigningKey(
        path=where,
        key_pkcs8=key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        certificate=certificate.public_bytes(serialization.Encoding.DER),
        chain=tuple(c.public_bytes(serialization.Encoding.DER) for c in certificates if c is not certificate),
        subject=str(subject), fingerprint=certificate.fingerprint(_sha256()).hex(),
        not_before=certificate.not_valid_before_utc, not_after=certificate.not_valid_after_utc,
    )


_FORMAT_HINT = "give a PKCS#12 file (.p12/.pfx) or a PEM file with the private key and its certificate"


def _sha256() -> Any:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


def _read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise _problem("TF870", Path(path).as_posix(), f"the file cannot be read: {err.strerror or err}",
                       "give the path of a readable key or certificate file") from None


def _pem_certificates(data: bytes, x509: Any) -> list[Any]:
    if b"-----BEGIN CERTIFICATE-----" not in data:
        return []
    try:
        return list(x509.load_pem_x509_certificates(data))
    except ValueError as err:
        raise _problem("TF871", "certificate", f"a PEM certificate cannot be read: {err}", _FORMAT_HINT) from None


def _problem(code: str, path: str, message: str, hint: str) -> SigningProblem:
    return SigningProblem(finding(code, path, 1, 1, message, hint))


def check_usable(key: SigningKey, epoch: int) -> None:
    """The certificate must be valid on the documents' date and allow digital signatures."""
    from cryptography import x509

    moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    if not key.not_before <= moment <= key.not_after:
        raise _problem("TF875", key.path, f"the certificate is valid from {key.not_before.date()} to {key.not_after.date()}, "
                       f"not on the documents' date {moment.date()}",
                       "sign with a certificate valid on the build date (SOURCE_DATE_EPOCH or the last commit)")
    certificate = x509.load_der_x509_certificate(key.certificate)
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise _problem("TF875", key.path, "the certificate's key usage allows neither digital signatures nor non-repudiation",
                       "use a certificate issued for signing documents")


def sign_pdf(path: Path, key: SigningKey, epoch: int, reason: str, name: str | None = None) -> None:
    """Sign the PDF at `path` in place with an invisible PAdES B-B signature dated `epoch`."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    original = path.read_bytes()
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(key.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(key.key_pkcs8),
        cert_registry=SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(c) for c in key.chain]),
    )
    meta = signers.PdfSignatureMetadata(field_name=FIELD_NAME, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
                                        reason=reason, name=name or key.subject)
    writer = _metadata_keeping_writer_class()(io.BytesIO(original))
    # pyHanko gives the new revision a random second file id; derive it from the content instead (reproducible).
    first_id = writer._document_id[0]  # noqa: SLF001
    writer._document_id = generic.ArrayObject([first_id, generic.ByteStringObject(hashlib.sha256(original).digest()[:16])])  # noqa: SLF001
    output = io.BytesIO()
    dated = _dated_signer_class()(meta, signer, signing_time=dt.datetime.fromtimestamp(epoch, tz=dt.UTC))
    try:
        dated.sign_pdf(writer, output=output)
    except (SigningError, PdfError, ValueError) as err:
        raise SigningFailed(f"{path.name}: pyHanko could not sign it: {err}") from None
    temporary = path.with_suffix(".signing")
    temporary.write_bytes(output.getvalue())
    temporary.replace(path)


def _metadata_keeping_writer_class() -> type:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    class MetadataKeepingWriter(IncrementalPdfFileWriter):
        """An incremental writer that leaves the document information and the XMP metadata as Typst wrote them
        (pyHanko would restamp both with the clock and itself as producer): the PDF/A-2b identification and the
        agreement between XMP and the information dictionary stay exactly as they were."""

        def _update_meta(self) -> None:
            return None

    return MetadataKeepingWriter


def _dated_signer_class() -> type:
    from pyhanko.sign import signers

    class DatedSigner(signers.PdfSigner):
        """A PdfSigner whose signing time is given, not read from the clock."""

        def __init__(self, *args: Any, signing_time: dt.datetime, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._signing_time = signing_time

        def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
            session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
            session.system_time = self._signing_time
            return session

    return DatedSigner


# --- verifying ----------------------------------------------------------------------------------


@dataclass
class SignatureCheck:
    """What verifying one PDF found."""

    path: str
    signatures: int = 0
    signers: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def load_trust(paths: list[str]) -> list[bytes]:
    """DER certificates from PEM or DER files given with --trust."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    anchors: list[bytes] = []
    for path in paths:
        data = _read(path)
        try:
            certificates = x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data else [x509.load_der_x509_certificate(data)]
        except ValueError as err:
            raise _problem("TF871", Path(path).as_posix(), f"not a certificate: {err}", "give a PEM or DER certificate file") from None
        anchors += [c.public_bytes(serialization.Encoding.DER) for c in certificates]
    return anchors


def verify_pdf(data: bytes, where: str, trust: list[bytes] | None = None) -> SignatureCheck:
    """Check every signature of a PDF: the signed bytes are unchanged, nothing was added after signing that could
    change what is shown, and (with `trust`) the signer's certificate leads to a trusted certificate."""
    _require_pyhanko()
    check = SignatureCheck(where)
    with _quiet_pyhanko():
        _check_signatures(data, where, trust, check)
    return check


@contextmanager
def _quiet_pyhanko() -> Iterator[None]:
    """pyHanko logs every failed path validation with a traceback; the findings are reported as diagnostics instead."""
    loggers = [logging.getLogger(name) for name in ("pyhanko", "pyhanko_certvalidator")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _check_signatures(data: bytes, where: str, trust: list[bytes] | None, check: SignatureCheck) -> None:
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = list(reader.embedded_signatures)
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError) as err:
        check.diagnostics.append(finding("TF876", where, 1, 1, f"the PDF cannot be read as a signed PDF: {err}",
                                         "the file is damaged or was changed; take it from the build again"))
        return
    check.signatures = len(signatures)
    if not signatures:
        check.diagnostics.append(finding("TF878", where, 1, 1, "the PDF carries no signature",
                                         "sign it with `techfile build --sign KEY`; only approved PDFs are signed"))
        return
    roots = [asn1_x509.Certificate.load(c) for c in trust or []]
    for signature in signatures:
        context = ValidationContext(trust_roots=roots, allow_fetching=False)  # no --trust: trust nothing, check integrity
        try:
            status = validate_pdf_signature(signature, context)
        except Exception as err:  # noqa: BLE001 - pyHanko raises many kinds for damaged signatures
            check.diagnostics.append(finding("TF876", where, 1, 1, f"signature {signature.field_name!r} cannot be checked: {err}",
                                             "the file is damaged or was changed after signing"))
            continue
        name = status.signing_cert.subject.human_friendly
        check.signers.append(name)
        if not (status.intact and status.valid):
            check.diagnostics.append(finding("TF876", where, 1, 1, f"signature by {name} does not match the signed bytes",
                                             "the PDF was changed after signing; take it from the build again"))
        elif status.coverage is None or status.coverage.name not in ("ENTIRE_FILE", "ENTIRE_REVISION") or (
                status.modification_level is not None and status.modification_level.name not in ("NONE", "LTA_UPDATES")):
            check.diagnostics.append(finding("TF877", where, 1, 1, f"the PDF was changed after {name} signed it "
                                             f"({status.coverage.name if status.coverage else 'unknown coverage'})",
                                             "only the signed revision is what the signer approved; take it from the build again"))
        elif roots and not status.trusted:
            check.diagnostics.append(finding("TF879", where, 1, 1, f"the signer {name} is not trusted: the certificate does not "
                                             "lead to a certificate given with --trust",
                                             "give the signer's certificate or its CA's with --trust"))


def verify_build(folder: Path, trust: list[bytes] | None = None) -> list[SignatureCheck]:
    """Check a build folder: every output against the manifest's sha256, and the signatures of every PDF the manifest
    records as signed (and of any other PDF that carries one)."""
    manifest_path = folder / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        outputs = {e["path"]: e["sha256"] for e in manifest["outputs"]}
        signed = set(manifest.get("signed_pdfs", {}))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as err:
        check = SignatureCheck(manifest_path.as_posix())
        check.diagnostics.append(finding("TF876", manifest_path.as_posix(), 1, 1, f"the build's manifest cannot be read: {err}",
                                         "verify a folder written by `techfile build`"))
        return [check]
    checks = []
    for relative, expected in sorted(outputs.items()):
        path = folder / relative
        check = SignatureCheck(path.as_posix())
        try:
            data = path.read_bytes()
        except OSError:
            check.diagnostics.append(finding("TF876", path.as_posix(), 1, 1, "the file listed in the manifest is missing",
                                             "take the whole build folder from the build again"))
            checks.append(check)
            continue
        if hashlib.sha256(data).hexdigest() != expected:
            check.diagnostics.append(finding("TF876", path.as_posix(), 1, 1, "the file does not match its sha256 in the manifest",
                                             "the file was changed after the build; take it from the build again"))
        if relative.endswith(".pdf") and (relative in signed or b"/ByteRange" in data):
            pdf_check = verify_pdf(data, path.as_posix(), trust)
            check.signatures, check.signers = pdf_check.signatures, pdf_check.signers
            check.diagnostics += pdf_check.diagnostics
        checks.append(check)
    return checks
