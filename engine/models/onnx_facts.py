"""Read an ONNX file's header without running it: inputs, outputs, attention nodes, safety.

Loading refuses what onnxruntime would choke on or what would be unsafe to run: files that
are not ONNX or are truncated, graphs whose external-data paths leave the model's folder
(a path-traversal trick that reads arbitrary files), and inputs that are not a batch of
3-channel images. Weights stay on disk (external data is not loaded).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from engine.errors import ModelError
from engine.util.text import first_line


@dataclass(frozen=True)
class OnnxFacts:
    input_name: str
    input_shape: tuple[int | str | None, ...]
    output_name: str
    output_shape: tuple[int | str | None, ...]
    opset: int
    softmax_count: int
    external_files: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "OnnxFacts":
        values = dict(data)
        for key in ("input_shape", "output_shape", "external_files"):
            values[key] = tuple(values[key])
        return cls(**values)

    @property
    def input_hw(self) -> tuple[int, int] | None:
        h, w = self.input_shape[2], self.input_shape[3]
        return (h, w) if isinstance(h, int) and isinstance(w, int) else None

    @property
    def fixed_batch(self) -> int | None:
        batch = self.input_shape[0]
        return batch if isinstance(batch, int) and batch > 0 else None

    @property
    def output_size(self) -> int | None:
        last = self.output_shape[-1] if self.output_shape else None
        return last if isinstance(last, int) and last > 0 else None


def _dims(value_info: Any) -> tuple[int | str | None, ...]:
    dims: list[int | str | None] = []
    for dim in value_info.type.tensor_type.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(int(dim.dim_value))
        elif dim.HasField("dim_param"):
            dims.append(dim.dim_param)
        else:
            dims.append(None)
    return tuple(dims)


def _check_external_data(model: Any, folder: Path, name: str) -> tuple[str, ...]:
    from onnx import TensorProto

    root = folder.resolve()
    seen: list[str] = []
    tensors = list(model.graph.initializer)
    for node in model.graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                tensors.append(attribute.t)
    for tensor in tensors:
        if tensor.data_location != TensorProto.EXTERNAL:
            continue
        entries = {entry.key: entry.value for entry in tensor.external_data}
        location = entries.get("location", "")
        target = (root / location).resolve()
        if not location or Path(location).is_absolute() or not target.is_relative_to(root):
            raise ModelError(
                f"{name} refers to weights outside its folder ({location!r}); refused as unsafe"
            )
        if not target.is_file():
            raise ModelError(f"{name} needs the external weights file {location!r}, which is missing")
        if location not in seen:
            seen.append(location)
    return tuple(seen)


def read_onnx_facts(path: Path) -> OnnxFacts:
    """Parse the graph (not the weights) and check it is a usable image classifier."""
    import onnx
    from google.protobuf.message import DecodeError

    name = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ModelError(f"cannot read {name}: {exc.strerror or exc}") from exc
    if size == 0:
        raise ModelError(f"{name} is empty, not an ONNX model")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, ValueError, RuntimeError, OSError) as exc:
        raise ModelError(f"{name} is not a readable ONNX model (truncated or another kind of file): {str(exc)[:120]}") from exc
    graph = model.graph
    if not model.opset_import or not graph.node or not graph.output:
        raise ModelError(f"{name} is not a readable ONNX model (no graph inside)")
    external = _check_external_data(model, path.parent, name)
    try:
        # Given a proto, the checker looks for external weights relative to the working
        # directory; given the path, beside the graph, where they are.
        onnx.checker.check_model(str(path) if external else model)
    except Exception as exc:  # onnx raises ValidationError and friends
        raise ModelError(f"{name} fails ONNX validation: {first_line(exc, 160)}") from exc
    initializers = {tensor.name for tensor in graph.initializer}
    inputs = [value for value in graph.input if value.name not in initializers]
    if len(inputs) != 1:
        raise ModelError(f"{name} has {len(inputs)} inputs; an image classifier takes exactly one (pixel_values)")
    input_shape = _dims(inputs[0])
    if len(input_shape) != 4:
        raise ModelError(
            f"{name} takes a rank-{len(input_shape)} input {input_shape}; an image classifier takes (batch, 3, height, width)"
        )
    element = inputs[0].type.tensor_type.elem_type
    if element != onnx.TensorProto.FLOAT:
        kind = onnx.TensorProto.DataType.Name(element) if element in onnx.TensorProto.DataType.values() else element
        raise ModelError(f"{name} takes {kind} input; only float32 pixel input is supported")
    if isinstance(input_shape[1], int) and input_shape[1] != 3:
        raise ModelError(f"{name} takes {input_shape[1]} channels; only RGB (3-channel) models are supported")
    outputs = list(graph.output)
    output = next((o for o in outputs if o.name == "logits"), outputs[0])
    output_shape = _dims(output)
    if len(output_shape) != 2:
        raise ModelError(f"{name} outputs shape {output_shape}; a classifier outputs (batch, classes)")
    default_opset = next((op.version for op in model.opset_import if op.domain in ("", "ai.onnx")), 0)
    softmax_count = sum(1 for node in graph.node if node.op_type == "Softmax")
    return OnnxFacts(
        input_name=inputs[0].name,
        input_shape=input_shape,
        output_name=output.name,
        output_shape=output_shape,
        opset=int(default_opset),
        softmax_count=softmax_count,
        external_files=external,
    )
