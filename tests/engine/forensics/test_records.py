"""Stored reports are read back as untrusted input: every field checked, wrong shapes refused."""

from __future__ import annotations

import json

import pytest

from engine.errors import CaseError
from engine.forensics.provenance import inspect_bytes
from engine.forensics.records import REPORT_SCHEMA, ProvenanceReport, Severity
from tests.engine.forensics.scenes import jpeg_bytes, texture


@pytest.fixture(scope="module")
def stored() -> dict:
    return json.loads(json.dumps(inspect_bytes(jpeg_bytes(texture(64, 64, 1), 90), "x.jpg").to_dict()))


def test_a_stored_report_reads_back_equal(stored):
    report = ProvenanceReport.from_dict(stored)
    assert report.to_dict() == stored and report.findings and report.jpeg.quality_estimate == 90
    assert all(isinstance(f.severity, Severity) for f in report.findings)


@pytest.mark.parametrize("change, words", [
    (lambda d: d.update(size="12"), "report.size"),
    (lambda d: d["findings"][0].update(severity="catastrophic"), "not a known value"),
    (lambda d: d.pop("sha256"), "lacks 'sha256'"),
    (lambda d: d["jpeg"]["tables"][0].update(values="1,2,3"), "a list expected"),
    (lambda d: d.update(findings={"a": 1}), "a list expected"),
    (lambda d: d["tool_versions"].update(Pillow=13), "str expected"),
    (lambda d: d["checks"][0].update(state=None), "not a known value"),
])
def test_wrong_shapes_are_one_line_case_errors(stored, change, words):
    data = json.loads(json.dumps(stored))
    change(data)
    with pytest.raises(CaseError, match=words):
        ProvenanceReport.from_dict(data)


def test_a_newer_layout_is_refused_not_misread(stored):
    data = dict(stored, schema=REPORT_SCHEMA + 1)
    with pytest.raises(CaseError, match="newer"):
        ProvenanceReport.from_dict(data)
