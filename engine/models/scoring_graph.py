"""The fused-attention scoring graph a stored model keeps beside its exported file.

It is made once, at import (attention_fusion.py), because rewriting a SigLIP-512 graph costs
about 20 s and 1.8 GB; every later CPU scoring session loads it instead of the exported file.
The manifest records it like every other file of the folder (so `models verify` and every load
check its hash) and under `fused_attention`, per variant: which exported file it was made from
(by SHA-256), how many blocks were fused, how far its logits were from the exported graph's,
and the onnxruntime that made it. It is used only while all of that still holds: made from the
very file the variant loads, by the onnxruntime that is running. Otherwise, or when fusion was
refused, scoring runs the exported graph, exactly as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from engine.models.attention_fusion import make_fused_graph
from engine.models.integrity import check_files
from engine.models.spec import ModelSpec
from engine.util.hashing import sha256_file

FUSED_FILE = "dfw_fused_attention.onnx"


def _onnxruntime_version() -> str:
    import onnxruntime  # noqa: PLC0415

    return str(onnxruntime.__version__)


def add_fused_graph(folder: Path, manifest: dict[str, Any], spec: ModelSpec, variant: str) -> dict[str, Any]:
    """Make `folder/FUSED_FILE` for `spec`'s graph and record it (or why not) in `manifest`."""
    target = folder / FUSED_FILE
    if target.exists() or spec.extras.get("external_files"):
        record: dict[str, Any] = {"blocks": 0, "refused": "the folder already holds a file of that name"
                                  if target.exists() else "weights in an external file"}
    else:
        outcome = make_fused_graph(spec.onnx_path, target, input_name=spec.input_name,
                                   output_name=spec.output_name, input_size=spec.input_size,
                                   fixed_batch=spec.fixed_batch)
        record = outcome.record()
        if outcome.blocks:
            digest = sha256_file(target)
            manifest["files"][FUSED_FILE] = {"sha256": digest, "size": target.stat().st_size}
            record.update(file=FUSED_FILE, sha256=digest, made_from=spec.onnx_sha256,
                          onnxruntime=_onnxruntime_version())
    manifest.setdefault("fused_attention", {})[variant] = record
    return record


def fused_graph_for(name: str, folder: Path, manifest: Mapping[str, Any], variant: str,
                    onnx_sha256: str) -> dict[str, Any] | None:
    """The usable fused graph of `variant` ({"path", "sha256", "blocks"}), or None.

    Raises ModelError (integrity.py) when the recorded file is missing or changed since import:
    a swapped scoring graph would change every score, so it is refused, not skipped."""
    record = (manifest.get("fused_attention") or {}).get(variant)
    if not isinstance(record, Mapping) or not record.get("blocks") or record.get("file") != FUSED_FILE:
        return None
    if record.get("made_from") != onnx_sha256 or record.get("onnxruntime") != _onnxruntime_version():
        return None  # made from another file, or for another onnxruntime: the exported graph runs
    digest = check_files(name, folder, manifest.get("files") or {}, [FUSED_FILE])[FUSED_FILE]
    return {"path": str(folder / FUSED_FILE), "sha256": digest, "blocks": int(record["blocks"])}
