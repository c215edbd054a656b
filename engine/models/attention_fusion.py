"""Scoring graphs with fused attention: each exported attention block becomes one
onnxruntime `MultiHeadAttention` node.

The seed exports keep eager attention (engine/models/export.py), which onnxruntime's CPU
provider runs as separate kernels: QKᵀ, Softmax, P·V and the transposes and reshapes between
them, each writing a (heads, N, N) or (N, E) tensor to memory. At 577 tokens (ViT-S/16-384)
that is about a third of an image's time; one fused kernel does the same arithmetic in cache.

Only scoring sessions on the CPU use the fused graph: attention overlays read the Softmax
outputs, which fusion removes, so they keep the exported graph. A fused graph is made from
onnxruntime's own optimised form of the exported file (its graph optimiser has already folded
the scale into the QKᵀ product and pushed the transposes next to the reshapes), and is kept only
when every block matched one of the two layouts below and the whole graph gives the exported
graph's logits on random pixels to within `TOLERANCE`:

- separate projections (transformers ViT, SigLIP): q, k, v each `Reshape (B, N, H, D)` and
  transposed to (B, H, N, D), k to (B, H, D, N);
- one packed projection (timm): `Reshape (B, N, 3, H, D)`, split into three along axis 2, each
  transposed and squeezed to the same layouts.

Anything else (masks, relative position bias, other layouts) is left as exported.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from engine.errors import ModelError
from engine.util.text import first_line

TOLERANCE = 1e-4  # largest |Δlogit| against the exported graph, relative to max(1, |logit|)
_MS = "com.microsoft"


@dataclass(frozen=True)
class HeadSource:
    """Where a (B, H, ·, ·) attention operand comes from: a (B, N, E) tensor, or chunk
    `chunk` of a packed (B, N, 3E) one, and the axis labels it has at the attention product."""

    tensor: str
    labels: tuple[str, ...]  # "b", "h", "n", "d"
    heads: int
    head_size: int
    chunk: int | None  # None: a projection of its own; 0, 1, 2: part of a packed projection


@dataclass(frozen=True)
class AttentionBlock:
    q: HeadSource
    k: HeadSource
    v: HeadSource
    scale: float
    output_node: Any  # the Reshape back to (B, N, E) whose output the fused node takes over


class _Graph:
    """Producers, consumers and constants of an ONNX graph, for pattern matching."""

    def __init__(self, graph: Any) -> None:
        from onnx import numpy_helper  # noqa: PLC0415 - onnx is needed only here

        self.graph = graph
        self.producer = {out: node for node in graph.node for out in node.output}
        self.consumers: dict[str, list[Any]] = {}
        for node in graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.constants = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
        for node in graph.node:
            if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
                self.constants[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        self.outputs = {out.name for out in graph.output}

    def only_consumer(self, tensor: str, op_type: str) -> Any | None:
        users = self.consumers.get(tensor, [])
        if len(users) == 1 and users[0].op_type == op_type and tensor not in self.outputs:
            return users[0]
        return None

    def ints(self, tensor: str) -> list[int] | None:
        value = self.constants.get(tensor)
        return None if value is None else [int(v) for v in np.asarray(value).ravel()]

    def shape_dims(self, tensor: str) -> list[int | None] | None:
        """A Reshape's target shape: constants where known, None where computed at run time."""
        known = self.ints(tensor)
        if known is not None:
            return list(known)
        concat = self.producer.get(tensor)
        if concat is None or concat.op_type != "Concat":
            return None
        dims: list[int | None] = []
        for part in concat.input:
            values = self.ints(part)
            if values is not None:
                dims.extend(values)
            else:
                dims.append(None)  # one run-time dimension (an Unsqueeze of a Shape's Gather)
        return dims


def attribute(node: Any, name: str, default: Any = None) -> Any:
    from onnx import helper  # noqa: PLC0415

    for attr in node.attribute:
        if attr.name == name:
            return helper.get_attribute_value(attr)
    return default


def _squeeze_axes(graph: _Graph, node: Any) -> list[int] | None:
    if len(node.input) > 1:
        return graph.ints(node.input[1])
    axes = attribute(node, "axes")
    return None if axes is None else list(axes)


def projection_width(graph: _Graph, tensor: str) -> int | None:
    """E of a linear projection's (B, N, E) output: its bias length, or its weight's columns."""
    node = graph.producer.get(tensor)
    if node is not None and node.op_type == "Add":
        for name in node.input:
            value = graph.constants.get(name)
            if value is not None and value.ndim == 1:
                return int(value.shape[0])
            if value is None and graph.producer.get(name) is not None and graph.producer[name].op_type == "MatMul":
                node = graph.producer[name]
    if node is not None and node.op_type == "MatMul":
        weight = graph.constants.get(node.input[1])
        if weight is not None and weight.ndim == 2:
            return int(weight.shape[1])
    return None


def head_source(graph: _Graph, tensor: str) -> HeadSource | None:
    """Trace an attention operand back through Transpose/Squeeze to its Reshape (and Split)."""
    path = []
    node = graph.producer.get(tensor)
    while node is not None and node.op_type in ("Transpose", "Squeeze"):
        path.append(node)
        node = graph.producer.get(node.input[0])
    if node is None:
        return None
    chunk: int | None = None
    if node.op_type == "Split":
        if attribute(node, "axis", 0) != 2 or len(node.output) != 3:
            return None
        sizes = graph.ints(node.input[1]) if len(node.input) > 1 and node.input[1] else attribute(node, "split")
        if sizes is not None and list(sizes) != [1, 1, 1]:
            return None
        chunk = list(node.output).index(path[-1].input[0] if path else tensor)
        node = graph.producer.get(node.input[0])
        if node is None or node.op_type != "Reshape":
            return None
    if node.op_type != "Reshape":
        return None
    dims = graph.shape_dims(node.input[1])
    labels: list[str]
    if chunk is None and dims is not None and len(dims) == 4:
        labels = ["b", "n", "h", "d"]
    elif chunk is not None and dims is not None and len(dims) == 5 and dims[2] == 3:
        labels = ["b", "n", "c", "h", "d"]
    else:
        return None
    heads, head_size = dims[-2], dims[-1]
    if heads == -1 and isinstance(head_size, int) and head_size > 0:  # transformers: view(B, N, -1, D)
        width = projection_width(graph, node.input[0])
        heads = width // head_size if width and width % head_size == 0 else None
    if not (isinstance(heads, int) and isinstance(head_size, int) and heads > 0 and head_size > 0):
        return None
    for step in reversed(path):  # replay the path forwards on the axis labels
        if step.op_type == "Transpose":
            perm = attribute(step, "perm")
            if perm is None or sorted(perm) != list(range(len(labels))):
                return None
            labels = [labels[axis] for axis in perm]
        else:
            axes = _squeeze_axes(graph, step)
            if axes is None:
                return None
            axes = sorted(axis % len(labels) for axis in axes)
            if any(labels[axis] != "c" for axis in axes):
                return None  # only the size-1 split axis may be squeezed away
            labels = [label for axis, label in enumerate(labels) if axis not in axes]
    if "c" in labels:
        return None
    return HeadSource(node.input[0], tuple(labels), heads, head_size, chunk)


def match_block(graph: _Graph, softmax: Any) -> AttentionBlock | None:
    """The attention block around one Softmax, or None when it is not one of the known layouts."""
    if attribute(softmax, "axis", -1) not in (-1, 3):
        return None
    scores = graph.producer.get(softmax.input[0])
    if scores is None:
        return None
    if scores.op_type == "FusedMatMul" and scores.domain == _MS:
        if any(attribute(scores, flag, 0) for flag in ("transA", "transB", "transBatchA", "transBatchB")):
            return None
        scale = float(attribute(scores, "alpha", 1.0))
    elif scores.op_type == "MatMul":
        scale = 1.0
    else:
        return None
    mixed = graph.only_consumer(softmax.output[0], "MatMul")
    if mixed is None or mixed.input[0] != softmax.output[0]:
        return None
    merge = graph.only_consumer(mixed.output[0], "Transpose")
    if merge is None or list(attribute(merge, "perm", [])) != [0, 2, 1, 3]:
        return None
    output = graph.only_consumer(merge.output[0], "Reshape")
    if output is None:
        return None
    q, k, v = (head_source(graph, name) for name in (scores.input[0], scores.input[1], mixed.input[1]))
    if q is None or k is None or v is None:
        return None
    if (q.labels, k.labels, v.labels) != (("b", "h", "n", "d"), ("b", "h", "d", "n"), ("b", "h", "n", "d")):
        return None
    if len({(s.heads, s.head_size) for s in (q, k, v)}) != 1:
        return None
    packed = [s.chunk is not None for s in (q, k, v)]
    if any(packed) and not (all(packed) and q.tensor == k.tensor == v.tensor
                            and (q.chunk, k.chunk, v.chunk) == (0, 1, 2)):
        return None
    out_dims = graph.shape_dims(output.input[1])
    if out_dims is None or len(out_dims) != 3 or out_dims[2] not in (None, -1, q.heads * q.head_size):
        return None
    return AttentionBlock(q, k, v, scale, output)


def fuse_blocks(model: Any) -> int:
    """Rewrite every matched attention block of `model` (an onnx ModelProto) in place; the count."""
    from onnx import helper, numpy_helper  # noqa: PLC0415

    graph = _Graph(model.graph)
    blocks = [block for node in model.graph.node if node.op_type == "Softmax"
              for block in [match_block(graph, node)] if block is not None]
    if not blocks:
        return 0
    replacements: dict[int, list[Any]] = {}
    for index, block in enumerate(blocks):
        width = block.q.heads * block.q.head_size
        base = f"dfw_fused_attention_{index}"
        new_nodes = []
        if block.q.chunk is not None:
            sizes = f"{base}/split_sizes"
            model.graph.initializer.append(numpy_helper.from_array(np.array([width] * 3, np.int64), sizes))
            parts = [f"{base}/{part}" for part in ("chunk0", "chunk1", "chunk2")]
            new_nodes.append(helper.make_node("Split", [block.q.tensor, sizes], parts, axis=2, name=f"{base}/split"))
            q, k, v = (parts[source.chunk or 0] for source in (block.q, block.k, block.v))
        else:
            q, k, v = block.q.tensor, block.k.tensor, block.v.tensor
        new_nodes.append(helper.make_node(
            "MultiHeadAttention", [q, k, v], [block.output_node.output[0]], domain=_MS,
            num_heads=block.q.heads, scale=block.scale, name=f"{base}/mha"))
        replacements[id(block.output_node)] = new_nodes
    nodes = [new for node in model.graph.node for new in replacements.get(id(node), [node])]
    del model.graph.node[:]
    model.graph.node.extend(_live(nodes, {out.name for out in model.graph.output}))
    used = {name for node in model.graph.node for name in node.input}
    kept = [init for init in model.graph.initializer if init.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    if not any(opset.domain == _MS for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid(_MS, 1))
    return len(blocks)


def _live(nodes: Sequence[Any], needed: set[str]) -> list[Any]:
    """The nodes the graph outputs depend on, in their original (topological) order."""
    keep = []
    for node in reversed(nodes):
        if any(out in needed for out in node.output):
            keep.append(node)
            needed.update(name for name in node.input if name)
    return list(reversed(keep))


@dataclass(frozen=True)
class FusionOutcome:
    blocks: int  # attention blocks fused; 0 when nothing was written
    max_abs_delta_logit: float | None = None
    reason: str = ""  # why no fused graph was kept

    def record(self) -> dict[str, Any]:
        return {"blocks": self.blocks, "max_abs_delta_logit": self.max_abs_delta_logit,
                **({"refused": self.reason} if self.reason else {})}


def make_fused_graph(source: Path, target: Path, *, input_name: str, output_name: str,
                     input_size: tuple[int, int], fixed_batch: int | None = None) -> FusionOutcome:
    """Write `target`, the fused scoring graph of `source`, if every check passes.

    Never raises for a graph it cannot fuse: the outcome says why, and the exported graph is
    what scoring then runs. `target` exists afterwards only when the outcome has blocks."""
    import onnx  # noqa: PLC0415
    import onnxruntime as ort  # noqa: PLC0415

    target.parent.mkdir(parents=True, exist_ok=True)
    handle, optimised = tempfile.mkstemp(suffix=".onnx", dir=target.parent)
    os.close(handle)
    try:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = optimised
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        model = onnx.load(optimised)
        if any(init.data_location == onnx.TensorProto.EXTERNAL for init in model.graph.initializer):
            return FusionOutcome(0, reason="weights in an external file")
        expected = sum(node.op_type == "Softmax" for node in model.graph.node)
        blocks = fuse_blocks(model)
        if blocks == 0 or blocks != expected:
            return FusionOutcome(0, reason=f"{blocks} of {expected} attention blocks match a known layout")
        onnx.save(model, str(target))
        del model
        delta = _largest_difference(source, target, input_name, output_name, input_size, fixed_batch)
        if not delta <= TOLERANCE:
            target.unlink()
            return FusionOutcome(0, delta, f"the fused graph's logits differ by {delta:.2e}")
        return FusionOutcome(blocks, delta)
    except Exception as exc:  # onnx / onnxruntime raise their own types (MemoryError included)
        target.unlink(missing_ok=True)
        return FusionOutcome(0, reason=f"could not fuse: {first_line(exc, 200)}")
    finally:
        Path(optimised).unlink(missing_ok=True)


def _largest_difference(source: Path, fused: Path, input_name: str, output_name: str,
                        input_size: tuple[int, int], fixed_batch: int | None) -> float:
    """max |Δlogit| / max(1, |logit|) of the two graphs on two images of random pixels."""
    import onnxruntime as ort  # noqa: PLC0415

    batch = fixed_batch or 2
    pixels = np.random.default_rng(0).standard_normal((batch, 3, *input_size)).astype(np.float32)
    outputs = []
    for path in (source, fused):
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        outputs.append(np.asarray(session.run([output_name], {input_name: pixels})[0], np.float64))
        del session
    if outputs[0].shape != outputs[1].shape:
        raise ModelError(f"the fused graph's output has shape {outputs[1].shape}, not {outputs[0].shape}")
    return float(np.abs(outputs[0] - outputs[1]).max() / max(1.0, float(np.abs(outputs[0]).max())))
