"""A detached CMS (PKCS#7) signature over a bundle's SHA256SUMS, made and checked with pyHanko's CMS tools.

Signing needs the sender's key, read as for signing PDFs (`signing.load_signing_key`: a PKCS#12 file, or a PEM
private key with its certificate). Checking needs the certificate the recipient expects: the signature must be by
that certificate's key, over exactly these SHA256SUMS. The certificate is pinned, not validated against a chain of
trust: the recipient gets it from the sender out of band."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from techfile.integrations import MissingExtra

if TYPE_CHECKING:
    from techfile.publish.signing import SigningKey

DIGESTS = ("sha256", "sha384", "sha512")
MAX_SIGNATURE_BYTES = 1 << 20


class SignatureError(Exception):
    """The key, the certificate or the signature cannot be used: the message says which and why."""


def _need_pyhanko() -> None:
    try:
        import pyhanko  # noqa: F401
    except ImportError:
        raise MissingExtra("sign") from None


def sign(key: SigningKey, data: bytes, signing_time: dt.datetime) -> bytes:
    """A detached CMS signature (DER) of `data` with SHA-256, naming `signing_time` (the build date, so a bundle
    signed twice with an RSA key is byte-identical). `key` comes from `signing.load_signing_key`, as for PDFs."""
    import asyncio

    from asn1crypto import keys, x509
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes, SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    cms_signer = SimpleSigner(signing_cert=x509.Certificate.load(key.certificate),
                              signing_key=keys.PrivateKeyInfo.load(key.key_pkcs8),
                              cert_registry=SimpleCertificateStore.from_certs([x509.Certificate.load(c) for c in key.chain]))
    try:
        signed = asyncio.run(cms_signer.async_sign_general_data(
            data, "sha256", detached=True, signed_attr_settings=PdfCMSSignedAttributes(signing_time=signing_time)))
    except (ValueError, TypeError, NotImplementedError) as err:
        raise SignatureError(f"cannot sign with the key in {key.path}: {err}") from None
    return signed.dump()


def load_certificate(path: str | Path) -> Any:
    """The certificate (PEM or DER) that a recipient expects the bundle to be signed with, as an asn1crypto object."""
    from asn1crypto import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    certificates = _certificates(_read(path, "certificate"), path)
    if len(certificates) != 1:
        raise SignatureError(f"{Path(path).as_posix()} holds {len(certificates)} certificates; give the signer's alone")
    return x509.Certificate.load(certificates[0].public_bytes(Encoding.DER))


@dataclass(frozen=True)
class SignatureCheck:
    """What the signature says: who signed (the signer certificate's subject) and whether it holds."""

    signer: str
    problem: str | None = None  # None: the signature is valid over the data


def check_signature(signature: bytes, data: bytes, expected: Any | None = None) -> SignatureCheck:
    """Check a detached CMS signature over `data`: by the key of `expected` (an asn1crypto certificate) when given,
    else by the certificate the signature carries (which proves integrity, not who signed)."""
    _need_pyhanko()
    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import validate_sig_integrity

    if len(signature) > MAX_SIGNATURE_BYTES:
        return SignatureCheck("unknown", f"larger than {MAX_SIGNATURE_BYTES >> 10} KiB; not a techfile signature")
    try:
        info = cms.ContentInfo.load(signature, strict=True)
        if info["content_type"].native != "signed_data":
            return SignatureCheck("unknown", "not a CMS signed-data signature")
        signed_data = info["content"]
        signer_infos = list(signed_data["signer_infos"])
        detached = signed_data["encap_content_info"]["content"].native is None
        carried = [c.chosen for c in signed_data["certificates"] or () if c.name == "certificate"]
    except (ValueError, TypeError, KeyError) as err:
        return SignatureCheck("unknown", f"cannot be read as a CMS signature ({err})")
    if len(signer_infos) != 1:
        return SignatureCheck("unknown", f"holds {len(signer_infos)} signatures; a techfile bundle is signed once")
    if not detached:
        return SignatureCheck("unknown", "carries its own content; a techfile signature is detached")
    signer_info = signer_infos[0]
    named = next((c for c in carried if _identifies(signer_info["sid"], c)), None)
    signer = _subject(named) if named is not None else "an unnamed signer"
    if expected is not None and not _identifies(signer_info["sid"], expected):
        return SignatureCheck(signer, f"signed by another certificate ({signer}), not the expected one "
                                      f"({_subject(expected)})")
    certificate = expected if expected is not None else named
    if certificate is None:
        return SignatureCheck(signer, "the signature carries no certificate to check it with; give --expect-cert")
    algorithm = signer_info["digest_algorithm"]["algorithm"].native
    if algorithm not in DIGESTS:
        return SignatureCheck(signer, f"made with the digest {algorithm}; techfile accepts {', '.join(DIGESTS)}")
    try:
        intact, valid = validate_sig_integrity(signer_info, certificate, "data", hashlib.new(algorithm, data).digest())
    except Exception as err:  # noqa: BLE001 - pyHanko raises several kinds for a signature that does not hold
        reason = getattr(err, "failure_message", None) or str(err)
        return SignatureCheck(signer, f"does not hold for {_subject(certificate)}: {reason}")
    if not intact:
        return SignatureCheck(signer, "was made over other content: SHA256SUMS changed after it was signed")
    if not valid:
        return SignatureCheck(signer, "is invalid: it was not made with the key of "
                                      f"{_subject(certificate)}")
    return SignatureCheck(signer)


def _subject(certificate: Any) -> str:
    """An asn1crypto certificate's subject, written as RFC 4514 says (as `openssl x509 -subject -nameopt rfc2253`)."""
    from cryptography import x509

    return x509.load_der_x509_certificate(certificate.dump()).subject.rfc4514_string()


def _identifies(sid: Any, certificate: Any) -> bool:
    """Whether a SignerInfo's signer identifier names `certificate`."""
    if sid.name == "issuer_and_serial_number":
        return sid.chosen["issuer"] == certificate.issuer and sid.chosen["serial_number"].native == certificate.serial_number
    return sid.chosen.native == certificate.key_identifier


def _certificates(data: bytes, path: str | Path) -> list[Any]:
    from cryptography import x509

    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise SignatureError(f"{Path(path).as_posix()}: not a certificate (PEM or DER)") from None


def _read(path: str | Path, what: str) -> bytes:
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_SIGNATURE_BYTES + 1)
    except OSError as err:
        raise SignatureError(f"{Path(path).as_posix()}: cannot read the {what} file: {err.strerror}") from None
    if len(data) > MAX_SIGNATURE_BYTES:
        raise SignatureError(f"{Path(path).as_posix()}: larger than {MAX_SIGNATURE_BYTES >> 10} KiB; not a {what} file")
    return data
