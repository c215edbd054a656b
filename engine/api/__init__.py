"""The one door into the engine: what the window (gui/) and the command line (engine/cli/) use.

`Workstation` holds an app home (its model store) and opens cases; `Case` is one open case
file and everything done with it. Jobs, events and records are frozen values, so a GUI can
build a job on its own thread and hand it to an engine thread, and get events back as they
are. Long calls take plain `progress(done, total, message)` and `is_cancelled()` callables.
Errors are the EngineError family of engine.errors, each a one-line sentence.

Nothing outside engine/ imports any other engine module (a test holds gui/ and engine/cli/
to this), so everything a client may need is named here.
"""

from engine.analysis.aggregate import RULES, Rule
from engine.analysis.agreement import ModelAgreement
from engine.analysis.events import (
    EvidenceVerdicts, ItemFailed, ItemScored, RunEvent, RunFinished, RunProgress, RunStarted,
)
from engine.analysis.job import AnalysisJob, ModelChoice
from engine.analysis.timeline import FrameRegion, Timeline, TimelineFrame, TimelinePoint, TimelineSeries
from engine.analysis.verdicts import VerdictRecord, VerdictSettings, verdict_note
from engine.api.case import Case
from engine.case.keptmaps import KeptMap
from engine.api.records import (
    CaseOverview, EvidenceDetails, EvidenceSummary, FaceDetectorSummary, ImageScore, ModelSummary, ProviderFacts,
    ProviderProbe, RunOfItem, RunSummary, VerificationRecord,
)
from engine.api.scoring import Scorer
from engine.api.workstation import Workstation
from engine.case.intake import AddedItem, AddReport, RefusedItem
from engine.case.repair import RepairResult
from engine.case.records import Annotation, CaseInfo, Evidence, FrameResult, ItemError, OverlayRecord, Run, Verdict
from engine.case.store import SUFFIX as CASE_SUFFIX
from engine.case.store import default_actor, default_case_path
from engine.case.verify import SCOPE as VERIFY_SCOPE
from engine.case.verify import EvidenceCheck, VerifyReport
from engine.explain.overlay import CAVEAT as OVERLAY_CAVEAT
from engine.explain.colormap import colour_table as overlay_colours
from engine.explain.overlay import Overlay
from engine.forensics.maps import KINDS as FORENSIC_MAP_KINDS
from engine.forensics.maps import PARAMETERS as FORENSIC_MAP_PARAMETERS
from engine.forensics.maps import ForensicMap
from engine.forensics.records import (
    C2paAction, C2paIngredient, CheckRecord, CheckState, ContentCredentials, DoubleCompression, JpegFacts,
    ProvenanceFinding, ProvenanceReport, QuantTable,
)
from engine.forensics.records import Severity as FindingSeverity
from engine.forensics.service import provenance_metadata
from engine.forensics.spectrum import SpectrumPeak
from engine.logs import setup_logging
from engine.media.face_store import FACE_DETECTOR_KINDS
from engine.media.reader import thumbnail
from engine.models.calibration import CalibrationSet
from engine.models.loader import ModelOverrides
from engine.models.runtime import FALLBACK_MARK as PROVIDER_FALLBACK_MARK
from engine.models.quantize import (
    VARIANT_TARGETS, QuantizeOutcome, QuantizeRecipe, Thresholds, describe_quantization, split_lines,
)
from engine.models.runtime import PREFERENCES as PROVIDER_PREFERENCES
from engine.models.store import ModelCheck
from engine.report.export import FORMATS as REPORT_FORMATS
from engine.report.export import ReportResult
from engine.report.runsel import parse_runs as parse_report_runs
from engine.selftest.environment import version_facts
from engine.selftest.records import SelfTestReport, StepResult
from engine.selftest.run import run_self_test
from engine.paths import resources_dir
from engine.version import APP_NAME, __version__
from engine.vocab import (
    ENSEMBLE, AnnotationKind, BookmarkStatus, EvidenceStatus, FaceMode, FailureStage, Judges, OverlayMethod,
    RegionKind, RunStatus, VerdictLabel,
)

__all__ = [
    "VARIANT_TARGETS",
    "APP_NAME", "CASE_SUFFIX", "PROVIDER_FALLBACK_MARK", "ENSEMBLE", "OVERLAY_CAVEAT", "PROVIDER_PREFERENCES", "REPORT_FORMATS", "RULES",
    "AddReport", "AddedItem", "AnalysisJob", "Annotation", "AnnotationKind", "BookmarkStatus", "CalibrationSet",
    "Case", "CaseInfo", "KeptMap", "CaseOverview", "Evidence", "EvidenceCheck", "EvidenceStatus", "EvidenceSummary",
    "EvidenceDetails", "EvidenceVerdicts", "FaceMode", "FailureStage", "FrameRegion", "FrameResult", "ImageScore", "ItemError",
    "ItemFailed", "ItemScored", "Judges", "ModelAgreement", "ModelCheck", "ModelChoice", "ModelOverrides", "ModelSummary", "Overlay",
    "OverlayMethod", "OverlayRecord", "ProviderFacts", "ProviderProbe", "QuantizeOutcome", "QuantizeRecipe", "RefusedItem",
    "RegionKind", "RepairResult", "ReportResult", "Rule", "Run", "RunEvent", "RunFinished", "RunProgress", "RunStarted", "RunStatus",
    "RunOfItem", "RunSummary", "Scorer", "Thresholds", "Timeline", "TimelineFrame", "TimelinePoint", "TimelineSeries", "Verdict",
    "VerdictLabel", "VerdictRecord", "VerdictSettings", "VerificationRecord", "VERIFY_SCOPE", "VerifyReport", "Workstation", "__version__", "verdict_note", "split_lines",
    "default_actor", "default_case_path", "describe_quantization", "overlay_colours", "resources_dir", "thumbnail",
    # reports (engine/report/)
    "parse_report_runs",
    # imported face detectors (engine/media/face_store.py)
    "FACE_DETECTOR_KINDS", "FaceDetectorSummary",
    # provenance findings and forensic maps (engine/forensics/), never part of a verdict
    "C2paAction", "C2paIngredient", "CheckRecord", "CheckState", "ContentCredentials", "DoubleCompression",
    "FORENSIC_MAP_KINDS", "FORENSIC_MAP_PARAMETERS", "FindingSeverity", "ForensicMap", "JpegFacts",
    "ProvenanceFinding", "ProvenanceReport", "QuantTable", "SpectrumPeak", "provenance_metadata",
    # installation checks and logs (engine/selftest/, engine/logs.py)
    "SelfTestReport", "StepResult", "run_self_test", "setup_logging", "version_facts",
]
