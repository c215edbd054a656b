"""Pieces of a small vision transformer as ONNX nodes: patch embedding, attention, MLP, heads.

The graphs follow what PyTorch exporters write for Hugging Face and timm ViTs, so the loader,
the Softmax finder of `engine.explain.attention_graph` and the rollout see what they see in
real models: a patch-embedding `Conv` whose kernel equals its stride, and per block
Q·Kᵀ as a `MatMul` of two computed tensors, scaled by a `Mul`, then a `Softmax` over the last
axis. Weights are small seeded random numbers; the scores mean nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # what onnxruntime releases back to 1.15 accept
INPUT = "pixel_values"
OUTPUT = "logits"


@dataclass
class GraphBuilder:
    """Collects nodes and seeded weights under unique names."""

    seed: int
    nodes: list[Any] = field(default_factory=list)
    initializers: list[Any] = field(default_factory=list)
    _count: int = 0

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def constant(self, stem: str, value: np.ndarray) -> str:
        name = self.name(stem)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def weight(self, stem: str, *shape: int, scale: float = 0.2) -> str:
        return self.constant(stem, self.rng.normal(0.0, scale, size=shape).astype(np.float32))

    def op(self, op_type: str, inputs: list[str], **attributes: Any) -> str:
        output = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=self.name(op_type), **attributes))
        return output

    def linear(self, x: str, d_in: int, d_out: int, stem: str) -> str:
        return self.op("Add", [self.op("MatMul", [x, self.weight(f"{stem}_w", d_in, d_out)]),
                               self.weight(f"{stem}_b", d_out, scale=0.02)])

    def layer_norm(self, x: str, dim: int) -> str:
        scale = self.constant("ln_scale", np.ones(dim, np.float32))
        bias = self.constant("ln_bias", np.zeros(dim, np.float32))
        return self.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=1e-6)


def patch_tokens(g: GraphBuilder, pixels: str, dim: int, patch: int) -> str:
    """(B, 3, H, W) → (B, patches, dim) through a strided Conv, as ViT patch embeddings do."""
    conv = g.op("Conv", [pixels, g.weight("patch_w", dim, 3, patch, patch, scale=0.05),
                         g.weight("patch_b", dim, scale=0.02)],
                kernel_shape=[patch, patch], strides=[patch, patch])
    flat = g.op("Reshape", [conv, g.constant("flat_shape", np.array([0, dim, -1], np.int64))])
    return g.op("Transpose", [flat], perm=[0, 2, 1])


def prepend_cls(g: GraphBuilder, tokens: str, pixels: str, dim: int) -> str:
    """A learned CLS token in front of the patches, broadcast to the batch."""
    batch = g.op("Slice", [g.op("Shape", [pixels]), g.constant("zero", np.array([0], np.int64)),
                           g.constant("one", np.array([1], np.int64))])
    shape = g.op("Concat", [batch, g.constant("cls_rest", np.array([1, dim], np.int64))], axis=0)
    cls = g.op("Expand", [g.weight("cls", 1, 1, dim), shape])
    return g.op("Concat", [cls, tokens], axis=1)


def attention_block(g: GraphBuilder, x: str, dim: int, heads: int) -> str:
    """Pre-norm multi-head self-attention with a residual, then a small MLP with a residual."""
    head_dim = dim // heads
    normed = g.layer_norm(x, dim)
    split = g.constant("heads_shape", np.array([0, -1, heads, head_dim], np.int64))

    def per_head(stem: str, perm: list[int]) -> str:
        return g.op("Transpose", [g.op("Reshape", [g.linear(normed, dim, dim, stem), split])], perm=perm)

    q = per_head("q", [0, 2, 1, 3])  # (B, heads, T, hd)
    k_t = per_head("k", [0, 2, 3, 1])  # (B, heads, hd, T)
    v = per_head("v", [0, 2, 1, 3])
    scores = g.op("Mul", [g.op("MatMul", [q, k_t]), g.constant("scale", np.array(head_dim ** -0.5, np.float32))])
    probabilities = g.op("Softmax", [scores], axis=-1)
    context = g.op("Transpose", [g.op("MatMul", [probabilities, v])], perm=[0, 2, 1, 3])
    merged = g.op("Reshape", [context, g.constant("merge_shape", np.array([0, -1, dim], np.int64))])
    x = g.op("Add", [x, g.linear(merged, dim, dim, "proj")])
    hidden = g.op("Relu", [g.linear(g.layer_norm(x, dim), dim, 2 * dim, "fc1")])
    return g.op("Add", [x, g.linear(hidden, 2 * dim, dim, "fc2")])


def cls_readout(g: GraphBuilder, x: str) -> str:
    """Token 0 of (B, T, D): the CLS readout of ViT and timm classifiers."""
    return g.op("Gather", [x, g.constant("cls_index", np.array(0, np.int64))], axis=1)


def mean_readout(g: GraphBuilder, x: str) -> str:
    """The mean over tokens: SigLIP's classifier head."""
    return g.op("ReduceMean", [x], axes=[1], keepdims=0)


def finish_model(g: GraphBuilder, features: str, dim: int, classes: int, size: int, name: str) -> Any:
    """Norm + linear classifier on (B, D) features; a model with input (batch, 3, size, size)."""
    logits = g.linear(g.layer_norm(features, dim), dim, classes, "head")
    g.nodes.append(helper.make_node("Identity", [logits], [OUTPUT], name="logits_out"))
    graph = helper.make_graph(
        g.nodes, name,
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["batch", 3, size, size])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", classes])],
        initializer=g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="dfw-self-test")
    model.ir_version = IR_VERSION
    return model
