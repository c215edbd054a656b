"""The feeder thread: regions with each model's pixels, then "decoded", errors per item, END last."""

from __future__ import annotations

import queue
import shutil

import numpy as np

from engine.analysis.feeder import END, DecodePlan, Feeder
from engine.case import CaseStore
from engine.models.loader import load_model
from tests.engine.conftest import IMAGES, MODELS


def _drain(feed: "queue.Queue") -> list:
    out = []
    while True:
        message = feed.get(timeout=30)
        out.append(message)
        if message is END:
            return out


def test_messages_per_item_and_a_bad_item_does_not_stop_the_rest(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes((IMAGES / "rgb_640x480.jpg").read_bytes()[:300])
    photo = tmp_path / "photo.jpg"
    shutil.copy(IMAGES / "rgb_640x480.jpg", photo)
    with CaseStore.create(tmp_path / "c.dfwcase", "F", "E") as store:
        bad, good = store.add_evidence(broken), store.add_evidence(photo)
    specs = {"vit": load_model(MODELS / "vit_optimum"), "timm": load_model(MODELS / "timm_vit")}
    feed: "queue.Queue" = queue.Queue(maxsize=4)
    feeder = Feeder([(bad, ("vit",)), (good, ("vit", "timm"))], specs, frames_per_clip=2, face_mode="off",
                    face_margin=1.3, yunet_path=None, out=feed)
    feeder.start()
    messages = _drain(feed)
    feeder.join(timeout=10)
    assert [m[:2] for m in messages[:-1]] == [("error", bad.id), ("regions", good.id), ("decoded", good.id)]
    assert messages[0][2] == "decode" and "broken.jpg" in messages[0][3]
    _, _, regions, pixels = messages[1]
    assert len(regions) == 1 and regions[0].image is None  # pixels are made, the image is dropped
    assert pixels["vit"].shape == (1, 3, 224, 224) and pixels["timm"].shape == (1, 3, 96, 96)
    assert pixels["vit"].dtype == np.float32


def test_stop_ends_a_full_queue_without_hanging(tmp_path):
    with CaseStore.create(tmp_path / "c.dfwcase", "F", "E") as store:
        items = [store.add_evidence(IMAGES / name) for name in ("rgb_640x480.jpg", "gray_257x129.png",
                                                                 "tiny_17x31.png", "palette_200x200.png")]
    specs = {"vit": load_model(MODELS / "vit_optimum")}
    feed: "queue.Queue" = queue.Queue(maxsize=1)
    feeder = Feeder([(item, ("vit",)) for item in items], specs, frames_per_clip=1, face_mode="off",
                    face_margin=1.3, yunet_path=None, out=feed)
    feeder.start()
    feed.get(timeout=30)  # one message taken, the queue refills and blocks the thread
    feeder.stop.set()
    feeder.join(timeout=10)
    assert not feeder.is_alive()


def test_decoding_plan_follows_where_inference_runs():
    assert Feeder.decoding_for("cpu", cpus=8) == DecodePlan(threads=1, workers=4)
    assert Feeder.decoding_for("gpu", cpus=2).workers == 2 and Feeder.decoding_for("gpu", cpus=2).threads > 1
