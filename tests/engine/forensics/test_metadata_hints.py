"""Generator hints, camera fields, thumbnails and dates on files whose answer is known."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import PngImagePlugin

from engine.forensics.names import DIGITAL_SOURCE_TYPES, IPTC_PREFIX
from engine.forensics.provenance import inspect_bytes
from engine.forensics.records import ProvenanceReport, Severity
from tests.engine.forensics.scenes import (
    exif_block,
    jpeg_bytes,
    png_bytes,
    texture,
    xmp_packet,
)

PICTURE = texture(240, 320, 11)
A1111 = ("a portrait of an astronaut, studio light\nNegative prompt: blurry\nSteps: 30, Sampler: DPM++ 2M Karras, "
         "CFG scale: 7, Seed: 1234, Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly")
CAMERA = {0x010F: (2, "Canon"), 0x0110: (2, "Canon EOS 5D Mark IV")}
CAMERA_FIELDS = {0x829A: (5, (1, 125)), 0x829D: (5, (28, 10)), 0x8827: (3, 400), 0x920A: (5, (50, 1)),
                 0x9003: (2, "2021:06:01 12:00:00"), 0x9004: (2, "2021:06:01 12:00:00")}


def _findings(report: ProvenanceReport, check: str) -> list:
    return [f for f in report.findings if f.check == check]


@pytest.mark.parametrize("code", sorted(DIGITAL_SOURCE_TYPES))
@pytest.mark.parametrize("form", ["attribute", "element"])
def test_each_digital_source_type_in_xmp(code, form):
    uri = IPTC_PREFIX + code
    if form == "attribute":
        body = f'<rdf:Description rdf:about="" Iptc4xmpExt:DigitalSourceType="{uri}"/>'
    else:
        body = (f'<rdf:Description rdf:about=""><Iptc4xmpExt:DigitalSourceType rdf:resource="{uri}"/>'
                "</rdf:Description>")
    report = inspect_bytes(jpeg_bytes(PICTURE, 90, xmp=xmp_packet(body)))
    found = _findings(report, "xmp.digital_source_type")
    assert len(found) == 1, report.findings
    assert found[0].severity == DIGITAL_SOURCE_TYPES[code][0] and code in found[0].explanation
    assert found[0].value == uri and found[0].source == "XMP Iptc4xmpExt:DigitalSourceType"


def test_ai_generation_is_a_strong_indication_and_a_capture_is_not():
    assert DIGITAL_SOURCE_TYPES["trainedAlgorithmicMedia"][0] == Severity.STRONG
    assert DIGITAL_SOURCE_TYPES["compositeWithTrainedAlgorithmicMedia"][0] == Severity.STRONG
    assert DIGITAL_SOURCE_TYPES["digitalCapture"][0] == Severity.INFORMATIVE


def test_xmp_creator_tool_and_history_name_the_generator_and_the_editor():
    body = ('<rdf:Description rdf:about="" xmp:CreatorTool="Adobe Firefly"><xmpMM:History><rdf:Seq>'
            '<rdf:li stEvt:action="saved" stEvt:softwareAgent="Adobe Photoshop 25.0 (Windows)"/>'
            "</rdf:Seq></xmpMM:History></rdf:Description>")
    report = inspect_bytes(jpeg_bytes(PICTURE, 90, xmp=xmp_packet(body)))
    named = {f.value: f.severity for f in _findings(report, "metadata.software")}
    assert named == {"Adobe Firefly": Severity.STRONG, "Adobe Photoshop 25.0 (Windows)": Severity.NOTEWORTHY}


@pytest.mark.parametrize("chunk", ["tEXt", "zTXt", "iTXt"])
def test_png_generation_parameters(chunk):
    info = PngImagePlugin.PngInfo()
    if chunk == "tEXt":
        info.add_text("parameters", A1111)
    else:
        info.add_text("parameters", A1111, zip=True) if chunk == "zTXt" else info.add_itxt("parameters", A1111,
                                                                                            zip=True)
    report = inspect_bytes(png_bytes(PICTURE, pnginfo=info))
    found = _findings(report, "generator.parameters")
    assert [f.severity for f in found] == [Severity.STRONG]
    assert "Model: v1-5-pruned-emaonly" in found[0].value and "Seed: 1234" in found[0].value
    assert found[0].source == f"PNG {chunk} 'parameters'"


def test_comfyui_graph_in_a_png_names_its_checkpoint():
    graph = {"4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}},
             "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat"}}}
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps(graph))
    info.add_text("workflow", json.dumps({"nodes": [{"id": 4, "type": "CheckpointLoaderSimple"}]}))
    report = inspect_bytes(png_bytes(PICTURE, pnginfo=info))
    found = _findings(report, "generator.workflow")
    assert len(found) == 2 and all(f.severity == Severity.STRONG for f in found)
    assert any("ComfyUI" in f.explanation and "sd_xl_base_1.0.safetensors" in f.explanation for f in found)


def test_a1111_parameters_in_exif_user_comment_of_a_jpeg():
    comment = b"UNICODE\x00" + A1111.encode("utf-16-be")
    report = inspect_bytes(jpeg_bytes(PICTURE, 90, exif=exif_block({}, {0x9286: (7, comment)})))
    found = _findings(report, "generator.parameters")
    assert [f.severity for f in found] == [Severity.STRONG] and found[0].source == "EXIF UserComment"


@pytest.mark.parametrize("software, severity", [("Adobe Photoshop 24.1 (Macintosh)", Severity.NOTEWORTHY),
                                                ("Stable Diffusion XL", Severity.STRONG),
                                                ("FaceFusion 2.6", Severity.STRONG),
                                                ("Ver.1.0.3", Severity.INFORMATIVE)])
def test_exif_software_names(software, severity):
    report = inspect_bytes(jpeg_bytes(PICTURE, 90, exif=exif_block({0x0131: (2, software)})))
    found = _findings(report, "metadata.software")
    assert [(f.severity, f.value) for f in found] == [(severity, software)]
    assert found[0].source == "EXIF IFD0 Software" and found[0].tool == "Pillow"


def test_a_camera_named_without_the_fields_a_camera_writes():
    bare = inspect_bytes(jpeg_bytes(PICTURE, 90, exif=exif_block(CAMERA, {0x9003: (2, "2021:06:01 12:00:00")})))
    full = inspect_bytes(jpeg_bytes(PICTURE, 90, exif=exif_block(CAMERA, CAMERA_FIELDS)))
    assert [f.severity for f in _findings(bare, "exif.camera_fields")] == [Severity.NOTEWORTHY]
    assert "ExposureTime" in _findings(bare, "exif.camera_fields")[0].explanation
    assert [f.severity for f in _findings(full, "exif.camera_fields")] == [Severity.INFORMATIVE]
    # libjpeg's own tables under a camera's name: written again by software
    assert [f.severity for f in _findings(full, "cross.camera_tables")] == [Severity.NOTEWORTHY]


def _with_thumbnail(main: np.ndarray, thumb: np.ndarray) -> ProvenanceReport:
    block = exif_block(CAMERA, CAMERA_FIELDS, jpeg_bytes(thumb, 85))
    return inspect_bytes(jpeg_bytes(main, 92, exif=block))


def test_an_exif_thumbnail_of_another_picture():
    other = texture(120, 160, 99)
    found = _findings(_with_thumbnail(PICTURE, other), "exif.thumbnail")
    assert [f.severity for f in found] == [Severity.STRONG] and "different picture" in found[0].explanation


def test_an_exif_thumbnail_of_the_same_picture_matches():
    from PIL import Image

    small = np.asarray(Image.fromarray(PICTURE).resize((160, 120), Image.Resampling.BOX))
    found = _findings(_with_thumbnail(PICTURE, small), "exif.thumbnail")
    assert [f.severity for f in found] == [Severity.INFORMATIVE] and "matches" in found[0].explanation


def test_a_local_edit_after_the_thumbnail_was_written():
    from PIL import Image

    small = np.asarray(Image.fromarray(PICTURE).resize((160, 120), Image.Resampling.BOX))
    edited = PICTURE.copy()
    edited[60:140, 100:200] = texture(80, 100, 5)  # a region replaced after the camera wrote its preview
    found = _findings(_with_thumbnail(edited, small), "exif.thumbnail")
    assert [f.severity for f in found] in ([Severity.NOTEWORTHY], [Severity.STRONG])


def test_dates_that_contradict_each_other():
    modified_first = exif_block({0x0132: (2, "2020:01:01 09:00:00")}, {0x9003: (2, "2021:06:01 12:00:00")})
    report = inspect_bytes(jpeg_bytes(PICTURE, 90, exif=modified_first))
    assert [f.severity for f in _findings(report, "dates.order")] == [Severity.NOTEWORTHY]

    def with_xmp(create: str) -> ProvenanceReport:
        block = exif_block({}, {0x9003: (2, "2021:06:01 12:00:00")})
        xmp = xmp_packet(f'<rdf:Description rdf:about="" xmp:CreateDate="{create}"/>')
        return inspect_bytes(jpeg_bytes(PICTURE, 90, exif=block, xmp=xmp))

    assert [f.severity for f in _findings(with_xmp("2021-06-04T12:00:00"), "dates.contradict")] == [Severity.NOTEWORTHY]
    assert _findings(with_xmp("2021-06-01T14:00:00+02:00"), "dates.zone")  # a time-zone slip, informative
    assert not _findings(with_xmp("2021-06-01T14:00:00+02:00"), "dates.contradict")
    assert not [f for f in with_xmp("2021-06-01T12:00:00").findings if f.check.startswith("dates")]
    future = inspect_bytes(jpeg_bytes(PICTURE, 90, exif=exif_block({}, {0x9003: (2, "2999:01:01 00:00:00")})))
    assert [f.severity for f in _findings(future, "dates.future")] == [Severity.NOTEWORTHY]


def test_a_plain_picture_has_no_finding_above_informative():
    report = inspect_bytes(png_bytes(PICTURE))
    assert report.strongest == Severity.INFORMATIVE
