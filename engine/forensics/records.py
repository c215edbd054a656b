"""Provenance findings and the report that holds them, as frozen JSON-ready records.

A finding is one fact about how a file was made or written (a signed "AI-generated" action,
a generator named in a text chunk, a camera named without the fields cameras write), with a
severity, one line saying what it means, the field it came from and the tool (with version)
that read it. A report holds the findings of one file plus which checks were done, which
were not possible and why, and the structured facts behind them (content credentials, JPEG
tables). Findings are evidence about the file's history; they are never folded into a
detector's verdict.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from engine.forensics.serial import from_jsonable, to_jsonable

# Version of the report layout; a reader refuses a newer one rather than misreading it.
REPORT_SCHEMA = 1
MAX_VALUE_CHARS = 500


class Severity(str, enum.Enum):
    INFORMATIVE = "informative"
    NOTEWORTHY = "noteworthy"
    STRONG = "strong indication"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Severity.INFORMATIVE: 0, Severity.NOTEWORTHY: 1, Severity.STRONG: 2}


class CheckState(str, enum.Enum):
    DONE = "done"
    NOT_POSSIBLE = "not possible"  # it applies, but could not be made (offline, damaged file)
    NOT_APPLICABLE = "not applicable"  # e.g. JPEG tables of a PNG
    FAILED = "failed"  # the reader broke on this file; the message says how
    SKIPPED = "skipped"  # left out on purpose (e.g. at intake, where it would cost too much)


@dataclass(frozen=True)
class CheckRecord:
    name: str  # "c2pa.signature", "jpeg.double_compression", ...
    state: CheckState
    note: str = ""


@dataclass(frozen=True)
class ProvenanceFinding:
    check: str  # stable identifier of what found it, e.g. "xmp.digital_source_type"
    severity: Severity
    explanation: str  # one line an examiner can read aloud
    source: str  # the field it came from, e.g. "XMP Iptc4xmpExt:DigitalSourceType"
    tool: str  # what read it, e.g. "c2pa-python", "Pillow", "dfw-forensics"
    tool_version: str
    value: str | None = None  # the value as found, cut to MAX_VALUE_CHARS


def clipped(value: object, limit: int = MAX_VALUE_CHARS) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class C2paAction:
    action: str  # "c2pa.created", "c2pa.edited", ...
    digital_source_type: str | None = None
    software_agent: str | None = None
    when: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class C2paIngredient:
    title: str | None
    format: str | None
    relationship: str | None  # "parentOf", "componentOf", "inputTo"
    has_manifest: bool = False
    validation_failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContentCredentials:
    """What the C2PA library reported about a file's manifest store, offline."""

    present: bool
    manifest_count: int = 0
    active_manifest: str | None = None
    embedded: bool | None = None
    remote_url: str | None = None  # never fetched: reading is offline
    claim_generator: str | None = None
    title: str | None = None
    signer_subject: str | None = None
    signer_issuer: str | None = None
    signature_algorithm: str | None = None
    signed_at: str | None = None  # from a trusted timestamp, when the manifest has one
    validation_state: str | None = None  # the library's own word: "Valid", "Invalid", "Trusted"
    signature_valid: bool | None = None  # the claim signature checked out cryptographically
    binding_matches: bool | None = None  # the hash binding still matches the file's bytes
    trusted: bool | None = None  # None: no trust list configured, so trust was not judged
    failures: tuple[tuple[str, str], ...] = ()  # (code, explanation) as the library reported them
    informational: tuple[tuple[str, str], ...] = ()
    actions: tuple[C2paAction, ...] = ()
    ingredients: tuple[C2paIngredient, ...] = ()


@dataclass(frozen=True)
class QuantTable:
    table_id: int
    values: tuple[int, ...]  # 64 steps in natural (row-major) order
    standard_quality: int | None  # libjpeg's Annex K table scaled to this quality, exactly
    nearest_quality: int  # the libjpeg quality whose table is closest
    mean_deviation: float  # mean |step − libjpeg step| at nearest_quality


@dataclass(frozen=True)
class DoubleCompression:
    state: str  # "hint", "no hint", "not possible", "skipped"
    note: str
    modes_tested: int = 0
    modes_supporting: int = 0
    primary_steps: tuple[tuple[int, int, int], ...] = ()  # (zig-zag mode, last step, estimated first step)
    primary_quality: int | None = None  # libjpeg quality whose steps best fit the estimated first steps


@dataclass(frozen=True)
class JpegFacts:
    width: int | None
    height: int | None
    process: str | None  # "baseline", "extended", "progressive", "lossless"
    components: int | None
    subsampling: str | None  # "4:2:0", "4:4:4", ...
    segments: tuple[str, ...]  # "APP0 JFIF", "APP1 Exif", "APP11 JUMBF", ... in file order
    tables: tuple[QuantTable, ...]
    quality_estimate: int | None  # libjpeg-equivalent quality of the luminance table
    standard_tables: bool  # every table is libjpeg's at one quality
    double_compression: DoubleCompression | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProvenanceReport:
    """Every provenance finding about one file, and which checks could be made."""

    path: str
    sha256: str
    size: int
    media_kind: str  # "image", "video", "other"
    file_format: str  # sniffed from the bytes, not the name
    inspected_at: str  # UTC, ISO 8601
    tool_versions: dict[str, str]
    findings: tuple[ProvenanceFinding, ...]
    checks: tuple[CheckRecord, ...]
    credentials: ContentCredentials | None = None
    jpeg: JpegFacts | None = None
    schema: int = REPORT_SCHEMA

    @property
    def strongest(self) -> Severity | None:
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = to_jsonable(self)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> ProvenanceReport:
        """Read a stored report back (CaseError when it is not one this program wrote)."""
        from engine.errors import CaseError  # noqa: PLC0415

        if isinstance(data, dict) and isinstance(data.get("schema"), int) and data["schema"] > REPORT_SCHEMA:
            raise CaseError(f"stored provenance report has layout {data['schema']}, newer than this program's "
                            f"({REPORT_SCHEMA}): open it with a newer version")
        return from_jsonable(cls, data, "report")


@dataclass(frozen=True)
class Found:
    """What one check returns: its findings, its state, and any facts it extracted."""

    findings: list[ProvenanceFinding] = field(default_factory=list)
    checks: list[CheckRecord] = field(default_factory=list)
