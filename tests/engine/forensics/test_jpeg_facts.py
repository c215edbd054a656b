"""JPEG tables, quality and the double-compression hint, on files made with known settings."""

from __future__ import annotations

import pytest

from engine.forensics.jpeg_tables import CHROMINANCE, LUMINANCE, describe_table, scaled
from engine.forensics.provenance import inspect_bytes
from engine.forensics.records import Severity
from tests.engine.forensics.scenes import decoded, jpeg_bytes, texture

PICTURE = texture(768, 1024, 21)


def test_libjpeg_scaling_matches_the_published_tables():
    assert scaled(LUMINANCE, 50) == LUMINANCE
    assert scaled(LUMINANCE, 100) == (1,) * 64
    assert scaled(LUMINANCE, 75)[:8] == (8, 6, 5, 8, 12, 20, 26, 31)  # libjpeg's quality-75 table, first row
    assert scaled(CHROMINANCE, 10)[0] == 85


@pytest.mark.parametrize("quality", [35, 50, 75, 90, 95])
def test_pillow_tables_are_libjpeg_standard_at_their_quality(quality):
    report = inspect_bytes(jpeg_bytes(PICTURE, quality))
    facts = report.jpeg
    assert facts is not None and facts.standard_tables
    assert facts.quality_estimate == quality
    assert {t.standard_quality for t in facts.tables} == {quality}
    assert facts.width == 1024 and facts.height == 768 and facts.process == "baseline"
    assert facts.subsampling == "4:2:0" and facts.segments[0].startswith("APP0")


def test_custom_tables_have_a_nearest_quality_but_no_standard_one():
    custom = [[max(1, v + (3 if i % 5 == 0 else 0)) for i, v in enumerate(scaled(LUMINANCE, 80))],
              list(scaled(CHROMINANCE, 80))]
    # Pillow scales given tables by the quality as libjpeg does: 50 keeps them as they are.
    report = inspect_bytes(jpeg_bytes(PICTURE, 50, qtables=custom))
    facts = report.jpeg
    assert not facts.standard_tables and facts.tables[0].standard_quality is None
    assert abs(facts.quality_estimate - 80) <= 3
    tables = [f for f in report.findings if f.check == "jpeg.tables"]
    assert len(tables) == 1 and "custom tables" in tables[0].explanation


def test_a_table_is_described_exactly():
    table = describe_table(0, scaled(LUMINANCE, 62), luminance=True)
    assert table.standard_quality == 62 and table.nearest_quality == 62 and table.mean_deviation == 0


@pytest.mark.parametrize("first, last", [(60, 90), (50, 75), (75, 95)])
def test_a_recompressed_jpeg_gives_the_double_compression_hint(first, last):
    data = jpeg_bytes(decoded(jpeg_bytes(PICTURE, first)), last)
    report = inspect_bytes(data)
    double = report.jpeg.double_compression
    assert double.state == "hint", double
    assert double.modes_supporting >= 3
    assert abs(double.primary_quality - first) <= 8  # the earlier quality, recovered from the histograms
    assert [f.severity for f in report.findings if f.check == "jpeg.double_compression"] == [Severity.NOTEWORTHY]


@pytest.mark.parametrize("quality", [60, 75, 90, 95])
def test_a_jpeg_compressed_once_gives_no_hint(quality):
    double = inspect_bytes(jpeg_bytes(PICTURE, quality)).jpeg.double_compression
    assert double.state == "no hint", double
    assert "does not rule out" in double.note


def test_the_hint_cannot_see_a_resave_at_the_same_quality():
    # Documented limit: recompressing at the same quality leaves the histograms as they were.
    data = jpeg_bytes(decoded(jpeg_bytes(PICTURE, 80)), 80)
    assert inspect_bytes(data).jpeg.double_compression.state == "no hint"


def test_trailing_bytes_after_the_end_of_image_are_named():
    report = inspect_bytes(jpeg_bytes(PICTURE[:64, :64], 90) + b"hidden payload" * 10)
    found = [f for f in report.findings if f.check == "jpeg.structure"]
    assert [f.severity for f in found] == [Severity.NOTEWORTHY] and "140 bytes follow" in found[0].explanation
