"""What a resume may take from a case, and what it checks first: a case is untrusted input.

A cancelled or interrupted run's record says which models and settings it used, and anyone
who had the case file could have edited it, so nothing in it selects code or files. Models
are loaded only by their recorded name from the model store (never from a path in the
record: a run started from a model folder cannot be resumed), must be byte for byte the
files the run recorded (the ONNX file and, when recorded, its configuration files), and a
random-weight test fixture needs the resuming job's own permission. The settings are read
again with their types, ranges and known names. A YuNet face model is never opened from
the path the run recorded: the analyst gives the file again, and it must have the SHA-256
the run recorded. An imported face detector is taken like a model: by its recorded name from
the app home's face detector store only, with the SHA-256 the run recorded.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

from engine.analysis.aggregate import AggregationError
from engine.analysis.job import AnalysisJob, ModelChoice
from engine.case import Run
from engine.errors import CaseError, MediaError, ModelError, SettingsError
from engine.media.face_store import FaceDetectorStore, is_detector_name
from engine.models.spec import ModelSpec
from engine.models.store import ModelStore, is_model_name
from engine.util.hashing import sha256_file
from engine.vocab import FaceMode

_SHA256 = re.compile(r"[0-9a-f]{64}")


def yunet_digest(path: str) -> str:
    """SHA-256 of a YuNet face model file the analyst gave (refusing folders, devices, pipes)."""
    if not os.path.isfile(path):
        raise MediaError(f"YuNet face model not found (or not a regular file): {path}")
    try:
        return sha256_file(path)
    except OSError as exc:
        raise MediaError(f"cannot read the YuNet face model {path}: {exc.strerror or exc}") from None


def recorded_choice(name: str) -> ModelChoice:
    """The stored model and variant a recorded model name stands for ("det", "det:int8")."""
    base, colon, variant = name.partition(":")
    return ModelChoice(base, variant if colon else None)


def recorded_models(run: Run) -> list[Mapping[str, Any]]:
    """The run's model records, each with a name, or CaseError when the record is damaged."""
    models = run.models
    if not isinstance(models, list) or not models:
        raise CaseError(f"run {run.id} records no models to resume with; start a new run")
    names: list[str] = []
    for model in models:
        name = model.get("name") if isinstance(model, Mapping) else None
        if not isinstance(name, str) or not name:
            raise CaseError(f"run {run.id}'s record of its models is damaged (an entry has no name); start a new run")
        if name in names:
            raise CaseError(f"run {run.id} records the model {name!r} twice; start a new run")
        names.append(name)
    return models


def resumed_job(run: Run, job: AnalysisJob, names: tuple[str, ...]) -> AnalysisJob:
    """`job` with the run's recorded settings, checked; its own provider, fixture permission
    and YuNet file (which must be the one the run used)."""
    try:
        restored = job.restored(run.settings, tuple(recorded_choice(name) for name in names))
        restored.check(names)
    except (SettingsError, AggregationError) as exc:
        raise SettingsError(f"run {run.id} cannot be resumed: its recorded settings are unusable: {exc}") from None
    return _with_yunet(run, restored)


def _with_yunet(run: Run, job: AnalysisJob) -> AnalysisJob:
    settings = run.settings
    recorded_path, recorded_sha = settings.get("yunet_path"), settings.get("yunet_sha256")
    if job.face_mode == FaceMode.OFF or not (recorded_path or recorded_sha):
        return replace(job, yunet_path=None, yunet_sha256=None)  # as recorded: no YuNet
    if not isinstance(recorded_sha, str) or not _SHA256.fullmatch(recorded_sha):
        raise SettingsError(f"run {run.id} found faces with a YuNet model but recorded no SHA-256 of it, so a "
                            "resume cannot prove it uses the same file; start a new run")
    if not job.yunet_path:
        raise SettingsError(f"run {run.id} found faces with the YuNet model {recorded_sha[:12]}…: give the same "
                            "file again to resume it (--yunet FILE; in the window, the face detector in Preferences)")
    digest = yunet_digest(job.yunet_path)
    if digest != recorded_sha:
        raise SettingsError(f"the YuNet file {Path(job.yunet_path).name} is not the one run {run.id} used "
                            f"(SHA-256 {digest[:12]}…, the run recorded {recorded_sha[:12]}…)")
    return replace(job, yunet_sha256=digest)


def resumed_face_detector(run: Run, job: AnalysisJob, home: Path) -> AnalysisJob:
    """`job` with the imported face detector the run recorded, by name from the store, checked
    to be the file the run used; or with none when the run used none."""
    settings = run.settings
    name, recorded_sha = settings.get("face_detector"), settings.get("face_detector_sha256")
    if job.face_mode == FaceMode.OFF or not (name or recorded_sha):
        return replace(job, face_detector=None, face_detector_sha256=None)
    if not isinstance(name, str) or not is_detector_name(name) or not isinstance(recorded_sha, str) \
            or not _SHA256.fullmatch(recorded_sha):
        raise SettingsError(f"run {run.id}'s record of its face detector is damaged (a name and a SHA-256 are "
                            "needed); start a new run")
    store = FaceDetectorStore(home)
    if not store.has(name):
        raise SettingsError(f"run {run.id} found faces with the imported face detector {name!r}, which is not "
                            "imported now; import the same file again under that name, or start a new run")
    stored = store.get(name)
    if stored.sha256 != recorded_sha:
        raise SettingsError(f"the face detector {name!r} is not the file run {run.id} used (SHA-256 "
                            f"{stored.sha256[:12]}…, the run recorded {recorded_sha[:12]}…); start a new run")
    return replace(job, yunet_path=None, yunet_sha256=None, face_detector=name, face_detector_sha256=recorded_sha)


def same_face_detector(run: Run, record: Mapping[str, Any] | None) -> None:
    """Refuse to resume with a face detector other than the one the run recorded (another
    OpenCV's cascade, other thresholds): one run must find faces one way throughout."""
    recorded = run.settings.get("face_detection", "unrecorded")
    if record is None or recorded == record:
        return
    if recorded == "unrecorded":
        raise SettingsError(f"run {run.id} was started before runs recorded their face detector, so a resume "
                            "cannot find faces as it did; start a new run")
    differs = sorted(key for key in set(record) | set(recorded if isinstance(recorded, Mapping) else {})
                     if not isinstance(recorded, Mapping) or recorded.get(key) != record.get(key))
    raise SettingsError(f"the face detector is not the one run {run.id} used ({', '.join(differs) or 'its record'} "
                        "differ); start a new run")


def resumed_specs(run: Run, records: list[Mapping[str, Any]], job: AnalysisJob,
                  home: Path) -> tuple[dict[str, ModelSpec], dict[str, ModelChoice]]:
    """The run's models from the store, by the names its results carry."""
    store = ModelStore(home)
    specs: dict[str, ModelSpec] = {}
    requested: dict[str, ModelChoice] = {}
    for record in records:
        name = str(record["name"])
        specs[name] = _stored_spec(run.id, name, record, store, job.allow_test_fixtures)
        requested[name] = recorded_choice(name)
    return specs, requested


def _stored_spec(run_id: int, name: str, record: Mapping[str, Any], store: ModelStore,
                 allow_test_fixtures: bool) -> ModelSpec:
    base, variant = recorded_choice(name)
    asked = record.get("requested_as") or base
    if asked not in (base, name) or not is_model_name(base):
        if is_model_name(asked):
            raise ModelError(f"run {run_id}'s record of the model {name!r} names another model ({asked!r}); "
                             "start a new run")
        raise ModelError(f"run {run_id} loaded the model {name!r} from a folder, not from the model store, so it "
                         "cannot be resumed (a resume loads models only by name from the store): import the model "
                         "(`models import FOLDER`) and start a new run with it")
    if not store.has(base):
        raise ModelError(f"run {run_id} used the model {base!r}, which is not in the model store now; import it "
                         "again under that name, or start a new run")
    spec = store.load(base, variant)  # refuses a stored file changed since import
    if variant is not None:
        spec = spec.with_name(f"{spec.name}:{spec.variant}")
    if spec.name != name:
        raise ModelError(f"run {run_id}'s record of the model {name!r} is inconsistent; start a new run")
    recorded_sha = record.get("sha256")
    if recorded_sha != spec.onnx_sha256:
        said = (f"recorded {recorded_sha[:12]}…" if isinstance(recorded_sha, str) and _SHA256.fullmatch(recorded_sha)
                else "recorded no usable SHA-256")
        raise ModelError(f"model {name!r} is not the file run {run_id} used (SHA-256 {spec.onnx_sha256[:12]}…, the "
                         f"run {said}); start a new run instead")
    if "config_sha256" in record and record["config_sha256"] != dict(spec.config_sha256):
        recorded = record["config_sha256"] if isinstance(record["config_sha256"], Mapping) else {}
        changed = sorted(f for f in set(recorded) | set(spec.config_sha256)
                         if recorded.get(f) != spec.config_sha256.get(f)) or ["the file list"]
        raise ModelError(f"the configuration of model {name!r} is not the one run {run_id} used "
                         f"({', '.join(map(repr, changed))} differ); start a new run instead")
    if spec.is_test_fixture and not allow_test_fixtures:
        raise ModelError(f"{name} is a random-weight test fixture, not a detector; refused")
    return spec
