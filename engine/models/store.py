"""The model store: imported detectors, each copied into the app home with a manifest.

Import copies files (never links: a model must not change under a case because a download
folder did), hashes every file while copying and again after, and only then moves the
copy into place, so a failed import leaves nothing half-imported. The manifest keeps what
the user stated at import (labels, meaning, preprocessing for a bare .onnx), so loading the
stored copy always yields the same `ModelSpec`. Random-weight test fixtures are refused
unless explicitly allowed, and are marked wherever they are listed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import ModelError
from engine.util.fileutil import write_atomic
from engine.util.hashing import CHUNK, sha256_file
from engine.models.inference import ModelRunner
from engine.models.integrity import check_files, confirm_loaded, external_files, files_to_check, onnx_file
from engine.models.loader import ModelOverrides, load_model
from engine.models.onnx_facts import OnnxFacts
from engine.models.scoring_graph import add_fused_graph, fused_graph_for
from engine.models.spec import ModelSpec
from engine.paths import models_dir
from engine.version import __version__
from engine.util.text import first_line
from engine.util.progress import Progress

MANIFEST = "dfw_manifest.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# PyTorch/TF weights are not needed once a model is in ONNX form; they can be gigabytes.
_SKIPPED_SUFFIXES = {".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack"}
_SKIPPED_DIRS = {".git", ".cache", "__pycache__"}



@dataclass(frozen=True)
class StoredModel:
    name: str
    folder: Path
    manifest: dict[str, Any]

    @property
    def is_test_fixture(self) -> bool:
        return bool(self.manifest.get("is_test_fixture"))


@dataclass(frozen=True)
class ModelCheck:
    name: str
    ok: bool
    changed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()


def _copy_hashed(source: Path, target: Path) -> str:
    digest = hashlib.sha256()
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while block := reader.read(CHUNK):
            digest.update(block)
            writer.write(block)
    return digest.hexdigest()


def _files_to_copy(source: Path) -> tuple[list[tuple[Path, str]], list[str]]:
    """(file, relative path) pairs of a model folder, refusing links that leave it."""
    root = source.resolve()
    chosen: list[tuple[Path, str]] = []
    skipped: list[str] = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS)
        for filename in sorted(filenames):
            path = Path(directory) / filename
            relative = path.relative_to(root).as_posix()
            real = path.resolve()
            if not real.is_relative_to(root):
                raise ModelError(f"{relative} links outside the model folder; refused")
            mode = os.stat(real).st_mode
            if not stat.S_ISREG(mode):
                raise ModelError(f"{relative} is not a regular file; refused")
            if path.suffix.lower() in _SKIPPED_SUFFIXES or filename == MANIFEST:
                skipped.append(relative)
                continue
            chosen.append((real, relative))
    return chosen, skipped


class ModelStore:
    """Imported models under `<home>/models/<name>/`."""

    def __init__(self, home: Path) -> None:
        self.root = models_dir(home)

    # -- reading -------------------------------------------------------------------------
    def list(self) -> list[StoredModel]:
        models = []
        for folder in sorted(self.root.iterdir()):
            if folder.name.startswith(".") or not (folder / MANIFEST).is_file():
                continue
            try:
                models.append(StoredModel(folder.name, folder, json.loads((folder / MANIFEST).read_text("utf-8"))))
            except (OSError, json.JSONDecodeError):
                continue  # a damaged entry shows up in `verify`, not as a crash in `list`
        return models

    def has(self, name: str) -> bool:
        """Whether `name` is a model in the store (never taken as a path)."""
        return is_model_name(name) and (self.root / name / MANIFEST).is_file()

    def get(self, name: str) -> StoredModel:
        folder = self.root / name
        if not _NAME.match(name) or not (folder / MANIFEST).is_file():
            known = ", ".join(model.name for model in self.list()) or "none imported yet"
            raise ModelError(f"no model named {name!r} in the store ({known})")
        try:
            manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"the manifest of model {name!r} is damaged: {exc}") from exc
        return StoredModel(name, folder, manifest)

    def load(self, name: str, variant: str | None = None) -> ModelSpec:
        """The stored model's spec; refuses a model any file of which changed since import.

        Every file the load uses (the variant's ONNX file and external weights, config.json,
        preprocessor_config.json, ...) is checked against the manifest first (integrity.py:
        hashed once per process, a stat after that), and the configuration the loader parsed
        is checked again by its hash. The graph facts recorded at import are reused once the
        file's hash matches them, so loading costs no parse of the whole graph.
        """
        stored = self.get(name)
        manifest = stored.manifest
        files = manifest.get("files")
        if not isinstance(files, dict) or not files:
            raise ModelError(f"the manifest of model {name!r} lists no files; import the model again")
        overrides = ModelOverrides(name=name, **manifest.get("overrides", {}))
        chosen = variant or manifest.get("default_variant") or "default"
        # A runtime variant (OpenVINO bf16) has no file of its own: it runs its base variant's file.
        file_variant = runtime_base(manifest, chosen) or chosen
        onnx_relative = onnx_file(name, stored.folder, manifest, file_variant)
        cached = manifest.get("onnx_facts", {}).get(file_variant)
        facts = OnnxFacts.from_dict(cached["facts"]) if cached and cached.get("file") == onnx_relative else None
        external = external_files(onnx_relative, facts.external_files) if facts else []
        checked = check_files(name, stored.folder, files, files_to_check(stored.folder, files, onnx_relative, external))
        spec = load_model(stored.folder, variant=file_variant, overrides=overrides, sha256=checked[onnx_relative],
                          facts=facts)
        if file_variant != chosen:
            spec = replace(spec, variant=chosen)
        else:  # a runtime variant (OpenVINO) reads the exported file, never the fused one
            fused = fused_graph_for(name, stored.folder, manifest, file_variant, checked[onnx_relative])
            if fused:
                spec = replace(spec, extras={**spec.extras, "fused_attention": fused})
        external_sha = confirm_loaded(name, stored.folder, files, spec, checked)
        # A bare .onnx imported as a fixture has no marker file in the store: the manifest says so.
        spec = replace(spec, is_test_fixture=spec.is_test_fixture or stored.is_test_fixture,
                       extras={**spec.extras, **({"external_sha256": external_sha} if external_sha else {})})
        quantization = manifest.get("quantization", {}).get(spec.variant)
        if quantization:
            if not quantization.get("passed", True) and not quantization.get("forced"):
                raise ModelError(
                    f"the {spec.variant!r} variant of {name!r} failed its check against fp32 "
                    f"(top-1 agreement {quantization.get('top1_agreement', 0):.1%}, max |Δp| "
                    f"{quantization.get('max_abs_delta_p', 0):.3f}); use the default variant, or accept it with "
                    f"`models quantize {name} --force`"
                )
            spec = replace(spec, extras={**spec.extras, "quantization": quantization})
        return spec

    def verify(self, name: str, progress: Progress | None = None) -> ModelCheck:
        stored = self.get(name)
        files = stored.manifest.get("files", {})
        changed, missing = [], []
        for index, (relative, entry) in enumerate(sorted(files.items())):
            if progress:
                progress(index, len(files), relative)
            path = stored.folder / relative
            if not path.is_file():
                missing.append(relative)
            elif sha256_file(path) != entry["sha256"]:
                changed.append(relative)
        present = {
            path.relative_to(stored.folder).as_posix()
            for path in stored.folder.rglob("*") if path.is_file() and path.name != MANIFEST
        }
        unexpected = sorted(present - set(files))
        return ModelCheck(name, not (changed or missing or unexpected), tuple(changed), tuple(missing), tuple(unexpected))

    # -- changing ------------------------------------------------------------------------
    def import_model(self, source: str | Path, name: str | None = None, *,
                     overrides: ModelOverrides | None = None, variant: str | None = None,
                     allow_test_fixture: bool = False, progress: Progress | None = None) -> StoredModel:
        source = Path(source).expanduser()
        overrides = overrides or ModelOverrides()
        spec = load_model(source, variant=variant, overrides=overrides)  # validate before copying
        if spec.is_test_fixture and not allow_test_fixture:
            raise ModelError(f"{source.name} is a random-weight test fixture, not a detector; refused")
        name = name or overrides.name or (source.stem if source.is_file() else source.name)
        if not _NAME.match(name):
            raise ModelError(f"model name {name!r} may hold only letters, digits, '.', '_' and '-'")
        if (self.root / name).exists():
            raise ModelError(f"a model named {name!r} is already in the store; choose another --name")
        _trial_run(spec)
        if source.is_file():
            files = [(source.resolve(), "model.onnx")] + [
                ((source.parent / extra).resolve(), extra) for extra in spec.extras.get("external_files", [])
            ]
            skipped: list[str] = []
        else:
            files, skipped = _files_to_copy(source)
        staging = Path(tempfile.mkdtemp(prefix=f".importing-{name}-", dir=self.root))
        try:
            manifest_files: dict[str, dict[str, Any]] = {}
            total = len(files)
            for index, (path, relative) in enumerate(files):
                if progress:
                    progress(index, total, relative)
                target = staging / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = _copy_hashed(path, target)
                if sha256_file(target) != digest:
                    raise ModelError(f"copying {relative} produced a different file; import abandoned")
                manifest_files[relative] = {"sha256": digest, "size": target.stat().st_size}
            stored_overrides = {key: (list(value) if isinstance(value, (list, tuple)) else value)
                                for key, value in asdict(overrides).items() if value is not None and key != "name"}
            manifest = {
                "name": name,
                "imported_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                "imported_from": str(source),
                "app_version": __version__,
                "layout": spec.layout,
                "default_variant": spec.variant,
                "variants": list(spec.variants),
                "overrides": stored_overrides,
                "is_test_fixture": spec.is_test_fixture,
                "spec": spec.provenance(),
                "files": manifest_files,
                "skipped_files": skipped,
            }
            stored_spec = self.load_from(staging, manifest)  # the copy must load exactly like the source
            onnx_file = stored_spec.onnx_path.relative_to(staging).as_posix()
            manifest["onnx_facts"] = {stored_spec.variant: {
                "file": onnx_file, "sha256": stored_spec.onnx_sha256, "facts": stored_spec.extras["onnx_facts"]}}
            if progress:
                progress(total, total, "fusing attention")
            add_fused_graph(staging, manifest, stored_spec, stored_spec.variant)
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
            os.replace(staging, self.root / name)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if progress:
            progress(len(files), len(files), "done")
        return self.get(name)

    @staticmethod
    def load_from(folder: Path, manifest: dict[str, Any]) -> ModelSpec:
        overrides = ModelOverrides(name=manifest["name"], **manifest.get("overrides", {}))
        return load_model(folder, variant=manifest.get("default_variant"), overrides=overrides)

    def remove(self, name: str) -> None:
        stored = self.get(name)
        # Rename first so a half-deleted folder never looks like a model.
        doomed = self.root / f".removing-{name}"
        os.replace(stored.folder, doomed)
        shutil.rmtree(doomed, ignore_errors=True)

    def record_quantization(self, name: str, variant: str, relative: str, figures: dict[str, Any]) -> None:
        """Add a variant made after import (e.g. INT8) with its validation figures.

        A runtime variant (figures["runtime"] == "openvino") reuses a file the manifest already
        hashes; that entry is left as import recorded it.
        """
        stored = self.get(name)
        manifest = dict(stored.manifest)
        if figures.get("runtime") != "openvino":
            manifest.setdefault("files", {})[relative] = {
                "sha256": sha256_file(stored.folder / relative), "size": (stored.folder / relative).stat().st_size,
            }
        manifest.setdefault("quantization", {})[variant] = figures
        variants = list(manifest.get("variants", []))
        if variant not in variants:
            variants.append(variant)
        manifest["variants"] = variants
        write_atomic(stored.folder / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))


def runtime_base(manifest: dict[str, Any], variant: str) -> str | None:
    """The variant whose file a runtime variant runs (None when `variant` has a file of its own)."""
    figures = manifest.get("quantization", {}).get(variant)
    if isinstance(figures, dict) and figures.get("runtime") == "openvino":
        return str(figures.get("from_variant") or "default")
    return None


def is_model_name(text: object) -> bool:
    """Whether `text` can name a stored model (letters, digits, '.', '_', '-'; never a path)."""
    return isinstance(text, str) and bool(_NAME.fullmatch(text))


def resolve_model(name_or_path: str, home: Path, *, variant: str | None = None,
                  overrides: ModelOverrides | None = None) -> ModelSpec:
    """A store name, or a path to a model folder / .onnx file (loaded in place, not imported)."""
    store = ModelStore(home)
    if _NAME.match(name_or_path) and (store.root / name_or_path / MANIFEST).is_file():
        return store.load(name_or_path, variant)
    path = Path(name_or_path).expanduser()
    if path.exists():
        return load_model(path, variant=variant, overrides=overrides)
    known = ", ".join(model.name for model in store.list()) or "none imported yet"
    raise ModelError(f"{name_or_path!r} is neither an imported model ({known}) nor a path")


def _trial_run(spec: ModelSpec) -> None:
    """One black image through the model on the CPU, so a graph onnxruntime cannot build or run
    (an unknown operator domain, an opset it does not know, outputs unlike the declared ones)
    is refused at import rather than at the start of every analysis."""
    height, width = spec.input_size
    try:
        runner = ModelRunner(spec, "cpu", batch_size=1)
        runner.predictions_from_logits(runner.logits_from_pixels(np.zeros((1, 3, height, width), np.float32)))
    except ModelError as exc:
        raise ModelError(f"{spec.onnx_path.name} cannot be used: {exc}") from None
    except Exception as exc:  # onnxruntime's own error types
        raise ModelError(f"onnxruntime cannot run {spec.onnx_path.name}: {first_line(exc)}") from None
