"""The self-test's steps, in order; each does one thing through `engine.api` and checks it.

A step takes the shared `SelfTestContext`, returns one line saying what it did, and raises
on anything wrong (`CheckFailed` for a check that did not hold). Steps build on the ones
before them (the case needs the imported models), so the runner stops running them at the
first failure; cleaning up is not a step here but the runner's `finally`.

The Workstation is imported inside the functions: `engine.api` names this package, so a
module-level import of it from here would be circular.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from engine.analysis.events import EvidenceVerdicts, ItemFailed, RunFinished, RunStarted
from engine.analysis.job import AnalysisJob, ModelChoice
from engine.errors import EngineError
from engine.selftest.environment import providers_available
from engine.selftest.media import write_clip, write_image
from engine.selftest.tiny_models import TinyModel, write_all
from engine.vocab import OverlayMethod, RunStatus

if TYPE_CHECKING:
    from engine.api.case import Case
    from engine.api.workstation import Workstation

FRAMES_PER_CLIP = 4
PROBABILITY_TOLERANCE = 1e-4
T = TypeVar("T")


class CheckFailed(EngineError):
    """Something the self-test checks did not hold."""


@dataclass
class SelfTestContext:
    """What the steps hand on to each other, inside one temporary folder."""

    root: Path
    provider: str = "auto"
    workstation: Workstation | None = None
    models: list[TinyModel] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    image: Path | None = None
    clip: Path | None = None
    case: Case | None = None
    evidence_ids: tuple[int, ...] = ()
    run_id: int | None = None
    available: tuple[str, ...] = ()
    used: list[str] = field(default_factory=list)  # providers sessions really ran on, in order seen

    def ran_on(self, provider: str) -> None:
        for name in provider.split(","):
            if name and name not in self.used:
                self.used.append(name)


def need(value: T | None, what: str) -> T:
    """A value an earlier step made; CheckFailed when it is not there."""
    if value is None:
        raise CheckFailed(f"{what} is missing (an earlier step did not make it)")
    return value


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def step_runtime(ctx: SelfTestContext) -> str:
    import onnxruntime

    ctx.available = providers_available()
    check("cpu" in ctx.available, f"onnxruntime offers no CPU provider ({', '.join(ctx.available)})")
    if ctx.provider not in ("auto", "cpu"):
        check(ctx.provider in ctx.available, f"{ctx.provider} was asked for, but onnxruntime offers only "
                                             f"{', '.join(ctx.available)}")
    return f"onnxruntime {onnxruntime.__version__} offers {', '.join(ctx.available)}"


def step_models(ctx: SelfTestContext) -> str:
    ctx.models = write_all(ctx.root / "models")
    return ", ".join(f"{m.key} {m.input_size}×{m.input_size} ({'/'.join(m.labels)}, {m.attention_layers} attention "
                     f"layer{'s' if m.attention_layers > 1 else ''})" for m in ctx.models) + " written with onnx.helper"


def step_import(ctx: SelfTestContext) -> str:
    from engine.api.workstation import Workstation

    ctx.workstation = Workstation(ctx.root / "home")
    for model in ctx.models:
        summary = ctx.workstation.import_model(model.folder, name=model.folder.name, allow_test_fixture=True)
        check(summary.is_test_fixture, f"{summary.name} was imported without its test-fixture mark")
        check(summary.labels == model.labels, f"{summary.name} has labels {summary.labels}, expected {model.labels}")
        check(bool(summary.manipulated_labels), f"{summary.name}: no label was read as meaning manipulated")
        verified = ctx.workstation.verify_model(summary.name)
        check(verified.ok, f"{summary.name} does not verify after import: changed {verified.changed}, "
                           f"missing {verified.missing}")
        ctx.names.append(summary.name)
    listed = ctx.workstation.list_models()
    check(sorted(m.name for m in listed) == sorted(ctx.names), f"the store lists {[m.name for m in listed]}")
    check(all(m.is_test_fixture for m in listed), "a self-test model is listed as a detector")
    return f"{len(ctx.names)} models imported into a temporary app home, marked as test fixtures, verified"


def step_media(ctx: SelfTestContext) -> str:
    folder = ctx.root / "evidence"
    folder.mkdir()
    ctx.image = write_image(folder / "selftest_image.png")
    ctx.clip = write_clip(folder / "selftest_clip.mp4")
    return f"{ctx.image.name} and a {ctx.clip.stat().st_size:,}-byte mp4v clip {ctx.clip.name} written"


def _probabilities_ok(scores: list[float], sigmoid: bool) -> bool:
    if not all(math.isfinite(s) and 0.0 <= s <= 1.0 for s in scores):
        return False
    return sigmoid or abs(sum(scores) - 1.0) < PROBABILITY_TOLERANCE


def step_score(ctx: SelfTestContext) -> str:
    workstation = need(ctx.workstation, "the app home")
    image = need(ctx.image, "the image")
    ran: list[str] = []
    notes: set[str] = set()
    for name, model in zip(ctx.names, ctx.models):
        scorer = workstation.scorer(ModelChoice(name), provider=ctx.provider)
        (result,) = scorer.score([str(image)])
        check(result.error is None, f"{name} could not score {image.name}: {result.error}")
        scores = [float(p["score"]) for p in result.predictions]
        check(len(scores) == len(model.labels) and _probabilities_ok(scores, len(model.labels) == 1),
              f"{name} gave impossible probabilities {scores}")
        check(result.p_manipulated is not None and 0.0 <= result.p_manipulated <= 1.0,
              f"{name} gave no p(manipulated)")
        check(ctx.provider == "auto" or scorer.provider == ctx.provider,
              f"{ctx.provider} was asked for but {name} ran on {scorer.provider}"
              + (f" ({scorer.notes[0]})" if scorer.notes else ""))
        ctx.ran_on(scorer.provider)
        notes.update(scorer.notes)
        ran.append(f"{name} p={result.p_manipulated:.3f}")
    fallback = f" (note: {'; '.join(sorted(notes))})" if notes else ""
    return f"{image.name} scored on {', '.join(ctx.used)}: {', '.join(ran)}{fallback}"


def step_case(ctx: SelfTestContext) -> str:
    workstation = need(ctx.workstation, "the app home")
    media = [str(need(ctx.image, "the image")), str(need(ctx.clip, "the clip"))]
    folder = ctx.root / "case"
    folder.mkdir()
    ctx.case = workstation.create_case(folder / "selftest.dfwcase", title="Self-test", examiner="self-test",
                                       actor="self-test")
    report = ctx.case.add_evidence(media)
    check(not report.refused, f"evidence refused: {'; '.join(r.reason for r in report.refused)}")
    check(len(report.new) == 2, f"{len(report.new)} of 2 evidence files were added")
    ctx.evidence_ids = tuple(item.evidence.id for item in report.new)
    kinds = [item.evidence.media_kind for item in report.new]
    return f"temporary case created, image and clip added ({', '.join(str(k) for k in kinds)})"


def step_analyze(ctx: SelfTestContext) -> str:
    case = need(ctx.case, "the case")
    job = AnalysisJob(models=tuple(ModelChoice(n) for n in ctx.names), frames_per_clip=FRAMES_PER_CLIP,
                      explain=True, provider=ctx.provider, allow_test_fixtures=True)
    failures: list[str] = []
    verdicts = 0
    finished: RunFinished | None = None
    for event in case.analyze(job):
        if isinstance(event, RunStarted):
            ctx.run_id = event.run_id
            ctx.ran_on(event.provider)
        elif isinstance(event, ItemFailed):
            failures.append(f"evidence {event.evidence_id} {event.model or 'all models'} {event.stage}: {event.message}")
        elif isinstance(event, EvidenceVerdicts):
            verdicts += 1
        elif isinstance(event, RunFinished):
            finished = event
    check(not failures, "; ".join(failures[:3]))
    check(finished is not None and finished.status == RunStatus.COMPLETED,
          f"the run ended {finished.status if finished else 'without finishing'}")
    check(verdicts == len(ctx.evidence_ids), f"verdicts for {verdicts} of {len(ctx.evidence_ids)} items")
    return f"run {ctx.run_id}: {len(ctx.names)} models × {verdicts} items done on {', '.join(ctx.used)}; " \
           + _check_results(case, ctx)


def _check_results(case: Case, ctx: SelfTestContext) -> str:
    """Every item has frame scores from every model and an attention-rollout overlay of each."""
    run_id = need(ctx.run_id, "the run")
    frames = 0
    overlays = 0
    for evidence_id in ctx.evidence_ids:
        rows = list(case.results(run_id, evidence_id))
        check({r.model for r in rows} >= set(ctx.names), f"evidence {evidence_id} lacks scores of some models")
        frames += len({r.frame_index for r in rows})
        for name in ctx.names:
            stored = case.overlays(run_id, evidence_id, model=name)
            check(bool(stored), f"no overlay of {name} for evidence {evidence_id}")
            methods = {o.method for o in stored}
            check(methods == {OverlayMethod.ROLLOUT}, f"{name} overlays are {sorted(methods)}, not attention rollout")
            overlay = case.overlay_image(stored[0].id)
            check(overlay is not None, f"the overlay of {name} cannot be read back")
            overlays += len(stored)
    return f"{frames} frames scored, {overlays} attention-rollout overlays stored and read back"


def step_verify(ctx: SelfTestContext) -> str:
    case = need(ctx.case, "the case")
    report = case.verify()
    check(report.ok, "; ".join(report.problems[:3]) or "verification failed")
    return f"{len(report.evidence)} evidence files re-hashed, audit chain of {report.audit_rows} rows intact"


def step_report(ctx: SelfTestContext) -> str:
    case = need(ctx.case, "the case")
    out = ctx.root / "selftest_report.pdf"
    result = case.export_report(str(out), "pdf")
    check(result.ok, "the report says the evidence or the audit log changed")
    with open(out, "rb") as handle:
        check(handle.read(5) == b"%PDF-", f"{out.name} is not a PDF")
    check(Path(result.sidecar).is_file(), "the report's SHA-256 sidecar is missing")
    return f"PDF report of {result.size:,} bytes written with its SHA-256 sidecar"


Step = Callable[[SelfTestContext], str]
STEPS: tuple[tuple[str, Step], ...] = (
    ("runtime", step_runtime),
    ("tiny models", step_models),
    ("import models", step_import),
    ("generated media", step_media),
    ("score image", step_score),
    ("case", step_case),
    ("analyze with overlays", step_analyze),
    ("verify case", step_verify),
    ("PDF report", step_report),
)
