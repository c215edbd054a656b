"""Dates in EXIF and XMP that contradict each other, or the clock.

A camera writes the capture time into EXIF DateTimeOriginal and DateTimeDigitized (the
same value) and usually DateTime too; editors add XMP CreateDate / ModifyDate. These are
compared as wall-clock times, since EXIF has no time zone and XMP usually does: a difference
of whole hours is reported as a likely time-zone slip, anything else as a contradiction. A
file "modified" before it was "taken", or dated in the future, is noteworthy. Dates are only
claims: consistent dates prove nothing, and any of them is trivial to rewrite.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from engine.forensics.exif_facts import (
    DATETIME,
    DATETIME_DIGITIZED,
    DATETIME_ORIGINAL,
    ExifFacts,
)
from engine.forensics.records import Found, Severity
from engine.forensics.tools import finding
from engine.forensics.xmp import XmpFacts

SLACK = timedelta(seconds=60)
_DATE = re.compile(r"^(\d{4})[:-](\d{2})[:-](\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?"
                   r"\s*(Z|[+-]\d{2}:?\d{2})?\s*$")

# name → (label, which moment it claims)
EXIF_DATES = {DATETIME_ORIGINAL: ("EXIF DateTimeOriginal", "taken"), DATETIME_DIGITIZED: ("EXIF DateTimeDigitized", "digitized"),
              DATETIME: ("EXIF DateTime", "modified")}
XMP_DATES = {"exif:DateTimeOriginal": "taken", "photoshop:DateCreated": "taken", "xmp:CreateDate": "taken",
             "xmp:ModifyDate": "modified", "xmp:MetadataDate": "modified"}


def parse_date(text: str) -> tuple[datetime, bool] | None:
    """(wall-clock time, has a time of day) of an EXIF or XMP date; None when it is neither."""
    found = _DATE.match(text.strip())
    if not found:
        return None
    year, month, day, hour, minute, second, _zone = found.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    return moment, hour is not None


def _collect(exif: ExifFacts | None, xmp: XmpFacts | None, found: Found) -> list[tuple[str, str, datetime, bool]]:
    dates: list[tuple[str, str, datetime, bool]] = []
    raw: list[tuple[str, str, str]] = []
    if exif is not None:
        for tag, (label, role) in EXIF_DATES.items():
            value = exif.text(tag, "main" if tag == DATETIME else "exif")
            if value:
                raw.append((label, role, value))
    if xmp is not None:
        for name, role in XMP_DATES.items():
            value = xmp.first(name)
            if value:
                raw.append((f"XMP {name}", role, value))
    for label, role, value in raw:
        parsed = parse_date(value)
        if parsed is None:
            if not value.startswith("0000"):  # "0000:00:00 00:00:00" is the standard's "unknown"
                found.findings.append(finding("dates.format", Severity.INFORMATIVE,
                                              f"{label} is not a date in the standard form", label, value=value))
            continue
        dates.append((label, role, parsed[0], parsed[1]))
    return dates


def check_dates(exif: ExifFacts | None, xmp: XmpFacts | None, found: Found, now: datetime | None = None) -> None:
    dates = _collect(exif, xmp, found)
    clock = (now or datetime.now(timezone.utc)).replace(tzinfo=None) + timedelta(days=1)
    for label, _role, moment, _timed in dates:
        if moment > clock:
            found.findings.append(finding("dates.future", Severity.NOTEWORTHY,
                                          f"{label} lies in the future ({moment:%Y-%m-%d %H:%M})", label,
                                          value=moment.isoformat()))
    taken = [d for d in dates if d[1] == "taken"]
    for other in taken[1:]:  # each against the first: EXIF's own capture time when there is one
        _compare_taken(taken[0], other, found)
    for label, _role, moment, timed in (d for d in dates if d[1] == "modified"):
        earliest = min((d for d in taken if d[3] and timed), key=lambda d: d[2], default=None)
        if earliest is not None and moment < earliest[2] - SLACK and not _zone_slip(earliest[2] - moment):
            found.findings.append(finding(
                "dates.order", Severity.NOTEWORTHY,
                f"{label} ({moment:%Y-%m-%d %H:%M:%S}) is earlier than {earliest[0]} ({earliest[2]:%Y-%m-%d %H:%M:%S}): "
                "modified before it was taken", f"{label}, {earliest[0]}"))
    original = next((d for d in dates if d[0] == "EXIF DateTimeOriginal"), None)
    digitized = next((d for d in dates if d[0] == "EXIF DateTimeDigitized"), None)
    if original and digitized and abs(original[2] - digitized[2]) > SLACK:
        found.findings.append(finding(
            "dates.digitized", Severity.INFORMATIVE,
            "EXIF DateTimeDigitized differs from DateTimeOriginal: usual for a scan, not for a camera's own picture",
            "EXIF DateTimeOriginal, DateTimeDigitized", value=f"{original[2]} / {digitized[2]}"))


def _zone_slip(gap: timedelta) -> bool:
    seconds = abs(gap.total_seconds())
    return seconds <= 14 * 3600 + 60 and min(seconds % 1800, 1800 - seconds % 1800) <= 60


def _compare_taken(first: tuple[str, str, datetime, bool], second: tuple[str, str, datetime, bool],
                   found: Found) -> None:
    (label_a, _, a, timed_a), (label_b, _, b, timed_b) = first, second
    gap = abs(a - b) if timed_a and timed_b else timedelta(days=abs((a.date() - b.date()).days))
    if timed_a and timed_b and gap <= SLACK or not (timed_a and timed_b) and gap <= timedelta(days=1):
        return
    if timed_a and timed_b and _zone_slip(gap):
        found.findings.append(finding(
            "dates.zone", Severity.INFORMATIVE,
            f"{label_a} and {label_b} differ by {gap}: most likely a time-zone slip", f"{label_a}, {label_b}",
            value=f"{a} / {b}"))
        return
    found.findings.append(finding(
        "dates.contradict", Severity.NOTEWORTHY,
        f"{label_a} and {label_b} claim different capture times ({gap} apart)", f"{label_a}, {label_b}",
        value=f"{a} / {b}"))
