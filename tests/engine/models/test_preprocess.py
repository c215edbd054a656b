"""Preprocessing refusals: recipes that cannot work and images too elongated to resize.

(Exactness against the reference processors is in models/test_reference_outputs.py.)
"""

from __future__ import annotations

import json

import pytest
from PIL import Image

import engine.models.preprocess as preprocess_module
from engine.cli import main
from engine.errors import MediaError, ModelError
from engine.models.preprocess import PreprocessRecipe, preprocess, recipe_from_hf
from tests.engine.conftest import IMAGES, MODELS


def test_recipes_that_cannot_work_are_refused():
    with pytest.raises(ModelError, match="std must not be zero"):
        PreprocessRecipe(family="hf", input_size=(8, 8), resize_to=(8, 8), std=(0.5, 0.0, 0.5))
    with pytest.raises(ModelError, match="finite"):
        PreprocessRecipe(family="hf", input_size=(8, 8), resize_to=(8, 8), mean=(float("inf"), 0.5, 0.5))
    with pytest.raises(ModelError, match="input size"):
        PreprocessRecipe(family="hf", input_size=(0, 8))
    recipe = recipe_from_hf({"size": {"shortest_edge": 8}, "do_center_crop": True, "crop_size": 8})
    assert PreprocessRecipe.from_dict(json.loads(json.dumps(recipe.to_dict()))) == recipe


def test_an_image_too_elongated_to_resize_is_a_media_error(monkeypatch):
    recipe = recipe_from_hf({"size": {"height": 16, "width": 16}})
    monkeypatch.setattr(preprocess_module, "MAX_RESIZE_PIXELS", 16 * 500)
    assert preprocess(Image.new("RGB", (4, 400)), recipe).shape == (3, 16, 16)  # 16×400 intermediate fits
    with pytest.raises(MediaError, match="too elongated"):
        preprocess(Image.new("RGB", (2, 600)), recipe)  # 16×600 does not


def test_score_reports_an_elongated_image_and_scores_the_rest(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(preprocess_module, "MAX_RESIZE_PIXELS", 224 * 1000)
    strip = tmp_path / "strip.png"
    Image.new("L", (1, 5000)).save(strip)
    code = main(["score", str(strip), str(IMAGES / "rgb_640x480.jpg"), "--model", str(MODELS / "vit_optimum"),
                 "--json"])
    results = json.loads(capsys.readouterr().out)
    assert code == 1
    assert "too elongated" in results[0]["error"]
    assert "error" not in results[1] and results[1]["predictions"]
