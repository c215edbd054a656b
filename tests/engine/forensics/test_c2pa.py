"""Content credentials read back offline from files signed in the test."""

from __future__ import annotations

import hashlib
import io
import json
import os

import c2pa
import pytest

from engine.forensics.jpeg_markers import parse_jpeg
from engine.forensics.provenance import inspect_bytes, inspect_file
from engine.forensics.records import CheckState, ProvenanceReport, Severity
from tests.engine.forensics.credentials import (
    AI_GENERATED,
    ROOT_NAME,
    SIGNER_NAME,
    chain,
    manifest,
    sign,
)
from tests.engine.forensics.scenes import jpeg_bytes, png_bytes, texture

ACTIONS = [{"action": "c2pa.created", "digitalSourceType": AI_GENERATED},
           {"action": "c2pa.color_adjustments", "softwareAgent": {"name": "Test Editor", "version": "2.0"}}]


@pytest.fixture(scope="module")
def signed_jpeg() -> bytes:
    parent = jpeg_bytes(texture(96, 128, 7), 85)
    return sign(jpeg_bytes(texture(192, 256, 3), 90), "image/jpeg", manifest(ACTIONS),
                ingredient=(parent, "image/jpeg", "parent.jpg"))


def _check(report: ProvenanceReport, name: str) -> CheckState:
    return next(c.state for c in report.checks if c.name == name)


def _found(report: ProvenanceReport, check: str) -> list:
    return [f for f in report.findings if f.check == check]


def test_a_signed_manifest_reads_back_present_valid_with_its_actions(signed_jpeg):
    report = inspect_bytes(signed_jpeg)
    cred = report.credentials
    assert cred is not None and cred.present and cred.manifest_count >= 1
    assert cred.signature_valid is True and cred.binding_matches is True
    assert cred.validation_state == "Valid"  # untrusted signer, yet well formed and intact
    assert cred.claim_generator == "dfw-test-generator 1.0"
    assert f"CN={SIGNER_NAME}" in cred.signer_subject and f"CN={ROOT_NAME}" in cred.signer_issuer
    assert [(a.action, a.digital_source_type) for a in cred.actions] == [
        ("c2pa.created", AI_GENERATED), ("c2pa.color_adjustments", None)]
    assert cred.actions[1].software_agent == "Test Editor 2.0"
    assert [(i.title, i.relationship) for i in cred.ingredients] == [("parent.jpg", "parentOf")]
    declared = [f for f in _found(report, "c2pa.actions") if f.severity == Severity.STRONG]
    assert len(declared) == 1 and "trainedAlgorithmicMedia" in declared[0].explanation
    assert declared[0].tool == "c2pa-python" and "c2pa-rs" in declared[0].tool_version
    assert report.strongest == Severity.STRONG


def test_checks_say_what_was_verified_and_what_offline_reading_cannot(signed_jpeg):
    report = inspect_bytes(signed_jpeg)
    assert _check(report, "c2pa.signature") == CheckState.DONE
    assert _check(report, "c2pa.binding") == CheckState.DONE
    assert _check(report, "c2pa.trust") == CheckState.NOT_POSSIBLE
    assert _check(report, "c2pa.revocation") == CheckState.NOT_POSSIBLE
    assert report.credentials.trusted is None
    # "untrusted" is the library's word for "no trust list": it must not read as a finding against the signer.
    assert not any("untrusted" in f.explanation for f in report.findings if f.severity != Severity.INFORMATIVE)


def test_one_changed_pixel_byte_breaks_the_binding_not_the_signature(signed_jpeg):
    layout = parse_jpeg(signed_jpeg)
    scan = next(offset for marker, offset, _ in layout.segments if marker == 0xDA)
    changed = bytearray(signed_jpeg)
    changed[scan + 200] ^= 0x01  # inside the entropy-coded picture data
    report = inspect_bytes(bytes(changed))
    cred = report.credentials
    assert cred.present and cred.binding_matches is False and cred.signature_valid is True
    assert cred.validation_state == "Invalid"
    broken = _found(report, "c2pa.binding")
    assert [f.severity for f in broken] == [Severity.STRONG]
    assert "assertion.dataHash.mismatch" in {code for code, _ in cred.failures}


def test_a_png_carries_credentials_too():
    capture = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
    data = sign(png_bytes(texture(64, 64, 1)), "image/png",
                manifest([{"action": "c2pa.created", "digitalSourceType": capture}], "x.png"))
    report = inspect_bytes(data)
    cred = report.credentials
    assert cred.present and cred.binding_matches is True and cred.actions[0].action == "c2pa.created"
    assert report.strongest == Severity.INFORMATIVE  # a declared camera capture raises nothing


def test_no_manifest_is_informative_and_says_absence_shows_nothing():
    report = inspect_bytes(jpeg_bytes(texture(64, 64, 2), 90))
    assert report.credentials is not None and not report.credentials.present
    absent = _found(report, "c2pa.manifest")
    assert [f.severity for f in absent] == [Severity.INFORMATIVE] and "shows nothing" in absent[0].explanation


def test_a_damaged_manifest_is_a_finding_not_a_crash(signed_jpeg):
    layout = parse_jpeg(signed_jpeg)
    _marker, offset, length = next(s for s in layout.segments if s[0] == 0xEB)  # APP11: JUMBF
    damaged = bytearray(signed_jpeg)
    for i in range(offset + 40, offset + 40 + min(64, length - 40)):
        damaged[i] ^= 0x5A
    report = inspect_bytes(bytes(damaged))
    assert _check(report, "c2pa.manifest") in (CheckState.DONE, CheckState.FAILED)
    assert any(f.check.startswith("c2pa") and f.severity != Severity.INFORMATIVE for f in report.findings)


def test_the_report_round_trips_through_json(signed_jpeg):
    report = inspect_bytes(signed_jpeg, "evidence.jpg")
    again = ProvenanceReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report


def test_the_evidence_file_is_only_read(tmp_path, signed_jpeg):
    path = tmp_path / "signed.jpg"
    path.write_bytes(signed_jpeg)
    os.chmod(path, 0o444)
    before = (os.stat(path).st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
    report = inspect_file(path, expected_sha256=before[1])
    assert report.sha256 == before[1] and report.credentials.present
    assert (os.stat(path).st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signed.jpg"]  # nothing written beside it


def test_a_remote_manifest_is_named_and_never_fetched():
    pem, private = chain()
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, pem, private, None))
    url = "http://192.0.2.1/manifest.c2pa"  # TEST-NET-1: nothing answers there
    with signer, c2pa.Builder(manifest(ACTIONS)) as builder:
        builder.set_no_embed()
        builder.set_remote_url(url)
        out = io.BytesIO()
        builder.sign(signer, "image/jpeg", io.BytesIO(jpeg_bytes(texture(64, 64, 4), 90)), out)
    report = inspect_bytes(out.getvalue())
    assert report.credentials.present and report.credentials.remote_url == url
    assert _check(report, "c2pa.manifest") == CheckState.NOT_POSSIBLE
    assert [f.severity for f in _found(report, "c2pa.manifest")] == [Severity.NOTEWORTHY]
