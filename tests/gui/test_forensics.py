"""Forensic layers in the viewer and provenance findings in the details panel, offscreen."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from PySide6.QtCore import QPointF, Qt

from engine.api import FORENSIC_MAP_KINDS, Case, FindingSeverity, Workstation
from gui.menus import shortcut_table
from gui.provenance_jobs import COMPUTED, STORED, LoadProvenance
from gui.viewer.jobs import LoadForensicMap
from gui.widgets.provenance import SEVERITY_COLOURS
from tests.gui.test_viewer import pixels
from tests.gui.test_window import TIMEOUT, wait_idle

# What each kind's legend must speak of, so the analyst reads what the colours mean.
LEGEND_WORDS = {"ela": ("Error level", "JPEG quality", "of 255 levels"), "noise": ("Noise level", "noise σ", "block"),
                "residual": ("Noise residual", "residual", "grey levels"),
                "spectrum": ("Spectrum", "spectrum", "cycles/pixel")}
SD_PARAMETERS = ("portrait photo of a man, studio light\nNegative prompt: blurry\nSteps: 30, Sampler: DPM++ 2M Karras, "
                 "CFG scale: 7, Seed: 1234, Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly")


@pytest.fixture
def threads(monkeypatch):
    """Records the thread each engine call for a map or a provenance report ran on."""
    seen: dict[str, list[int]] = {"map": [], "provenance": []}
    real_map, real_provenance = Case.forensic_map, Case.provenance

    def forensic_map(self, *args, **kwargs):
        seen["map"].append(threading.get_ident())
        return real_map(self, *args, **kwargs)

    def provenance(self, *args, **kwargs):
        seen["provenance"].append(threading.get_ident())
        return real_provenance(self, *args, **kwargs)

    monkeypatch.setattr(Case, "forensic_map", forensic_map)
    monkeypatch.setattr(Case, "provenance", provenance)
    return seen


def submitted(window, monkeypatch) -> list:
    jobs: list = []
    real = window.engine.submit

    def submit(job, *args, **kwargs):
        jobs.append(job)
        return real(job, *args, **kwargs)

    monkeypatch.setattr(window.engine, "submit", submit)
    return jobs


def open_case_on(qtbot, make_window, home, case_path, evidence_id):
    window = make_window(home, str(case_path))
    qtbot.waitUntil(lambda: window.overview is not None, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert window.case_panel.select(evidence_id)
    qtbot.waitUntil(lambda: window.viewer.bundle is not None and window.viewer.bundle.image is not None
                    and window.viewer.bundle.evidence_id == evidence_id, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    return window


def engine_thread_id(qtbot, window) -> int:
    """The reader thread's Python id, asked of the reader itself."""
    from gui.jobs import Job

    class WhichThread(Job):
        reads_only = True

        def run(self, ctx):
            return threading.get_ident()

    answer: list[int] = []
    window.engine.submit(WhichThread(), on_done=answer.append)
    qtbot.waitUntil(lambda: bool(answer), timeout=TIMEOUT)
    return answer[0]


@pytest.fixture
def photo_case(tmp_path, home, media):
    case_path = tmp_path / "forensics.dfwcase"
    with Workstation(home).create_case(case_path, title="Forensics", examiner="Ann") as case:
        photo = case.add_evidence([media["photo"]]).added[0].evidence.id
    return case_path, photo


def test_each_forensic_layer_shows_its_map_legend_and_statement_computed_off_the_gui_thread(
        qtbot, make_window, home, photo_case, threads, monkeypatch):
    case_path, photo = photo_case
    window = open_case_on(qtbot, make_window, home, case_path, photo)
    jobs = submitted(window, monkeypatch)
    viewer, layers = window.viewer, window.viewer.layers
    frame = pixels(viewer.bundle.image)
    height, width = frame.shape[:2]
    assert {layers.forensic.itemData(i) for i in range(1, layers.forensic.count())} == set(FORENSIC_MAP_KINDS)
    assert not viewer.legend.isVisible()
    for kind in FORENSIC_MAP_KINDS:
        layers.set_forensic_kind(kind)
        qtbot.waitUntil(lambda: viewer.current_map() is not None, timeout=TIMEOUT)
        shown = viewer.current_map()
        assert shown.map is not None and shown.error is None and shown.kind == kind
        legend = viewer.legend.legend.text()
        assert all(word in legend for word in LEGEND_WORDS[kind]), (kind, legend)
        assert viewer.legend.isVisible() and viewer.legend.statement.isVisible()
        assert viewer.legend.statement.text() == shown.map.statement and len(shown.map.statement) > 40
        if kind == "spectrum":
            # Frequency space: never over the frame; beside it on the right, not following the left's zoom.
            assert not shown.map.aligned
            assert not viewer.left.map_item.isVisible() and viewer.right.isVisible()
            assert viewer.right.image is not None and viewer.right.image.size() == shown.image.size()
            assert shown.image.width() == shown.image.height() == shown.map.params["tile"]
            view = viewer.left
            view.actual_size()
            at = view.mapFromScene(QPointF(width // 2 + 0.5, height // 2 + 0.5))
            colour = view.viewport().grab().toImage().pixelColor(at)
            grabbed = np.array([colour.red(), colour.green(), colour.blue()], float)
            assert np.abs(grabbed - frame[height // 2, width // 2]).max() <= 3  # the picture as it is
            assert not layers.side_by_side.isEnabled()
            view.fit()
        else:
            assert shown.map.aligned and not viewer.right.isVisible()
            pixmap = viewer.left.map_item.pixmap()
            assert viewer.left.map_item.isVisible() and not pixmap.isNull()
            assert (pixmap.width(), pixmap.height()) == (width, height)
            assert pixels(pixmap.toImage()).std() > 1  # a map, not a blank
            assert viewer.left.map_item.opacity() == pytest.approx(layers.map_opacity_value)
    # Every map was computed by the engine on the reader thread, asked for by a frozen job.
    reader = engine_thread_id(qtbot, window)
    assert threads["map"] and set(threads["map"]) == {reader} and reader != threading.get_ident()
    assert {job.kind for job in jobs if isinstance(job, LoadForensicMap)} == set(FORENSIC_MAP_KINDS)
    layers.set_forensic_kind(None)
    assert not viewer.legend.isVisible() and not viewer.left.map_item.isVisible() and not viewer.right.isVisible()


def test_the_main_parameter_and_the_layer_key(qtbot, make_window, home, photo_case, monkeypatch):
    case_path, photo = photo_case
    window = open_case_on(qtbot, make_window, home, case_path, photo)
    viewer, layers = window.viewer, window.viewer.layers
    viewer.setFocus()
    qtbot.keyClick(viewer, Qt.Key.Key_L)
    assert layers.forensic_kind == "ela" and layers.parameter.isVisibleTo(layers)
    qtbot.waitUntil(lambda: viewer.current_map() is not None, timeout=TIMEOUT)
    assert viewer.current_map().map.params["quality"] == 90
    layers.parameter.setValue(70)
    qtbot.waitUntil(lambda: viewer.current_map() is not None and viewer.current_map().map.params["quality"] == 70,
                    timeout=TIMEOUT)
    assert "JPEG quality 70" in viewer.legend.legend.text()
    qtbot.keyClick(viewer, Qt.Key.Key_L)
    assert layers.forensic_kind == "noise" and layers.parameter_label.text() == "Block size"
    qtbot.keyClick(viewer, Qt.Key.Key_L, Qt.KeyboardModifier.ShiftModifier)
    assert layers.forensic_kind == "ela" and layers.parameter.value() == 70  # each kind keeps its value
    qtbot.waitUntil(lambda: viewer.current_map() is not None, timeout=TIMEOUT)
    # A bookmark made now says which layer was on screen (the comment stays editable).
    from PySide6.QtWidgets import QInputDialog

    offered = []
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (offered.append(k.get("text")), ("", False))[1])
    window.actions_by_name["bookmark_frame"].trigger()
    assert offered == ["Error level (ELA), quality 70: "]
    assert "L / Shift+L" in [keys for keys, _ in shortcut_table()]  # Help → Keyboard shortcuts lists it


def test_a_saved_view_records_the_forensic_layer(qtbot, make_window, home, photo_case, tmp_path):
    case_path, photo = photo_case
    window = open_case_on(qtbot, make_window, home, case_path, photo)
    window.viewer.layers.set_forensic_kind("noise")
    qtbot.waitUntil(lambda: window.viewer.current_map() is not None, timeout=TIMEOUT)
    window.save_view_to(str(tmp_path / "noise.png"))
    wait_idle(qtbot, window)
    with Workstation(home).open_case(case_path, readonly=True) as case:
        entry = case._store.last_audit_entry("view exported")
    assert entry.details["forensic_layer"] == "noise" and entry.details["forensic_params"]["block"] == 16


def _generated_png(path):
    info = PngInfo()
    info.add_text("parameters", SD_PARAMETERS)
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)).save(path, pnginfo=info)


def _strong_finding_listed(window):
    panel = window.details.provenance
    text = panel.browser.toPlainText()
    assert "STRONG INDICATION" in text and "Stable Diffusion" in text and "PNG tEXt 'parameters'" in text
    # Strongest first: the strong indication comes before every informative one.
    assert text.index("STRONG INDICATION") < text.index("INFORMATIVE")
    assert SEVERITY_COLOURS[FindingSeverity.STRONG][0] in panel.browser.toHtml()  # the colour beside the word
    assert "not a detector's verdict" in text
    tabs = window.details.tabs
    assert tabs.tabText(tabs.indexOf(panel)) == "Provenance · strong"
    # Never mixed with the verdicts: the item tab holds no finding.
    assert "Stable Diffusion" not in window.details.browser.toPlainText()
    assert "STRONG INDICATION" not in window.details.browser.toPlainText()


def test_the_details_panel_lists_a_generator_png_as_a_strong_indication(qtbot, make_window, home, tmp_path, threads,
                                                                        monkeypatch):
    generated = tmp_path / "generated.png"
    _generated_png(generated)
    case_path = tmp_path / "provenance.dfwcase"
    with Workstation(home).create_case(case_path, title="Provenance", examiner="Ann") as case:
        item = case.add_evidence([generated]).added[0].evidence
    window = make_window(home, str(case_path))
    qtbot.waitUntil(lambda: window.overview is not None, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    jobs = submitted(window, monkeypatch)
    assert window.case_panel.select(item.id)
    qtbot.waitUntil(lambda: window.details.provenance.view is not None, timeout=TIMEOUT)
    view = window.details.provenance.view
    assert view.evidence_id == item.id and view.error is None
    # Stored at intake: read back, not computed again.
    assert view.origin == (STORED if "provenance" in item.metadata else COMPUTED)
    if view.origin == STORED:
        assert threads["provenance"] == []
    assert any(isinstance(job, LoadProvenance) for job in jobs)
    _strong_finding_listed(window)
    # The raw stored report is not dumped into "What the file says".
    qtbot.waitUntil(lambda: window.details.details is not None, timeout=TIMEOUT)
    assert "schema" not in window.details.browser.toPlainText()


def test_findings_not_stored_are_computed_in_a_reader_job(qtbot, make_window, home, tmp_path, threads, monkeypatch):
    generated = tmp_path / "generated.png"
    _generated_png(generated)
    case_path = tmp_path / "computed.dfwcase"
    with Workstation(home).create_case(case_path, title="Computed", examiner="Ann") as case:
        item = case.add_evidence([generated]).added[0].evidence
        # As an item added by a version that stored no findings at intake.
        case._store.set_evidence_metadata(item.id, {k: v for k, v in item.metadata.items()
                                                    if not k.startswith("provenance")})
    window = make_window(home, str(case_path))
    qtbot.waitUntil(lambda: window.overview is not None, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert window.case_panel.select(item.id)
    qtbot.waitUntil(lambda: window.details.provenance.view is not None, timeout=TIMEOUT)
    assert window.details.provenance.view.origin == COMPUTED
    _strong_finding_listed(window)
    reader = engine_thread_id(qtbot, window)
    assert threads["provenance"] and set(threads["provenance"]) == {reader} and reader != threading.get_ident()


def test_a_changed_file_says_so_and_a_clip_is_read_on_request(qtbot, make_window, home, tmp_path, media):
    case_path = tmp_path / "clip.dfwcase"
    with Workstation(home).create_case(case_path, title="Clip", examiner="Ann") as case:
        added = case.add_evidence([media["clip"], media["gray"]]).added
    clip, gray = (a.evidence.id for a in added)
    media["gray"].write_bytes(media["gray"].read_bytes() + b"\x00")
    window = make_window(home, str(case_path))
    qtbot.waitUntil(lambda: window.overview is not None, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    panel = window.details.provenance
    assert window.case_panel.select(clip)
    qtbot.waitUntil(lambda: panel.view is not None and panel.view.evidence_id == clip, timeout=TIMEOUT)
    assert panel.view.report is None and panel.read_button.isVisibleTo(panel)
    panel.read_button.click()
    qtbot.waitUntil(lambda: panel.view is not None and panel.view.report is not None, timeout=TIMEOUT)
    assert panel.view.origin == COMPUTED and "content credentials" in panel.browser.toPlainText()
    assert not panel.read_button.isVisibleTo(panel)
    # A file changed since it was added: its stored findings stay about the bytes that were added
    # (the tab names their SHA-256); the viewer, which needs the pixels, says the file changed and
    # asks for no map.
    window.viewer.layers.set_forensic_kind("ela")
    assert window.case_panel.select(gray)
    qtbot.waitUntil(lambda: window.viewer.bundle is not None and window.viewer.bundle.evidence_id == gray
                    and window.viewer.bundle.error is not None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: panel.view is not None and panel.view.evidence_id == gray, timeout=TIMEOUT)
    if panel.view.origin == STORED:
        assert panel.view.sha256[:16] in panel.browser.toPlainText()
    else:
        assert "changed since" in panel.browser.toPlainText()
    assert window.viewer.current_map() is None and not window.viewer.left.map_item.isVisible()
