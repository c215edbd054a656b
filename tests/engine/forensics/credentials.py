"""Content credentials made in the test: an ES256 certificate chain and c2pa-python's signer.

c2pa-rs accepts, offline, a chain of a CA and an end-entity certificate with the
digitalSignature key usage, the emailProtection extended key usage and authority/subject
key identifiers; no timestamp authority is named, so nothing is fetched when signing.
"""

from __future__ import annotations

import datetime
import io
from functools import lru_cache

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SIGNER_NAME = "DFW Test Signer"
ROOT_NAME = "DFW Test Root CA"
ORGANISATION = "DFW Test Lab"
AI_GENERATED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION)])


def _usage(sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=sign, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=not sign, crl_sign=not sign,
                         encipher_only=False, decipher_only=False)


@lru_cache(maxsize=1)
def chain() -> tuple[bytes, bytes]:
    """(PEM certificate chain, PEM private key of the signer), made once per test session."""
    now = datetime.datetime.now(datetime.timezone.utc)
    root_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def builder(subject: str, issuer: x509.Name, public: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
        return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer).public_key(public)
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False))

    root = (builder(ROOT_NAME, _name(ROOT_NAME), root_key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_usage(False), critical=True).sign(root_key, hashes.SHA256()))
    leaf = (builder(SIGNER_NAME, root.subject, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    pem = leaf.public_bytes(serialization.Encoding.PEM) + root.public_bytes(serialization.Encoding.PEM)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return pem, private


def manifest(actions: list[dict], title: str = "evidence.jpg") -> dict:
    return {"claim_generator_info": [{"name": "dfw-test-generator", "version": "1.0"}], "title": title,
            "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}}]}


def sign(data: bytes, mime: str, definition: dict, ingredient: tuple[bytes, str, str] | None = None) -> bytes:
    """`data` with a signed, embedded manifest; `ingredient` is (bytes, mime, title)."""
    pem, private = chain()
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, pem, private, None))
    with signer, c2pa.Builder(definition) as builder:
        if ingredient is not None:
            part, part_mime, part_title = ingredient
            builder.add_ingredient({"title": part_title, "relationship": "parentOf"}, part_mime, io.BytesIO(part))
        out = io.BytesIO()
        builder.sign(signer, mime, io.BytesIO(data), out)
        return out.getvalue()
