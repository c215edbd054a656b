"""Render the window's main states offscreen into PNG files, for the README and for looking at.

    python tools/screenshots.py OUT_DIR [--dark] [--scale 2]

Builds a demo case from generated media (a clip with two moving faces, face pictures, a
photo) and the random-weight fixture models of tests/fixtures (marked as TEST FIXTURE in
every picture: their scores mean nothing), then renders: the welcome page with no models,
the case with results, the analyze dialog, a run in progress, the model manager, a failed
verification and the export dialog; then the viewer on a clip with its timeline and an
overlay, side by side, the bookmarks dock, the model comparison and a still image's bars;
last, two items added through the window: a spliced JPEG under the error-level layer and a
PNG with Stable Diffusion parameters in the details panel's Provenance tab, and the JPEG's
error-level map kept in the case, listed under its findings.
Everything happens in a temporary folder. `--dark` renders with a dark palette and `--scale 2`
at 200 % (QT_SCALE_FACTOR), to check the window reads in both.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

WIDTH, HEIGHT = 1680, 1000


def make_media(folder: Path) -> Path:
    import cv2

    from tests.engine.media.synth import face_image, make_face_clip

    evidence = folder / "evidence"
    evidence.mkdir(parents=True)
    make_face_clip(evidence / "interview.mp4", n_frames=60, fps=12.0)
    make_face_clip(evidence / "press conference.mp4", n_frames=48, fps=12.0, tracks=((320, 180, 170, 1),))
    cv2.imwrite(str(evidence / "portrait.png"), face_image())
    cv2.imwrite(str(evidence / "two people.png"), face_image(800, 480, ((230, 240, 190), (570, 240, 170))))
    shutil.copy(ROOT / "tests" / "fixtures" / "images" / "rgb_640x480.jpg", evidence / "street.jpg")
    shutil.copy(ROOT / "tests" / "fixtures" / "images" / "exif_rot6_480x320.jpg", evidence / "phone photo.jpg")
    (evidence / "notes.txt").write_text("not media\n")
    return evidence


def make_spliced_jpeg(path: Path) -> None:
    """A café table photographed at JPEG quality 70, with a cat's eye pasted in from an uncompressed
    picture, saved again at 95: at quality 70 the error level of the pasted region stands out."""
    import cv2
    import numpy as np
    from skimage import data

    def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
        ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        return cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)

    table = jpeg(data.coffee(), 70)
    patch = cv2.resize(data.chelsea()[20:200, 90:300], (160, 137), interpolation=cv2.INTER_AREA)
    mask = np.zeros(patch.shape[:2], np.float32)
    cv2.ellipse(mask, (80, 68), (72, 62), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (9, 9), 0)[..., None]
    y, x = 240, 420
    region = table[y:y + 137, x:x + 160].astype(np.float32)
    table[y:y + 137, x:x + 160] = (mask * patch + (1 - mask) * region).astype(np.uint8)
    cv2.imwrite(str(path), cv2.cvtColor(table, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])


def make_generated_png(path: Path) -> None:
    """A face picture carrying the `parameters` text chunk Stable Diffusion front ends write."""
    import cv2
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    from tests.engine.media.synth import face_image

    info = PngInfo()
    info.add_text("parameters", "portrait photo of a news anchor, studio light\nNegative prompt: blurry, cartoon\n"
                                "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 3141592, Size: 640x480, "
                                "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly")
    Image.fromarray(cv2.cvtColor(face_image(), cv2.COLOR_BGR2RGB)).save(path, pnginfo=info)


def import_fixtures(home: Path) -> None:
    from engine.api import Workstation

    workstation = Workstation(home)
    for name in ("vit_optimum", "timm_vit", "siglip_optimum", "vit_quality_tfjs"):
        workstation.import_model(ROOT / "tests" / "fixtures" / "models" / name, name=name, allow_test_fixture=True)


def wait(app, until: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        app.processEvents()
        time.sleep(0.01)
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")


def idle(window) -> Callable[[], bool]:
    return lambda: not window.engine.busy and not window.engine.reads


def settle(app, seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def save(widget, out: Path, name: str) -> None:
    path = out / f"{name}.png"
    widget.grab().save(str(path))
    print(path)


def dark_palette():  # noqa: ANN201 (a QPalette; PySide6 is imported late, after QT_SCALE_FACTOR)
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    role = QPalette.ColorRole
    for r, colour in ((role.Window, "#2b2b2b"), (role.WindowText, "#e6e6e6"), (role.Base, "#1e1e1e"),
                      (role.AlternateBase, "#262626"), (role.Text, "#e6e6e6"), (role.Button, "#353535"),
                      (role.ButtonText, "#e6e6e6"), (role.Highlight, "#2f65ca"), (role.HighlightedText, "#ffffff"),
                      (role.ToolTipBase, "#353535"), (role.ToolTipText, "#e6e6e6"), (role.PlaceholderText, "#9a9a9a"),
                      (role.Link, "#8ab4f8")):
        palette.setColor(r, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor("#7a7a7a"))
    palette.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor("#7a7a7a"))
    palette.setColor(QPalette.ColorGroup.Disabled, role.WindowText, QColor("#7a7a7a"))
    return palette


def make_demo_case(home: Path, case_path: Path, evidence: Path) -> dict[str, int]:
    """The case the pictures show: the demo media analysed by three fixture models, a tag and
    three bookmarks. Returns evidence ids by file name."""
    from engine.api import AnalysisJob, Workstation

    with Workstation(home).create_case(case_path, title="Operation Lighthouse", examiner="A. Examiner",
                                       number="2026-0417", organisation="Digital Forensics Unit") as case:
        case.add_evidence([evidence])
        ids = {os.path.basename(s.evidence.path_given): s.evidence.id for s in case.overview().evidence}
        case.add_tag(ids["interview.mp4"], "priority")
        events = list(case.analyze(AnalysisJob(models=("vit_optimum", "timm_vit", "vit_quality_tfjs"),
                                               provider="cpu", allow_test_fixtures=True, frames_per_clip=12,
                                               explain=True)))
        frames = [f.frame_index for f in case.timeline(events[0].run_id, ids["interview.mp4"]).frames]
        case.add_bookmark(ids["interview.mp4"], frames[4], "jaw line flickers against the collar", "warning")
        case.add_bookmark(ids["interview.mp4"], frames[9], "lighting on the left cheek", "check")
        case.add_bookmark(ids["two people.png"], 0, "both faces scored alike", "ok")
    return ids


def render(out: Path, dark: bool = False) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from engine.api import AnalysisJob
    from gui.dialogs.analyze import AnalyzeDialog
    from gui.dialogs.export import ExportDialog
    from gui.jobs import Analyze
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    if dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    work = Path(tempfile.mkdtemp(prefix="dfw-screens-"))
    try:
        settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
        evidence = make_media(work)
        empty = MainWindow(str(work / "empty home"), settings=settings, allow_test_fixtures=True)
        empty.resize(WIDTH, HEIGHT)
        empty.show()
        wait(app, idle(empty))
        settle(app)
        save(empty, out, "01-welcome")
        empty.shutdown()

        home = work / "home"
        import_fixtures(home)
        case_path = work / "Operation Lighthouse.dfwcase"
        ids = make_demo_case(home, case_path, evidence)
        window = MainWindow(str(home), str(case_path), settings, allow_test_fixtures=True)
        window.resize(WIDTH, HEIGHT)
        window.show()
        wait(app, lambda: window.overview is not None)
        wait(app, idle(window))
        window.case_panel.select(ids["interview.mp4"])
        wait(app, idle(window))
        settle(app, 1.5)  # thumbnails
        save(window, out, "02-case-with-results")

        dialog = AnalyzeDialog(window, window.offered_models(), window.workstation.providers(),
                               window.settings.run_choices(), "Analyse all 7 items of the case", (),
                               window.overview.resumable_run, "", True)
        dialog.show()
        settle(app)
        save(dialog, out, "03-analyze-dialog")
        dialog.close()

        window.engine.submit(Analyze(AnalysisJob(models=("vit_optimum", "siglip_optimum"), provider="cpu",
                                                 allow_test_fixtures=True, frames_per_clip=24, batch_size=1,
                                                 explain=True)))
        wait(app, lambda: window.jobs.bar.maximum() > 1 and window.jobs.bar.value() > 2)
        settle(app, 1.2)
        save(window, out, "04-run-in-progress")
        window.cancel_job()
        wait(app, idle(window))

        window.show_model_manager()
        settle(app)
        save(window.model_manager, out, "05-model-manager")
        window.model_manager.close()

        (evidence / "street.jpg").write_bytes(b"\xff\xd8\xff\xe0 edited after it was added")
        window.run_dialog = lambda d: True
        window.verify_case()
        wait(app, idle(window))
        settle(app)
        save(window, out, "06-verify-failed")
        window.last_dialog.resize(WIDTH * 2 // 3, HEIGHT // 2)
        settle(app)
        save(window.last_dialog, out, "06b-verify-failed-dialog")
        window.last_dialog.close()

        export = ExportDialog(window, str(case_path), tuple(window.selected_ids()))
        export.show()
        settle(app)
        save(export, out, "07-export-dialog")
        export.close()
        render_viewer(app, window, ids, out)
        render_forensics(app, window, work, out)
        window.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def render_viewer(app, window, ids: dict[str, int], out: Path) -> None:
    """The viewer and its docks on the interview clip, then a still image."""
    window.verify_banner.hide()
    window.case_panel.select(ids["interview.mp4"])
    wait(app, lambda: getattr(window, "item_view", None) is not None
         and window.item_view.evidence.id == ids["interview.mp4"] and window.viewer.bundle is not None)
    for _ in range(4):
        window.viewer.next()
        wait(app, idle(window))
    wait(app, lambda: window.viewer.bundle is not None and window.viewer.bundle.image is not None)
    window.timeline.tracks.setChecked(True)
    settle(app, 0.8)
    save(window, out, "08-video-timeline-overlay")
    layers = window.viewer.layers
    layers.side_by_side.setChecked(True)
    models = window.item_view.overlay_models
    layers.model.setCurrentIndex(layers.model.findData(models[0]))
    layers.compare.setCurrentIndex(layers.compare.findData(models[-1]))
    settle(app, 0.3)
    window.viewer.left.set_zoom(window.viewer.left.zoom * 1.6)
    settle(app, 0.5)
    save(window, out, "09-side-by-side")
    layers.side_by_side.setChecked(False)
    window.viewer.fit()
    window.bookmarks_dock.raise_()
    settle(app, 0.5)
    save(window, out, "10-bookmarks")
    window.compare_dock.raise_()
    settle(app, 0.5)
    save(window, out, "11-compare-models")
    window.details_dock.raise_()
    window.case_panel.select(ids["two people.png"])
    wait(app, lambda: window.item_view is not None and window.item_view.evidence.id == ids["two people.png"]
         and window.viewer.bundle is not None and window.viewer.bundle.image is not None)
    settle(app, 0.6)
    save(window, out, "12-still-image")


def render_forensics(app, window, work: Path, out: Path) -> None:
    """Two items added through the window (the earlier pictures keep the demo case as it was): an
    error-level layer on a spliced JPEG, then the provenance findings of a generator's PNG."""
    later = work / "added later"
    later.mkdir()
    make_spliced_jpeg(later / "cafe table.jpg")
    make_generated_png(later / "anchor portrait.png")
    window.add_paths([str(later)])
    wait(app, idle(window))
    ids = {os.path.basename(s.evidence.path_given): s.evidence.id for s in window.evidence_model.summaries()}
    window.case_panel.select(ids["cafe table.jpg"])
    wait(app, lambda: window.viewer.bundle is not None and window.viewer.bundle.image is not None
         and window.viewer.bundle.evidence_id == ids["cafe table.jpg"])
    layers = window.viewer.layers
    layers.set_forensic_kind("ela")
    layers.parameter.setValue(70)  # the quality the table was first saved at: there the paste stands out
    wait(app, lambda: window.viewer.current_map() is not None
         and window.viewer.current_map().params == (("quality", 70),))
    window.verify_banner.hide()  # shown again when the case changed; 06 is the picture of it
    settle(app, 0.6)
    save(window, out, "14-forensic-layer")
    layers.set_forensic_kind(None)
    window.case_panel.select(ids["anchor portrait.png"])
    wait(app, lambda: window.details.provenance.view is not None
         and window.details.provenance.view.evidence_id == ids["anchor portrait.png"])
    window.details_dock.raise_()
    window.details.tabs.setCurrentWidget(window.details.provenance)
    wait(app, idle(window))
    window.verify_banner.hide()
    settle(app, 0.6)
    save(window, out, "15-provenance-findings")
    render_kept_map(app, window, ids["cafe table.jpg"], out)


def render_kept_map(app, window, cafe: int, out: Path) -> None:
    """The error-level map of the spliced JPEG kept in the case (K), listed under its provenance findings."""
    window.case_panel.select(cafe)
    wait(app, lambda: window.viewer.bundle is not None and window.viewer.bundle.image is not None
         and window.viewer.bundle.evidence_id == cafe)
    layers = window.viewer.layers
    layers.set_forensic_kind("ela")
    layers.parameter.setValue(70)
    wait(app, lambda: window.viewer.current_map() is not None
         and window.viewer.current_map().params == (("quality", 70),))
    window.keep_shown_map("the patch right of the cup stands out: a higher error level than the table around it")
    wait(app, lambda: window.details.provenance.kept.model.rowCount() == 1)
    wait(app, idle(window))
    window.details_dock.raise_()
    window.details.tabs.setCurrentWidget(window.details.provenance)
    kept = window.details.provenance.kept
    kept.select(kept.model.maps()[0].id)
    window.verify_banner.hide()
    settle(app, 0.6)
    save(window, out, "16-kept-map")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the PNG files")
    parser.add_argument("--dark", action="store_true", help="render with a dark palette (Fusion style)")
    parser.add_argument("--scale", type=float, help="device pixel ratio, e.g. 2 for 200 %% (QT_SCALE_FACTOR)")
    args = parser.parse_args()
    if args.scale:
        os.environ["QT_SCALE_FACTOR"] = str(args.scale)
    args.out.mkdir(parents=True, exist_ok=True)
    render(args.out, args.dark)
    return 0


if __name__ == "__main__":
    sys.exit(main())
