"""Label meaning: inferred when the names say it plainly, refused when they do not."""

from __future__ import annotations

import pytest

from engine.errors import ModelError
from engine.models.spec import confirmed_meaning, infer_meaning, label_kind


@pytest.mark.parametrize("label, kind", [
    ("Fake", "fake"), ("REAL", "real"), ("Deepfake", "fake"), ("manipulated", "fake"),
    ("AI-generated", "fake"), ("authentic", "real"), ("Not Fake", "unknown"),
    ("class_1", "unknown"), ("real but fake", "unknown"), ("High Quality Deepfake", "fake"),
])
def test_label_kind(label, kind):
    assert label_kind(label) == kind


def test_two_class_orders():
    assert infer_meaning(["Real", "Fake"], "softmax").manipulated_indices == (1,)
    assert infer_meaning(["fake", "real"], "softmax").manipulated_indices == (0,)


def test_several_manipulation_classes_add_up():
    meaning = infer_meaning(["real", "faceswap", "deepfake"], "softmax")
    assert meaning.manipulated_indices == (1, 2)


def test_quality_model_is_kept_out_of_authenticity():
    meaning = infer_meaning(["Issue In Deepfake", "High Quality Deepfake"], "softmax")
    assert not meaning.is_authenticity


def test_single_logit_real_is_inverted():
    meaning = infer_meaning(["real"], "sigmoid")
    assert meaning.is_authenticity and meaning.sigmoid_means_real


def test_unclear_labels_refused():
    for labels, activation in ((["cat", "dog"], "softmax"), (["score"], "sigmoid"), (["Not AI", "AI"], "softmax")):
        with pytest.raises(ModelError, match="cannot tell"):
            infer_meaning(labels, activation)


def test_user_statement_checked_against_labels():
    with pytest.raises(ModelError, match="not one of the model's labels"):
        confirmed_meaning(["a", "b"], "softmax", None, ["c"])
    with pytest.raises(ModelError, match="contradict"):
        confirmed_meaning(["a", "b"], "softmax", "other", ["a"])
    with pytest.raises(ModelError, match="every label cannot mean manipulated"):
        confirmed_meaning(["a", "b"], "softmax", None, ["a", "b"])
    assert confirmed_meaning(["a", "b"], "softmax", "authenticity", ["A"]).manipulated_indices == (0,)
