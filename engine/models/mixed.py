"""Agreement-driven mixed precision: which MatMuls a variant keeps in fp32, found by measurement.

Dynamic INT8 quantization of every weight MatMul is fastest, but one sensitive node (a head
with a small decision margin, the last blocks of a deep model) can move p(manipulated) past
the gate on its own. So when the all-INT8 variant fails on the tuning images, each group of
nodes (one transformer block, or one node outside the blocks) is in turn left in fp32 and the
variant measured again: the groups whose fp32 copy recovers the most agreement are the
sensitive ones. Then the most sensitive 1, 2, 4, … groups are kept in fp32 together until the
tuning images pass or keeping more would leave too little of the graph in INT8 to be worth it.

Everything here is measured on the tuning split only; the held-back split (every third image)
is never used to choose, so the agreement the gate judges is measured on images no choice was
tuned on (`held_back_split`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import onnx

HELD_BACK_EVERY = 3  # every third calibration image is held back for the gate
MAX_FP32_SHARE = 0.5  # of the quantizable weights: past this a variant is not worth keeping
MAX_GROUPS_MEASURED = 32  # a model with more groups is measured on its largest ones only
_BLOCK = re.compile(r"(?:^|/)((?:encoder/)?(?:layers?|blocks?|resblocks|h)[._]\d+)(?:/|$)")


@dataclass(frozen=True)
class Split:
    """Calibration image indices: `tune` chooses, `held_back` judges; no index is in both."""

    tune: tuple[int, ...]
    held_back: tuple[int, ...]


def held_back_split(count: int) -> Split:
    """Every third image (indices 2, 5, 8, …) held back; with two images, the second."""
    if count < 2:
        return Split(tuple(range(count)), ())
    held = tuple(i for i in range(count) if i % HELD_BACK_EVERY == HELD_BACK_EVERY - 1) or (count - 1,)
    return Split(tuple(i for i in range(count) if i not in held), held)


@dataclass(frozen=True)
class NodeGroup:
    name: str  # the block's path ("layers.3"), or the node's own name outside any block
    nodes: tuple[str, ...]
    weights: int  # elements of the weights its MatMuls multiply by


def weight_matmuls(onnx_path: str | Path) -> dict[str, int]:
    """MatMul nodes whose second input is a stored weight (what dynamic quantization converts),
    with the number of weight elements each holds."""
    model = onnx.load(str(onnx_path), load_external_data=False)
    sizes = {init.name: int(np.prod(init.dims)) for init in model.graph.initializer}
    return {node.name: sizes[node.input[1]] for node in model.graph.node
            if node.op_type == "MatMul" and len(node.input) == 2 and node.input[1] in sizes and node.name}


def node_groups(matmuls: dict[str, int]) -> list[NodeGroup]:
    """The nodes by transformer block, in graph order; a node outside any block is its own group."""
    members: dict[str, list[str]] = {}
    for name in matmuls:
        found = _BLOCK.search(name)
        members.setdefault(found.group(1) if found else name, []).append(name)
    return [NodeGroup(key, tuple(nodes), sum(matmuls[n] for n in nodes)) for key, nodes in members.items()]


@dataclass(frozen=True)
class Attempt:
    """One variant tried: the nodes it kept in fp32 and its worst |Δp| and agreement on tuning images."""

    kept_fp32: tuple[str, ...]
    tune_delta: float
    tune_agreement: float
    passed_tune: bool


Measure = Callable[[Sequence[str]], Attempt]  # quantize keeping these nodes fp32, measure on tuning images


def search(groups: Sequence[NodeGroup], measure: Measure, first: Attempt,
           note: Callable[[str], None] | None = None) -> list[Attempt]:
    """Attempts after the all-INT8 `first` failed: the sensitivity of each group, then the most
    sensitive groups kept in fp32 together, 1, 2, 4, … at a time, until the tuning images pass.
    Returns every attempt made, in order (the last one passed, or none did)."""
    total = sum(g.weights for g in groups) or 1
    measured = sorted(groups, key=lambda g: -g.weights)[:MAX_GROUPS_MEASURED]
    attempts: list[Attempt] = []
    recovered: dict[str, float] = {}
    for group in measured:
        if group.weights / total > MAX_FP32_SHARE:
            continue
        if note:
            note(f"sensitivity of {group.name}")
        attempt = measure(group.nodes)
        attempts.append(attempt)
        if attempt.passed_tune:
            return attempts  # one group in fp32 is enough
        recovered[group.name] = first.tune_delta - attempt.tune_delta
    ranked = [g for g in sorted(measured, key=lambda g: -recovered.get(g.name, float("-inf")))
              if g.name in recovered and recovered[g.name] > 0]
    count = 2
    while count <= len(ranked):
        chosen = ranked[:count]
        if sum(g.weights for g in chosen) / total > MAX_FP32_SHARE:
            break
        if note:
            note(f"keeping {count} groups in fp32")
        attempt = measure([n for g in chosen for n in g.nodes])
        attempts.append(attempt)
        if attempt.passed_tune:
            break
        count *= 2
    return attempts
