"""Imported face detectors: CenterFace and YuNet ONNX files kept in the app home by name.

`models import-face-detector FILE` copies the file to `<home>/face_detectors/<name>/model.onnx`
(copied, never linked, so it cannot change under a case because a download folder did) beside
a manifest with its kind and SHA-256. The kind is read from the graph's outputs when not
given, and a file is refused unless a detector of that kind builds from it and runs on a
blank frame, so a CenterFace file imported as YuNet fails at import, not mid-run. Every load
(each run, each resume) hashes the stored file again from the bytes the detector is built
from and refuses it when it is not the imported file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import EngineError, ModelError
from engine.media.centerface import CenterFaceDetector
from engine.media.facebox import FaceDetector, read_model_file
from engine.media.yunet import YuNetFaceDetector
from engine.paths import face_detectors_dir
from engine.util.hashing import sha256_bytes, sha256_file
from engine.version import __version__

__all__ = ["FACE_DETECTOR_KINDS", "FaceDetectorStore", "StoredFaceDetector", "guess_kind", "is_detector_name"]

FACE_DETECTOR_KINDS = ("centerface", "yunet")
MANIFEST = "dfw_face_detector.json"
MODEL_FILE = "model.onnx"
# The model store's rule for names: letters, digits, '.', '_', '-', never a path.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_YUNET_OUTPUTS = {"cls_8", "obj_8", "bbox_8", "loc", "conf", "iou"}  # the 2023 and the 2021/2022 exports


@dataclass(frozen=True)
class StoredFaceDetector:
    name: str
    kind: str
    sha256: str
    size: int
    folder: Path
    imported_at: str | None = None
    imported_from: str | None = None

    @property
    def path(self) -> Path:
        return self.folder / MODEL_FILE


def is_detector_name(text: object) -> bool:
    """Whether `text` can name an imported face detector (never a path)."""
    return isinstance(text, str) and bool(_NAME.fullmatch(text))


def guess_kind(data: bytes) -> str | None:
    """"centerface" or "yunet" from the graph's outputs, or None when they say neither."""
    import onnx  # noqa: PLC0415

    try:
        graph = onnx.load_from_string(data).graph
    except Exception:  # protobuf's own decode errors: not ONNX at all
        return None
    names = {output.name for output in graph.output}
    channels = []
    for output in graph.output:
        dims = output.type.tensor_type.shape.dim
        channels.append(dims[1].dim_value if len(dims) == 4 and dims[1].HasField("dim_value") else None)
    if channels == [1, 2, 2, 10]:
        return "centerface"
    return "yunet" if names & _YUNET_OUTPUTS else None


def open_detector(kind: str, path: Path, sha256: str, label: str | None) -> FaceDetector:
    """A detector of `kind` built from `path`, which must have `sha256`."""
    if kind == "centerface":
        return CenterFaceDetector(path, expected_sha256=sha256, label=label)
    if kind == "yunet":
        return YuNetFaceDetector(path, expected_sha256=sha256, label=label)
    raise ModelError(f"unknown face detector kind {kind!r} (known: {', '.join(FACE_DETECTOR_KINDS)})")


def _trial(kind: str, path: Path, sha256: str, shown_as: str) -> None:
    """Refuses a file a detector of `kind` cannot build from or run on a blank frame."""
    try:
        detector = open_detector(kind, path, sha256, None)
        detector.detect(np.zeros((96, 128, 3), np.uint8))
    except EngineError as exc:
        raise ModelError(f"{shown_as} cannot be used as a {kind} face detector: {exc}") from None


class FaceDetectorStore:
    """Imported face detectors under `<home>/face_detectors/<name>/`."""

    def __init__(self, home: Path) -> None:
        self.root = face_detectors_dir(home)

    def list(self) -> list[StoredFaceDetector]:
        found = []
        for folder in sorted(self.root.iterdir()):
            if folder.name.startswith(".") or not (folder / MANIFEST).is_file():
                continue
            try:
                found.append(self.get(folder.name))
            except ModelError:
                continue  # a damaged entry is refused when it is used, not a crash in the listing
        return found

    def has(self, name: str) -> bool:
        return is_detector_name(name) and (self.root / name / MANIFEST).is_file()

    def get(self, name: str) -> StoredFaceDetector:
        if not self.has(name):
            known = ", ".join(stored.name for stored in self.list()) or "none imported yet"
            raise ModelError(f"no face detector named {str(name)[:60]!r} ({known}; "
                             "python main.py models import-face-detector FILE)")
        folder = self.root / name
        try:
            manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"the manifest of face detector {name!r} is damaged: {exc}") from None
        kind, sha256, size = (manifest.get(key) if isinstance(manifest, dict) else None
                              for key in ("kind", "sha256", "size"))
        if kind not in FACE_DETECTOR_KINDS or not isinstance(sha256, str) or len(sha256) != 64 \
                or not isinstance(size, int):
            raise ModelError(f"the manifest of face detector {name!r} is damaged (kind, SHA-256 or size); "
                             "import it again")
        return StoredFaceDetector(name, kind, sha256, size, folder, manifest.get("imported_at"),
                                  manifest.get("imported_from"))

    def load(self, name: str, expected_sha256: str | None = None) -> FaceDetector:
        """The detector, built from the stored file after checking it is the imported one (and,
        for a resume, the one the run recorded)."""
        stored = self.get(name)
        if expected_sha256 is not None and stored.sha256 != expected_sha256:
            raise ModelError(f"face detector {name!r} is not the file the run used (SHA-256 {stored.sha256[:12]}…, "
                             f"the run recorded {expected_sha256[:12]}…); start a new run")
        return open_detector(stored.kind, stored.path, stored.sha256, name)

    def import_file(self, source: str | os.PathLike[str], name: str | None = None,
                    kind: str | None = None) -> StoredFaceDetector:
        path = Path(source).expanduser()
        data = read_model_file(path, "face detector file")
        name = name or path.stem
        if not is_detector_name(name):
            raise ModelError(f"face detector name {name!r} may hold only letters, digits, '.', '_' and '-'")
        if (self.root / name).exists():
            raise ModelError(f"a face detector named {name!r} is already imported; choose another --name")
        guessed = guess_kind(data)
        if kind is None and guessed is None:
            raise ModelError(f"{path.name} does not look like a CenterFace or YuNet model; say which with --kind")
        if kind is not None and kind not in FACE_DETECTOR_KINDS:
            raise ModelError(f"unknown face detector kind {kind!r} (known: {', '.join(FACE_DETECTOR_KINDS)})")
        if kind is not None and guessed is not None and guessed != kind:
            raise ModelError(f"{path.name} looks like a {guessed} model (its outputs say so), not {kind}; "
                             f"import it with --kind {guessed}")
        chosen = kind or guessed
        assert chosen is not None
        sha256 = sha256_bytes(data)
        staging = Path(tempfile.mkdtemp(prefix=f".importing-{name}-", dir=self.root))
        try:
            target = staging / MODEL_FILE
            target.write_bytes(data)
            if sha256_file(target) != sha256:
                raise ModelError(f"copying {path.name} produced a different file; import abandoned")
            _trial(chosen, target, sha256, path.name)
            manifest: dict[str, Any] = {
                "name": name, "kind": chosen, "file": MODEL_FILE, "sha256": sha256, "size": len(data),
                "imported_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                "imported_from": str(path), "app_version": __version__,
            }
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
            os.replace(staging, self.root / name)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return self.get(name)

    def remove(self, name: str) -> None:
        stored = self.get(name)
        doomed = self.root / f".removing-{name}"
        os.replace(stored.folder, doomed)
        shutil.rmtree(doomed, ignore_errors=True)

