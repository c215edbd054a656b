"""Adding evidence: folders walked, duplicates and refusals reported per file, progress in bytes, cancel."""

from __future__ import annotations

import os
import shutil

import pytest

from engine.case import CaseStore
from engine.case.intake import AddedItem, RefusedItem, add_paths
from tests.engine.conftest import IMAGES


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "dossier"
    (root / "sub").mkdir(parents=True)
    shutil.copy(IMAGES / "rgb_640x480.jpg", root / "a.jpg")
    shutil.copy(IMAGES / "rgb_640x480.jpg", root / "sub" / "copy of a.jpg")  # same content
    shutil.copy(IMAGES / "gray_257x129.png", root / "sub" / "b.png")
    os.mkfifo(root / "pipe")
    return root


def test_a_folder_is_walked_and_every_file_reported(tmp_path, folder):
    heard: list = []
    progress: list[tuple[int, int]] = []
    with CaseStore.create(tmp_path / "c.dfwcase", "I", "E") as store:
        report = add_paths(store, [folder], progress=lambda d, t, _: progress.append((d, t)), on_item=heard.append)
        stored = store.list_evidence()
    assert [os.path.relpath(a.path, folder) for a in report.added] == ["a.jpg", "sub/b.png", "sub/copy of a.jpg"]
    assert [a.duplicate for a in report.added] == [False, False, True]
    assert len(report.new) == 2 and len(report.duplicates) == 1 and len(stored) == 2
    (refused,) = report.refused
    assert refused.path.endswith("pipe") and "FIFO" in refused.reason
    assert isinstance(heard[0], RefusedItem) and all(isinstance(h, AddedItem) for h in heard[1:]) and len(heard) == 4
    total = sum(os.path.getsize(a.path) for a in report.added)
    assert progress[-1] == (total, total) and [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert stored[0].metadata["image"]["width"] == 640  # described as it was added


def test_cancel_stops_before_the_next_file_and_keeps_what_was_added(tmp_path, folder):
    added: list = []
    with CaseStore.create(tmp_path / "c.dfwcase", "I", "E") as store:
        report = add_paths(store, [folder], is_cancelled=lambda: len(added) >= 1,
                           on_item=lambda item: added.append(item) if isinstance(item, AddedItem) else None)
        assert report.cancelled and len(report.added) == 1
        assert [e.path_given for e in store.list_evidence()] == [report.added[0].path]


def test_an_image_is_added_with_its_provenance_findings(store, tmp_path):
    from PIL import Image, PngImagePlugin

    from engine.case.intake import add_paths
    from engine.forensics.records import ProvenanceReport, Severity

    made = tmp_path / "made.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a portrait photo\nSteps: 30, Sampler: DPM++ 2M, CFG scale: 7, Seed: 1, Model: sd_xl")
    Image.new("RGB", (64, 48), (120, 80, 60)).save(made, pnginfo=info)
    report = add_paths(store, [made])
    evidence = store.get_evidence(report.added[0].evidence.id)
    found = ProvenanceReport.from_dict(evidence.metadata["provenance"])
    assert found.sha256 == evidence.sha256
    assert any(f.severity == Severity.STRONG and "parameters" in f.source for f in found.findings), found.findings
    entry = store.last_audit_entry("evidence metadata recorded")
    assert entry is not None and "provenance" in entry.details["keys"] and len(entry.details["metadata_sha256"]) == 64
