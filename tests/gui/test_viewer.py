"""The viewer and the timeline on a finished video run: frames, keys, overlays, faces, bookmarks, sync."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from engine.api import ENSEMBLE, AnalysisJob, Workstation
from tests.engine.conftest import run_main
from tests.gui.test_window import TIMEOUT, wait_idle

MODELS = ("vit_optimum", "timm_vit")


def pixels(image) -> np.ndarray:
    image = image.convertToFormat(image.Format.Format_RGB888)
    data = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return data[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


@pytest.fixture
def analysed(tmp_path, home, media):
    case_path = tmp_path / "viewer.dfwcase"
    with Workstation(home).create_case(case_path, title="Viewer", examiner="Ann") as case:
        clip = case.add_evidence([media["clip"]]).added[0].evidence.id
        events = list(case.analyze(AnalysisJob(models=MODELS, provider="cpu", allow_test_fixtures=True,
                                               frames_per_clip=6, explain=True)))
    return {"case": case_path, "clip": clip, "run": events[0].run_id}


def open_item(qtbot, make_window, home, analysed):
    window = make_window(home, str(analysed["case"]))
    qtbot.waitUntil(lambda: window.overview is not None, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    window.case_panel.select(analysed["clip"])
    qtbot.waitUntil(lambda: window.viewer.bundle is not None and window.viewer.bundle.image is not None,
                    timeout=TIMEOUT)
    wait_idle(qtbot, window)
    return window


def shown(qtbot, window, frame):
    qtbot.waitUntil(lambda: window.viewer.bundle is not None and window.viewer.bundle.frame_index == frame
                    and window.viewer.bundle.image is not None, timeout=TIMEOUT)


def test_a_timeline_click_shows_that_frame_and_the_keys_step(qtbot, make_window, home, analysed):
    window = open_item(qtbot, make_window, home, analysed)
    frames = list(window.item_view.frames)
    assert len(frames) == 6 and window.viewer.frame_index == frames[0]
    timeline = window.timeline
    target = frames[3]
    point = timeline.plot.getViewBox().mapViewToScene(QPointF(timeline.x_of(target), 0.5))
    clicked = []
    timeline.frame_clicked.connect(clicked.append)
    timeline.plot.scene().sigMouseClicked.emit(_click(point))
    assert clicked == [target]
    shown(qtbot, window, target)
    with Workstation(home).open_case(analysed["case"], readonly=True) as case:
        expected = case.frame(analysed["clip"], target)
    np.testing.assert_array_equal(pixels(window.viewer.bundle.image), expected)
    assert f"frame {target} · 00:00:" in window.viewer.position.text() and "4 of 6 sampled" in window.viewer.position.text()
    assert timeline.cursor.value() == pytest.approx(timeline.x_of(target))
    window.viewer.setFocus()
    for key, want in ((Qt.Key.Key_Right, frames[4]), (Qt.Key.Key_Left, frames[3]), (Qt.Key.Key_End, frames[-1]),
                      (Qt.Key.Key_Home, frames[0])):
        qtbot.keyClick(window.viewer, key)
        shown(qtbot, window, want)
    over = window.item_view.timeline.frames_over()
    qtbot.keyClick(window.viewer, Qt.Key.Key_PageDown)
    if over and over[0] != frames[0]:
        shown(qtbot, window, over[0])
    else:
        assert window.viewer.frame_index in (frames[0], *over)


def _click(scene_pos):
    class Click:
        def button(self):
            return Qt.MouseButton.LeftButton

        def scenePos(self):
            return scene_pos

    return Click()


def test_overlay_toggle_opacity_blend_and_another_model(qtbot, make_window, home, analysed):
    window = open_item(qtbot, make_window, home, analysed)
    viewer, view = window.viewer, window.viewer.left
    viewer.layers.regions.setCurrentIndex(viewer.layers.regions.findData("frame"))
    view.actual_size()
    assert {viewer.layers.model.itemData(i) for i in range(viewer.layers.model.count())} == set(MODELS)
    (piece,) = viewer._pieces(viewer.layers.model.currentData())
    frame = pixels(viewer.bundle.image)
    x, y = frame.shape[1] // 2, frame.shape[0] // 2
    at = view.mapFromScene(QPointF(x + 0.5, y + 0.5))

    def colour_at(piece, x, y):
        """The overlay's colour over frame pixel (x, y): it is coloured smaller and scaled up by the view."""
        image = piece.image.convertToFormat(piece.image.Format.Format_RGB888)
        scale = image.width() / piece.box[2]
        return pixels(image)[int((y - piece.box[1]) * scale), int((x - piece.box[0]) * scale)].astype(float)

    overlay_rgb = colour_at(piece, x, y)

    def grabbed():
        image = view.viewport().grab().toImage()
        colour = image.pixelColor(at)
        return np.array([colour.red(), colour.green(), colour.blue()], float)

    for opacity in (0.3, 0.9):
        viewer.layers.opacity.setValue(int(opacity * 100))
        expected = (1 - opacity) * frame[y, x] + opacity * overlay_rgb
        assert np.abs(grabbed() - expected).max() <= 8, (grabbed(), expected)
    viewer.layers.overlay.setChecked(False)
    assert np.abs(grabbed() - frame[y, x]).max() <= 3
    viewer.layers.overlay.setChecked(True)
    first = grabbed()
    viewer.layers.model.setCurrentIndex(1 - viewer.layers.model.currentIndex())
    (other,) = viewer._pieces(viewer.layers.model.currentData())
    assert other.model != piece.model and "rollout" in viewer.layers.method.text()
    other_rgb = colour_at(other, x, y)
    assert np.abs(grabbed() - (0.1 * frame[y, x] + 0.9 * other_rgb)).max() <= 8
    assert not np.array_equal(first, grabbed()) or np.abs(overlay_rgb - other_rgb).max() < 8


def test_not_a_face_recomputes_the_verdict_and_is_audited(qtbot, make_window, home, analysed):
    window = open_item(qtbot, make_window, home, analysed)
    before = next(v for v in window.item_view.verdicts if v.model == ENSEMBLE)
    window.viewer.not_a_face.emit(analysed["run"], analysed["clip"], 0, True)
    qtbot.waitUntil(lambda: window.item_view.timeline.excluded_tracks == {0: "not a face"}, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    after = next(v for v in window.item_view.verdicts if v.model == ENSEMBLE)
    assert "face track 0" in before.details["tracks"] and "face track 0" not in after.details["tracks"]
    assert after.details["excluded_tracks"] == {"0": "not a face"}
    assert any("verdicts judged again" in m.text for m in window.messages.messages())
    with Workstation(home).open_case(analysed["case"], readonly=True) as case:
        actions = [e.action for e in case._store.audit_entries()]
    assert actions[-3:] == ["track excluded", "verdicts stored", "verdicts recomputed"]


def test_a_bookmark_with_a_status_reaches_the_dock_and_the_command_line(qtbot, make_window, home, analysed,
                                                                        monkeypatch):
    window = open_item(qtbot, make_window, home, analysed)
    window.viewer.setFocus()
    qtbot.keyClick(window.viewer, Qt.Key.Key_Right)
    frame = window.item_view.frames[1]
    shown(qtbot, window, frame)
    from PySide6.QtWidgets import QInputDialog

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("jaw line flickers against the collar", True))
    window.actions_by_name["bookmark_frame"].trigger()
    qtbot.waitUntil(lambda: window.bookmarks_model.rowCount() == 1, timeout=TIMEOUT)
    window.bookmarks.view.selectRow(0)
    window.bookmarks.view.setFocus()
    qtbot.keyClick(window.bookmarks.view, Qt.Key.Key_3)
    qtbot.waitUntil(lambda: window.bookmarks_model.rowCount() == 1
                    and window.bookmarks_model.bookmark(0).status == "warning", timeout=TIMEOUT)
    wait_idle(qtbot, window)
    listed = run_main("case", "annotations", str(analysed["case"]), "--json", home=home)
    assert listed.returncode == 0, listed.stderr
    (bookmark,) = [a for a in json.loads(listed.stdout)["annotations"] if a["kind"] == "bookmark"]
    assert (bookmark["frame_index"], bookmark["status"], bookmark["text"]) == (frame, "warning",
                                                                               "jaw line flickers against the collar")
    # The timeline flags the frame, its label cut at a word.
    qtbot.waitUntil(lambda: [f.label.format for f in window.timeline.flag_items] == ["⚑ jaw line flickers…"],
                    timeout=TIMEOUT)
    window.bookmarks._clicked(window.bookmarks_model.index(0, 0))
    assert window.viewer.frame_index == frame


def test_side_by_side_views_stay_in_sync_after_zoom_and_pan(qtbot, make_window, home, analysed):
    window = open_item(qtbot, make_window, home, analysed)
    viewer = window.viewer
    viewer.layers.side_by_side.setChecked(True)
    assert viewer.right.isVisible()
    viewer.left.set_zoom(3.0)
    viewer.left.horizontalScrollBar().setValue(viewer.left.horizontalScrollBar().value() + 40)
    zoom_left, centre_left = viewer.left.state()
    zoom_right, centre_right = viewer.right.state()
    assert zoom_right == pytest.approx(zoom_left == 3.0 and 3.0)
    assert abs(centre_right.x() - centre_left.x()) <= 1 and abs(centre_right.y() - centre_left.y()) <= 1
    viewer.right.zoom_by(2.0)
    assert viewer.left.zoom == pytest.approx(6.0)
    assert viewer.left.pixmap_item.transformationMode() == Qt.TransformationMode.FastTransformation


def test_saving_the_view_is_hashed_and_logged(qtbot, make_window, home, analysed, tmp_path):
    window = open_item(qtbot, make_window, home, analysed)
    out = tmp_path / "view.png"
    digest = window.save_view_to(str(out))
    wait_idle(qtbot, window)
    import hashlib

    assert hashlib.sha256(out.read_bytes()).hexdigest() == digest
    with Workstation(home).open_case(analysed["case"], readonly=True) as case:
        entry = case._store.last_audit_entry("view exported")
    assert entry is not None and entry.details["sha256"] == digest and entry.details["frame_index"] is not None


def test_a_changed_evidence_file_shows_no_stale_pixels(qtbot, make_window, home, analysed, media):
    window = open_item(qtbot, make_window, home, analysed)
    media["clip"].write_bytes(media["clip"].read_bytes()[:-100] + b"\x00" * 100)
    window.viewer.setFocus()
    qtbot.keyClick(window.viewer, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: window.viewer.bundle is not None and window.viewer.bundle.error is not None,
                    timeout=TIMEOUT)
    assert window.viewer.bundle.image is None and window.viewer.left.pixmap_item.pixmap().isNull()
    assert "changed since it was added" in window.viewer.notice.text() and window.viewer.notice.isVisible()


def test_a_forensic_layer_follows_the_frame_and_goes_right_side_by_side(qtbot, make_window, home, analysed):
    window = open_item(qtbot, make_window, home, analysed)
    viewer, frames = window.viewer, list(window.item_view.frames)
    viewer.layers.set_forensic_kind("residual")
    qtbot.waitUntil(lambda: viewer.current_map() is not None, timeout=TIMEOUT)
    assert viewer.current_map().frame_index == frames[0] and f"frame {frames[0]}" in viewer.legend.legend.text()
    viewer.setFocus()
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    shown(qtbot, window, frames[1])
    qtbot.waitUntil(lambda: viewer.current_map() is not None, timeout=TIMEOUT)
    assert viewer.current_map().frame_index == frames[1] and f"frame {frames[1]}" in viewer.legend.legend.text()
    with Workstation(home).open_case(analysed["case"], readonly=True) as case:
        expected = case.forensic_map(analysed["clip"], frames[1], "residual").rgb
    np.testing.assert_array_equal(pixels(viewer.left.map_item.pixmap().toImage()), expected)
    # Side by side: the left keeps the frame as it is, the right carries the map, both in step.
    viewer.layers.overlay.setChecked(False)
    viewer.layers.side_by_side.setChecked(True)
    assert viewer.right.isVisible() and viewer.right.map_item.isVisible() and not viewer.left.map_item.isVisible()
    viewer.left.set_zoom(2.0)
    assert viewer.right.zoom == pytest.approx(2.0)
