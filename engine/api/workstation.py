"""`Workstation`: the model store, scoring, providers, and the doors to cases, for one app home.

The window and the command line both start here. Everything a user can do with models
(import with the label meaning confirmed, verify, remove, make a validated INT8 variant,
score images without a case) and with case files (create, open) is one call, reporting
through plain `progress` / `is_cancelled` callables. Results are frozen records.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from engine.analysis.job import ModelChoice
from engine.api.case import Case
from engine.api.records import FaceDetectorSummary, ModelSummary, ProviderFacts, ProviderProbe
from engine.api.scoring import Scorer
from engine.case.lock import lock_holder
from engine.case.repair import RepairResult, repair_case
from engine.case.store import CaseStore, default_actor
from engine.errors import CaseForeign, CaseNotWritable, ModelError
from engine.forensics.maps import ForensicMap
from engine.forensics.provenance import inspect_file
from engine.forensics.records import ProvenanceReport
from engine.forensics.service import map_of_file
from engine.media.face_store import FaceDetectorStore, StoredFaceDetector
from engine.models.calibration import CalibrationSet, calibration_from_paths
from engine.models.loader import ModelOverrides, load_model
from engine.models.quantize import VARIANT_TARGETS, QuantizeOutcome, QuantizeRecipe, Thresholds, quantize_stored_model
from engine.models.runtime import SHORT_NAMES, planned_provider, probe_provider
from engine.models.spec import ModelSpec
from engine.models.store import ModelCheck, ModelStore, StoredModel
from engine.paths import app_home
from engine.util.progress import IsCancelled, Progress
from engine.vocab import Judges


def _summary(stored: StoredModel) -> ModelSummary:
    spec = stored.manifest.get("spec", {})
    labels = tuple(str(label) for label in spec.get("labels") or ())
    meaning = spec.get("meaning") or {}
    if meaning.get("judges") != Judges.AUTHENTICITY:
        manipulated: tuple[str, ...] = ()
    elif spec.get("activation") == "sigmoid":
        manipulated = (f"1 − {labels[0]}",) if meaning.get("sigmoid_means_real") and labels else labels[:1]
    else:
        manipulated = tuple(labels[i] for i in meaning.get("manipulated_indices", ()) if 0 <= i < len(labels))
    size = spec.get("input_size")
    return ModelSummary(
        name=stored.name, architecture=spec.get("architecture"), layout=stored.manifest.get("layout"),
        labels=labels, judges=meaning.get("judges"), manipulated_labels=manipulated,
        meaning=str(meaning.get("explanation") or ""), meaning_source=str(meaning.get("source") or ""),
        input_size=(int(size[0]), int(size[1])) if isinstance(size, list) and len(size) == 2 else None,
        preprocess=spec.get("preprocess"), sha256=spec.get("sha256"),
        variants=tuple(stored.manifest.get("variants") or ()), default_variant=stored.manifest.get("default_variant"),
        imported_at=stored.manifest.get("imported_at"), imported_from=stored.manifest.get("imported_from"),
        source=spec.get("source"), is_test_fixture=stored.is_test_fixture,
        quantization=dict(stored.manifest.get("quantization") or {}),
    )


def _face_summary(stored: StoredFaceDetector) -> FaceDetectorSummary:
    return FaceDetectorSummary(stored.name, stored.kind, stored.sha256, stored.size, stored.imported_at,
                               stored.imported_from)


class Workstation:
    """One app home: its model store and the cases opened from it."""

    def __init__(self, home: str | os.PathLike[str] | None = None) -> None:
        self._home_given = home
        self._home: Path | None = None

    @property
    def home(self) -> Path:
        """The app home folder (created on first use, so commands that need no models never make one)."""
        if self._home is None:
            self._home = app_home(self._home_given)
        return self._home

    @property
    def _models(self) -> ModelStore:
        return ModelStore(self.home)

    # -- models --------------------------------------------------------------------------
    def list_models(self) -> list[ModelSummary]:
        return [_summary(stored) for stored in self._models.list()]

    def model(self, name: str) -> ModelSummary:
        return _summary(self._models.get(name))

    def inspect_model(self, path: str | os.PathLike[str], *, overrides: ModelOverrides | None = None,
                      variant: str | None = None) -> ModelSpec:
        """Read a model folder or .onnx without importing it. Raises MeaningUnknown (with the
        labels) when the label names do not say which output means manipulated."""
        return load_model(Path(path).expanduser(), variant=variant, overrides=overrides)

    def import_model(self, path: str | os.PathLike[str], *, name: str | None = None,
                     overrides: ModelOverrides | None = None, variant: str | None = None,
                     allow_test_fixture: bool = False, progress: Progress | None = None) -> ModelSummary:
        stored = self._models.import_model(Path(path), name, overrides=overrides, variant=variant,
                                           allow_test_fixture=allow_test_fixture, progress=progress)
        return _summary(stored)

    def verify_model(self, name: str, progress: Progress | None = None) -> ModelCheck:
        return self._models.verify(name, progress)

    def remove_model(self, name: str) -> None:
        self._models.remove(name)

    # -- face detectors (CenterFace, YuNet) ------------------------------------------------
    def import_face_detector(self, path: str | os.PathLike[str], *, name: str | None = None,
                             kind: str | None = None) -> FaceDetectorSummary:
        """Copy a CenterFace or YuNet ONNX file into the app home (kind read from the graph when
        not given), refusing one a detector of that kind cannot run."""
        return _face_summary(FaceDetectorStore(self.home).import_file(Path(path), name, kind))

    def list_face_detectors(self) -> list[FaceDetectorSummary]:
        return [_face_summary(stored) for stored in FaceDetectorStore(self.home).list()]

    def remove_face_detector(self, name: str) -> None:
        FaceDetectorStore(self.home).remove(name)

    def calibration_from_paths(self, paths: Iterable[str | os.PathLike[str]], *, frames_per_video: int = 8,
                               max_images: int = 256) -> CalibrationSet:
        return calibration_from_paths(paths, frames_per_video=frames_per_video, max_images=max_images)

    def quantize_model(self, name: str, calibration: CalibrationSet, *, thresholds: Thresholds = Thresholds(),
                       force: bool = False, recipe: QuantizeRecipe = QuantizeRecipe(), use: str = "auto",
                       target: str = "int8", progress: Progress | None = None,
                       is_cancelled: IsCancelled | None = None) -> QuantizeOutcome:
        """Make (or take the folder's own) faster variant and keep it only if it agrees with fp32.

        target: "int8" (onnxruntime; `recipe` and `use` say how) or "openvino-bf16" (the fp32
        file on OpenVINO's CPU plugin in bfloat16; needs the openvino extra and a CPU with bf16).
        """
        if target not in VARIANT_TARGETS:
            raise ModelError(f"unknown variant {target!r}: choose {' or '.join(VARIANT_TARGETS)}")
        recipe_of_model = self._models.load(name).preprocess
        if target == "openvino-bf16":
            from engine.models.openvino_variant import make_openvino_variant  # noqa: PLC0415 - optional package

            return make_openvino_variant(
                self._models, name, calibration.images(recipe_of_model), source=calibration.source,
                count=calibration.expected_count, thresholds=thresholds, force=force, progress=progress,
                is_cancelled=is_cancelled)
        return quantize_stored_model(
            self._models, name, calibration.images(recipe_of_model), source=calibration.source,
            count=calibration.expected_count, thresholds=thresholds, force=force, recipe=recipe, use=use,
            progress=progress, is_cancelled=is_cancelled)

    def export_checkpoint(self, checkpoint_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str],
                          opset: int = 17) -> Path:
        """PyTorch checkpoint folder → ONNX model folder (needs the optional 'export' extra)."""
        from engine.models.export import export_checkpoint  # noqa: PLC0415 - torch only when asked

        return Path(export_checkpoint(checkpoint_dir, out_dir, opset=opset))

    def scorer(self, model: ModelChoice, *, provider: str = "auto", batch_size: int = 8,
               overrides: ModelOverrides | None = None) -> Scorer:
        """A model ready to score images without a case (`score`)."""
        from engine.models.store import resolve_model  # noqa: PLC0415

        return Scorer(resolve_model(model.name, self.home, variant=model.variant, overrides=overrides),
                      provider, batch_size)

    # -- providers -----------------------------------------------------------------------
    @staticmethod
    def providers(preference: str = "auto") -> ProviderFacts:
        import onnxruntime as ort  # noqa: PLC0415

        # Only the providers this program can choose between (TensorRT and the like are not offered).
        available = tuple(SHORT_NAMES[p] for p in ort.get_available_providers() if p in SHORT_NAMES)
        return ProviderFacts(available, planned_provider(preference, ort))

    @staticmethod
    def probe_provider(preference: str = "auto") -> ProviderProbe:
        """Which provider a run would really use now (builds a tiny session: about a second with CUDA)."""
        info = probe_provider(preference)
        return ProviderProbe(preference, info.provider, info.fallback_reason)

    # -- cases ---------------------------------------------------------------------------
    def create_case(self, path: str | os.PathLike[str], *, title: str, examiner: str, number: str | None = None,
                    organisation: str | None = None, actor: str | None = None) -> Case:
        store = CaseStore.create(path, title, examiner, number, organisation, actor or default_actor())
        return Case(store, self)

    @staticmethod
    def repair_case(source: str | os.PathLike[str], out: str | os.PathLike[str], *,
                    actor: str | None = None) -> RepairResult:
        """Write a clean copy of a case that holds things this program did not write (foreign
        triggers, views, tables, columns): only the known tables and columns are copied, the
        audit log carries over and records what was left behind. The source is only read."""
        return repair_case(source, out, actor or default_actor())

    def open_case(self, path: str | os.PathLike[str], *, readonly: bool = False, actor: str | None = None) -> Case:
        """Open a case for writing, or read-only when asked or when it cannot be written now
        (another program holds it, or the file is write-protected): `Case.readonly_reason`
        and `Case.holder` then say why and who. Corrupt, foreign or too-new files raise
        CaseError and are never modified."""
        if readonly:
            return Case(CaseStore.open(path, readonly=True, actor=actor), self, readonly_reason="opened read-only")
        try:
            return Case(CaseStore.open(path, actor=actor), self)
        except CaseNotWritable as exc:
            store = CaseStore.open(path, readonly=True, actor=actor)
            # Only a live writer has a holder worth naming; a foreign case was refused by this very call.
            holder = None if isinstance(exc, CaseForeign) else lock_holder(path)
            return Case(store, self, readonly_reason=exc.reason, holder=holder, refusal=str(exc))

    # -- forensics without weights (kept apart from detector verdicts) ------------------------
    @staticmethod
    def inspect(path: str | os.PathLike[str]) -> ProvenanceReport:
        """Provenance findings of a file, no case needed: content credentials (C2PA, offline),
        generator hints in its metadata, JPEG tables and a recompression hint. Read-only."""
        return inspect_file(Path(path).expanduser())

    @staticmethod
    def forensic_map(path: str | os.PathLike[str], kind: str, *, frame_index: int = 0,
                     **params: int | float | str) -> ForensicMap:
        """One forensic map (`FORENSIC_MAP_KINDS`) of an image or a video frame, no case needed;
        wrong parameters are a SettingsError before anything is decoded."""
        return map_of_file(Path(path).expanduser(), kind, frame_index, **params)
