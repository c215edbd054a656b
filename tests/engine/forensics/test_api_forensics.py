"""The forensics doors of engine.api: Workstation.inspect / forensic_map, Case.provenance / forensic_map."""

from __future__ import annotations

import json

import cv2
import pytest

from engine.api import (
    FORENSIC_MAP_KINDS,
    FindingSeverity,
    ProvenanceReport,
    Workstation,
    provenance_metadata,
)
from engine.errors import MediaError, SettingsError
from tests.engine.forensics.credentials import AI_GENERATED, manifest, sign
from tests.engine.forensics.scenes import jpeg_bytes, texture


@pytest.fixture
def files(tmp_path):
    signed = tmp_path / "signed.jpg"
    signed.write_bytes(sign(jpeg_bytes(texture(192, 256, 3), 90), "image/jpeg",
                            manifest([{"action": "c2pa.created", "digitalSourceType": AI_GENERATED}])))
    clip = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10, (128, 96))
    for n in range(5):
        writer.write(texture(96, 128, 40 + n))
    writer.release()
    return {"signed": signed, "clip": clip}


def test_workstation_inspects_a_loose_file(files):
    report = Workstation.inspect(files["signed"])
    assert isinstance(report, ProvenanceReport) and report.strongest == FindingSeverity.STRONG
    assert report.credentials.present and report.media_kind == "image"


def test_a_video_gets_its_credentials_checked_and_metadata_checks_marked(files):
    report = Workstation.inspect(files["clip"])
    assert report.media_kind == "video"
    states = {c.name: c.state.value for c in report.checks}
    assert states["exif"] == "not applicable" and states["jpeg.tables"] == "not applicable"
    assert "c2pa.manifest" in states


def test_case_doors_check_the_hash_and_cache_the_maps(tmp_path, files):
    workstation = Workstation(tmp_path / "home")
    with workstation.create_case(tmp_path / "c.dfwcase", title="F", examiner="Ann") as case:
        added = case.add_evidence([files["signed"], files["clip"]])
        photo, clip = (item.evidence.id for item in added.added)
        report = case.provenance(photo)
        assert report.sha256 == case.evidence(photo).sha256 and report.credentials.present
        ela = case.forensic_map(photo, 0, "ela", quality=80)
        assert ela.rgb.shape == (192, 256, 3) and ela.params["quality"] == 80
        assert case.forensic_map(photo, 0, "ela", quality=80) is ela
        frame = case.forensic_map(clip, 3, "noise", block=8)
        assert frame.values.shape == (96, 128)
        with pytest.raises(SettingsError):
            case.forensic_map(photo, 0, "ela", quality=500)
        with pytest.raises(MediaError, match="one frame"):
            case.forensic_map(photo, 1, "residual")
        data = bytearray(files["signed"].read_bytes())
        data[-10] ^= 0xFF
        files["signed"].write_bytes(bytes(data))  # the file changes after it was added
        with pytest.raises(MediaError, match="changed"):
            case.provenance(photo)
        with pytest.raises(MediaError, match="changed"):
            case.forensic_map(photo, 0, "ela", quality=80)


def test_workstation_maps_a_video_frame(files):
    made = Workstation.forensic_map(files["clip"], "spectrum", frame_index=2, tile=64)
    assert made.kind == "spectrum" and made.values.shape == (64, 64)
    assert set(FORENSIC_MAP_KINDS) == {"ela", "noise", "residual", "spectrum"}


def test_the_intake_hook_describes_and_never_raises(files, tmp_path):
    import hashlib

    digest = hashlib.sha256(files["signed"].read_bytes()).hexdigest()
    described = provenance_metadata(files["signed"], digest)
    again = ProvenanceReport.from_dict(json.loads(json.dumps(described["provenance"])))
    assert again.sha256 == digest and again.credentials.present
    # the one check that decodes the whole picture is left to the on-demand report
    assert again.jpeg.double_compression.state == "skipped"
    assert {c.name: c.state.value for c in again.checks}["jpeg.double_compression"] == "skipped"
    full = provenance_metadata(files["signed"], digest, recompression=True)["provenance"]
    assert full["jpeg"]["double_compression"]["state"] != "skipped"
    assert "changed" in provenance_metadata(files["signed"], "0" * 64)["provenance_error"]
    assert "not found" in provenance_metadata(tmp_path / "gone.jpg", digest)["provenance_error"]
