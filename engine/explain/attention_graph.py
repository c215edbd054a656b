"""Expose a transformer's per-layer attention as extra ONNX outputs, averaged over heads in-graph.

onnxruntime returns only declared graph outputs, and the attention probabilities of an
exported ViT/SigLIP/timm model are an internal `Softmax` over Q·Kᵀ scores. This module finds
those Softmax nodes by their pattern (a MatMul of two computed tensors, possibly through
Mul/Div/Add/Where/Cast, then a Softmax over the last axis), appends a `ReduceMean` over the
heads axis to each, and declares the results as outputs `attn_mean_<i>` in graph (= layer)
order after the original outputs. Averaging inside the graph keeps each output at N×N per
image instead of heads×N×N. The augmented model is written once into a cache folder, named by
the source model's SHA-256, with a JSON record beside it; later calls reuse it when the
record's source hash and file size match. Graphs without such Softmax nodes (CNNs, fused
attention) get a record saying so, and the caller falls back to occlusion.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from engine.errors import ModelError
from engine.util.fileutil import write_atomic

SURGERY_VERSION = 1
OUTPUT_PREFIX = "attn_mean_"
SOURCE_HASH_KEY = "dfw.attention.source_sha256"
PRECISIONS = ("float64", "float32")

# Elementwise steps PyTorch exporters put between Q·Kᵀ and the Softmax (scale, mask, dtype).
_PASS_THROUGH = {"Mul", "Div", "Add", "Sub", "Where", "Cast", "Identity"}
_MAX_STEPS = 6


@dataclass(frozen=True)
class AttentionGraph:
    """A cached model that outputs the original logits plus one head-mean attention per layer."""

    path: Path
    source_sha256: str
    precision: str  # dtype of the attention outputs
    sha256: str
    output_names: tuple[str, ...]  # attention outputs, layer order
    softmax_nodes: tuple[str, ...]  # the source Softmax node names they come from
    patch_size: tuple[int, int] | None  # stride of the patch-embedding Conv, when found

    @property
    def layers(self) -> int:
        return len(self.output_names)


def _constant_names(graph: Any) -> set[str]:
    names = {tensor.name for tensor in graph.initializer}
    names.update(out for node in graph.node if node.op_type == "Constant" for out in node.output)
    return names


def _softmax_axis(node: Any) -> int:
    for attribute in node.attribute:
        if attribute.name == "axis":
            return int(attribute.i)
    return -1  # opset ≥ 13 default; older opsets default to 1, which is not attention


def _known_ranks(model: Any) -> dict[str, int]:
    """Ranks onnx shape inference can give; missing names mean "unknown", not "wrong"."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False)
    except Exception:  # inference is a hint only; the pattern and the run-time check decide
        return {}
    ranks: dict[str, int] = {}
    for value in list(inferred.graph.value_info) + list(inferred.graph.output):
        tensor_type = value.type.tensor_type
        if tensor_type.HasField("shape"):
            ranks[value.name] = len(tensor_type.shape.dim)
    return ranks


def find_attention_softmax(model: Any) -> list[Any]:
    """Softmax nodes that turn Q·Kᵀ scores into attention probabilities, in graph order."""
    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    constants = _constant_names(graph)
    ranks = _known_ranks(model)
    found = []
    for node in graph.node:
        if node.op_type != "Softmax" or node.domain not in ("", "ai.onnx"):
            continue
        rank = ranks.get(node.output[0])
        if rank is not None and rank != 4:
            continue
        if _softmax_axis(node) not in (-1, 3):
            continue
        current = producer.get(node.input[0])
        for _ in range(_MAX_STEPS):
            if current is None or current.op_type not in _PASS_THROUGH:
                break
            # Follow the computed operand; scales and masks are constants or side inputs.
            computed = [name for name in current.input if name and name not in constants and name in producer]
            current = producer.get(computed[0]) if computed else None
        if current is None or current.op_type != "MatMul":
            continue
        # Q·Kᵀ multiplies two activations; a classifier head multiplies by a weight.
        if any(name in constants or name not in producer for name in current.input):
            continue
        found.append(node)
    return found


def _patch_size(model: Any) -> tuple[int, int] | None:
    """Strides of the first Conv whose kernel equals its stride (a ViT patch embedding)."""
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        attributes = {a.name: list(a.ints) for a in node.attribute if a.ints}
        strides, kernel = attributes.get("strides"), attributes.get("kernel_shape")
        if strides and kernel and strides == kernel and len(strides) == 2:
            return (int(strides[0]), int(strides[1]))
        return None
    return None


def _unique(name: str, taken: set[str]) -> str:
    candidate, counter = name, 1
    while candidate in taken:
        candidate, counter = f"{name}_{counter}", counter + 1
    taken.add(candidate)
    return candidate


def add_attention_outputs(model: Any, softmax_nodes: Iterable[Any], precision: str = "float64") -> list[str]:
    """Append a head-mean per Softmax and declare it as an output, in place; returns the names.

    float64 casts the probabilities before averaging: a float32 mean is off by rounding
    that, on near-uniform images, changes which entries a discard ratio removes and shifts
    the normalised map by up to 2e-3 against the float64 reference. float32 halves the
    output size for very large token counts.
    """
    from onnx import TensorProto, helper, numpy_helper
    import numpy as np

    if precision not in PRECISIONS:
        raise ModelError(f"unknown attention precision {precision!r}: use float64 or float32")
    graph = model.graph
    opset = next((op.version for op in model.opset_import if op.domain in ("", "ai.onnx")), 0)
    taken = {out for node in graph.node for out in node.output}
    taken.update(value.name for value in graph.input)
    taken.update(tensor.name for tensor in graph.initializer)
    axes_name = None
    if opset >= 18:  # ReduceMean takes its axes as an input from opset 18 on
        axes_name = _unique("attn_mean_axes", taken)
        graph.initializer.append(numpy_helper.from_array(np.array([1], dtype=np.int64), axes_name))
    element = TensorProto.DOUBLE if precision == "float64" else TensorProto.FLOAT
    names = []
    for index, softmax in enumerate(softmax_nodes):
        output = _unique(f"{OUTPUT_PREFIX}{index}", taken)
        cast_out = _unique(f"{output}_cast", taken)
        # Casting first also turns fp16 models' probabilities into the chosen precision.
        cast = helper.make_node("Cast", [softmax.output[0]], [cast_out], to=element, name=_unique(f"AttnCast_{index}", taken))
        inputs = [cast_out, axes_name] if axes_name else [cast_out]
        extra: dict[str, Any] = {} if axes_name else {"axes": [1]}
        reduce = helper.make_node("ReduceMean", inputs, [output], keepdims=0, name=_unique(f"AttnMean_{index}", taken), **extra)
        graph.node.extend([cast, reduce])
        graph.output.append(helper.make_tensor_value_info(output, element, ["batch", "tokens", "tokens"]))
        names.append(output)
    return names


def _record_paths(cache_dir: Path, source_sha256: str, precision: str) -> tuple[Path, Path, Path]:
    stem = f"{source_sha256}-attn" if precision == "float64" else f"{source_sha256}-attn32"
    return cache_dir / f"{stem}.onnx", cache_dir / f"{stem}.json", cache_dir / f"{stem}.onnx.data"


def _graph_from_record(record: dict[str, Any], model_path: Path) -> AttentionGraph:
    patch = record.get("patch_size")
    return AttentionGraph(
        path=model_path,
        source_sha256=record["source_sha256"],
        precision=record["precision"],
        sha256=record["sha256"],
        output_names=tuple(record["output_names"]),
        softmax_nodes=tuple(record["softmax_nodes"]),
        patch_size=tuple(patch) if patch else None,
    )


def _read_record(record_path: Path, model_path: Path, source_sha256: str, precision: str) -> dict[str, Any] | None:
    """The cache record when it is for this source and its model file is intact, else None."""
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("source_sha256") != source_sha256:
        return None
    if record.get("version") != SURGERY_VERSION or record.get("precision") != precision:
        return None
    if not record.get("output_names"):
        return record  # "no attention here" is a valid cached answer
    try:
        if model_path.stat().st_size != record.get("size"):
            return None
    except OSError:
        return None
    return record


def attention_model_path(onnx_path: str | os.PathLike, source_sha256: str, cache_dir: str | os.PathLike,
                         precision: str = "float64") -> AttentionGraph | None:
    """The cached attention-exposing copy of a model, built on first use; None when it has none.

    `source_sha256` is the verified hash of `onnx_path` (the ModelSpec's `onnx_sha256`);
    `precision` is the attention outputs' dtype (see `add_attention_outputs`).
    Raises ModelError when the model cannot be read or the cache cannot be written.
    """
    import onnx

    from engine.util.hashing import sha256_bytes, sha256_file

    source = Path(onnx_path)
    cache = Path(cache_dir)
    if precision not in PRECISIONS:
        raise ModelError(f"unknown attention precision {precision!r}: use float64 or float32")
    model_path, record_path, data_path = _record_paths(cache, source_sha256, precision)
    record = _read_record(record_path, model_path, source_sha256, precision)
    if record is not None:
        return _graph_from_record(record, model_path) if record.get("output_names") else None
    try:
        header = onnx.load(str(source), load_external_data=False)
    except Exception as exc:  # protobuf DecodeError, OSError, ...
        raise ModelError(f"cannot read {source.name} to expose its attention: {str(exc)[:160]}") from exc
    external = any(t.data_location == onnx.TensorProto.EXTERNAL for t in header.graph.initializer)
    softmax = find_attention_softmax(header)
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create the model cache folder {cache}: {exc.strerror or exc}") from exc
    base_record: dict[str, Any] = {"version": SURGERY_VERSION, "source_sha256": source_sha256,
                                   "source_file": source.name, "precision": precision}
    try:
        if not softmax:
            write_atomic(record_path, json.dumps({**base_record, "output_names": []}, indent=1).encode())
            return None
        names_of_softmax = [node.name or node.output[0] for node in softmax]
        if external:
            # Weights live beside the source; the copy gets its own data file in the cache.
            model = onnx.load(str(source), load_external_data=True)
            softmax = find_attention_softmax(model)
        else:
            model = header
        output_names = add_attention_outputs(model, softmax, precision)
        entry = model.metadata_props.add()
        entry.key, entry.value = SOURCE_HASH_KEY, source_sha256
        if external:
            handle, temp = tempfile.mkstemp(prefix=model_path.name + ".", suffix=".tmp", dir=cache)
            os.close(handle)
            try:
                onnx.save_model(model, temp, save_as_external_data=True, all_tensors_to_one_file=True,
                                location=data_path.name, size_threshold=1024)
                os.replace(temp, model_path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
            digest = sha256_file(model_path)
        else:
            payload = model.SerializeToString()
            if len(payload) >= 2**31 - 1:
                raise ModelError(f"{source.name} is too large to copy without external weights")
            write_atomic(model_path, payload)
            digest = sha256_bytes(payload)
        record = {**base_record, "sha256": digest, "size": model_path.stat().st_size,
                  "output_names": output_names, "softmax_nodes": names_of_softmax,
                  "patch_size": list(_patch_size(model) or []) or None}
        write_atomic(record_path, json.dumps(record, indent=1).encode())
    except OSError as exc:
        raise ModelError(f"cannot write the attention copy of {source.name} into {cache}: {exc.strerror or exc}") from exc
    except ValueError as exc:  # onnx refuses to serialise (e.g. > 2 GB inline)
        raise ModelError(f"cannot write the attention copy of {source.name}: {str(exc)[:160]}") from exc
    return _graph_from_record(record, model_path)
