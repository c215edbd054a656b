"""Agreement-driven mixed precision and the held-back gate: a model with one sensitive node
fails all-INT8 and passes once that node stays fp32; held-back images judge and never choose."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

import engine.models.quantize as quantize
from engine.errors import ModelError
from engine.models.gate import make_variant
from engine.models.inference import ModelRunner
from engine.models.loader import load_model
from engine.models.mixed import Attempt, NodeGroup, held_back_split, node_groups, search, weight_matmuls
from engine.models.preprocess import preprocess_batch
from engine.models.quantize import QuantizeRecipe, Thresholds, compare_logits, quantize_stored_model
from engine.models.store import ModelStore
from tests.engine.conftest import MODELS
from tests.engine.models.sensitive import HEAD, build_sensitive_model, scenes

GATE = Thresholds()  # the defaults: ≥ 99 % top-1 agreement and max |Δp| ≤ 0.03


@pytest.fixture(scope="module")
def images():
    return scenes(24)


@pytest.fixture
def sensitive(tmp_path, images):
    spec = load_model(str(MODELS / "vit_optimum"))
    folder = build_sensitive_model(tmp_path / "sensitive", preprocess_batch(images, spec.preprocess))
    store = ModelStore(tmp_path / "home")
    store.import_model(folder, "sensitive", allow_test_fixture=True)
    return store


def test_all_int8_fails_the_gate_on_the_sensitive_head(sensitive, images):
    with pytest.raises(ModelError, match="disagrees with fp32: tuning images: .*held-back images: "):
        quantize_stored_model(sensitive, "sensitive", images, source="scenes", recipe=QuantizeRecipe(mixed=False))
    assert not (sensitive.get("sensitive").folder / "model_int8.onnx").exists()


@pytest.mark.parametrize("faster", ["dynamic", "static"])
def test_mixed_precision_keeps_the_sensitive_node_in_fp32_and_passes(sensitive, images, monkeypatch, faster):
    # `auto` keeps the faster passing method; which that is depends on the machine (static won
    # once in CI), so each is made the faster in turn and the stored file checked in its form.
    def speed(path, *args, **kwargs):
        static = any(n.op_type == "QuantizeLinear" for n in onnx.load(str(path)).graph.node)
        return 50.0 if ("static" if static else "dynamic") == faster else 40.0

    monkeypatch.setattr(quantize, "images_per_second", speed)
    outcome = quantize_stored_model(sensitive, "sensitive", images, source="scenes")
    figures = outcome.figures
    assert outcome.accepted and not outcome.forced
    assert figures["kept_fp32"] == [HEAD]
    first, *_, last = figures["attempts"]
    assert first["kept_fp32"] == [] and not first["passed_tune"] and first["tune_delta"] > GATE.max_abs_delta_p
    assert last["kept_fp32"] == [HEAD] and last["passed_tune"]
    assert figures["split"]["tune"] == 16 and figures["split"]["held_back"] == 8
    assert figures["held_back"]["max_abs_delta_p"] <= GATE.max_abs_delta_p
    assert "1 MatMul node(s) kept in fp32" in figures["method"]
    # The stored file: the head is still a float MatMul, the other weight MatMuls are integer,
    # in the form of the method chosen.
    assert figures["quantization_method"] == faster
    variant = sensitive.load("sensitive", "int8")
    graph = onnx.load(str(variant.onnx_path)).graph
    assert [n.name for n in graph.node if n.op_type == "MatMul" and n.name == HEAD] == [HEAD]
    weights = set(weight_matmuls(sensitive.load("sensitive", "default").onnx_path))
    if faster == "dynamic":
        assert sum(n.op_type == "MatMulInteger" for n in graph.node) == len(weights) - 1
    else:
        assert _qdq_weight_matmuls(graph) == weights - {HEAD}
    # And what it gives, measured again independently on the held-back images (in batches of
    # their own: dynamic quantization scales activations per batch, so the figure moves a little).
    held = [images[i] for i in held_back_split(len(images)).held_back]
    fp32 = [p.p_manipulated for p in ModelRunner(sensitive.load("sensitive", "default"), "cpu").predict(held)]
    int8 = [p.p_manipulated for p in ModelRunner(variant, "cpu").predict(held)]
    assert np.abs(np.array(fp32) - np.array(int8)).max() <= GATE.max_abs_delta_p


def _qdq_weight_matmuls(graph) -> set[str]:
    """MatMuls whose second input is dequantized from an integer weight (QDQ static quantization)."""
    integer_weights = {init.name for init in graph.initializer if init.data_type in (onnx.TensorProto.INT8,
                                                                                     onnx.TensorProto.UINT8)}
    dequantized = {n.output[0] for n in graph.node if n.op_type == "DequantizeLinear" and n.input[0] in integer_weights}
    return {n.name for n in graph.node if n.op_type == "MatMul" and n.input[1] in dequantized}


@pytest.mark.parametrize("count", [0, 1, 2, 3, 7, 24, 101])
def test_the_held_back_split_shares_no_image_and_covers_them_all(count):
    split = held_back_split(count)
    assert not set(split.tune) & set(split.held_back)
    assert sorted(split.tune + split.held_back) == list(range(count))
    if count >= 3:
        assert len(split.held_back) == count // 3
    assert held_back_split(count) == split  # the same images every time: a run can be checked


class _StubCheck:
    """A VariantCheck whose variants are right on the tuning images and wrong on the held-back ones."""

    def __init__(self, spec, count):
        self.spec, self.compare = spec, compare_logits
        self.split = held_back_split(count)
        rng = np.random.default_rng(0)
        self.reference = rng.normal(size=(count, 2))
        self.kept: tuple[str, ...] = ()

    def measure(self, path):
        logits = self.reference.copy()
        if not self.kept:  # all-INT8: wrong everywhere
            logits[:, 0] += 3.0
        logits[list(self.split.held_back)] = -logits[list(self.split.held_back)]  # held-back: always wrong
        return logits


def test_the_held_back_images_judge_but_never_choose(tmp_path, monkeypatch):
    spec = load_model(str(MODELS / "vit_optimum"))
    check = _StubCheck(spec, 12)

    def quantize(path, kept):
        check.kept = tuple(kept)
        path.write_bytes(b"")
        return path

    groups = [NodeGroup("a", ("a/MatMul",), 10), NodeGroup("b", ("b/MatMul",), 10)]
    import engine.models.gate as gate

    monkeypatch.setattr(gate, "node_groups", lambda _matmuls: groups)
    monkeypatch.setattr(gate, "weight_matmuls", lambda _path: {})
    result = make_variant(check, tmp_path / "v.onnx", quantize, GATE)
    assert result.kept_fp32 == ("a/MatMul",)  # chosen because the tuning images pass with it
    assert result.tune.max_abs_delta_p == pytest.approx(0.0)
    assert not result.passes(GATE)  # and refused, because the held-back images do not


def test_groups_are_transformer_blocks_and_nodes_outside_them():
    names = {"/vit/encoder/layer.0/attention/q/MatMul": 4, "/vit/encoder/layer.0/output/dense/MatMul": 8,
             "/vit/encoder/layer.11/attention/q/MatMul": 4, "/blocks.3/mlp/fc2/MatMul": 2, "/head/MatMul": 1}
    groups = {g.name: (g.nodes, g.weights) for g in node_groups(names)}
    assert groups["encoder/layer.0"] == (("/vit/encoder/layer.0/attention/q/MatMul",
                                          "/vit/encoder/layer.0/output/dense/MatMul"), 12)
    assert set(groups) == {"encoder/layer.0", "encoder/layer.11", "blocks.3", "/head/MatMul"}


def test_the_search_stops_when_keeping_more_would_leave_too_little_in_int8():
    groups = [NodeGroup(str(i), (f"{i}/MatMul",), 10) for i in range(4)]
    measured: list[tuple[str, ...]] = []

    def measure(kept):
        measured.append(tuple(kept))
        return Attempt(tuple(kept), 0.2 - 0.01 * len(kept), 0.9, False)  # never enough

    attempts = search(groups, measure, Attempt((), 0.2, 0.9, False))
    assert [len(k) for k in measured] == [1, 1, 1, 1, 2]  # 4 groups would be all of the weights
    assert len(attempts) == 5
