"""What the viewer asks the reader thread for: an item's run view, one frame with its layers, and
a forensic map of that frame.

All run on the reader beside the open case (never behind a run). The frame is decoded
through the API (`Case.frame`: the exact frame the scores refer to, rotation applied, the
file's hash checked first); a file that is missing or changed comes back as an error text
and no pixels. Overlays are coloured once per stored overlay and kept in a small cache on
the reader thread, so stepping back and forth does not colour them again. Forensic maps
(`Case.forensic_map`: error level, noise, residual, spectrum) are computed there too, never
on the GUI thread, and the engine keeps recent ones, so going back to a frame is quick.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from PySide6.QtGui import QImage

from engine.api import (
    Annotation, AnnotationKind, Evidence, ForensicMap, FrameRegion, ModelAgreement, OverlayRecord, Timeline, Verdict,
)
from engine.errors import EngineError
from gui.jobs import Job, JobContext
from gui.thumbnails import image_from_rgb

_COLOURED: "OrderedDict[tuple[str, int], QImage]" = OrderedDict()  # (case path, overlay id) → RGBA
_COLOURED_LIMIT = 96
OVERLAY_SIDE = 480


def image_from_rgba(pixels: np.ndarray) -> QImage:
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width = pixels.shape[:2]
    return QImage(pixels.data, width, height, 4 * width, QImage.Format.Format_RGBA8888).copy()


@dataclass(frozen=True)
class ItemView:
    evidence: Evidence
    run_id: int | None  # the run whose results the viewer shows
    timeline: Timeline | None
    overlays: tuple[OverlayRecord, ...]
    bookmarks: tuple[Annotation, ...]
    verdicts: tuple[Verdict, ...] = ()  # of this run, ensemble last
    agreement: ModelAgreement | None = None

    @property
    def frames(self) -> tuple[int, ...]:
        """The sampled frames to step through (frame 0 when nothing was sampled yet)."""
        if self.timeline is not None and self.timeline.frames:
            return tuple(f.frame_index for f in self.timeline.frames)
        return (0,)

    def timestamp(self, frame_index: int) -> float | None:
        if self.timeline is None:
            return None
        return next((f.timestamp for f in self.timeline.frames if f.frame_index == frame_index), None)

    @property
    def overlay_models(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(o.model for o in self.overlays))

    def method_of(self, model: str) -> str | None:
        return next((o.method for o in self.overlays if o.model == model), None)


@dataclass(frozen=True)
class OverlayPiece:
    model: str
    method: str
    box: tuple[int, int, int, int]
    image: QImage  # RGBA over the box, transparent where the model did not see


@dataclass(frozen=True)
class FrameBundle:
    evidence_id: int
    frame_index: int
    image: QImage | None
    error: str | None = None
    regions: tuple[FrameRegion, ...] = ()
    overlays: dict[str, tuple[OverlayPiece, ...]] = field(default_factory=dict)  # model → its pieces on this frame


@dataclass(frozen=True)
class LoadItemView(Job):
    evidence_id: int
    run_id: int | None
    reads_only: ClassVar[bool] = True

    @property
    def title(self) -> str:
        return f"Opening item {self.evidence_id} in the viewer"

    def run(self, ctx: JobContext) -> ItemView:
        case = ctx.case
        evidence = case.evidence(self.evidence_id)
        timeline = case.timeline(self.run_id, self.evidence_id) if self.run_id is not None else None
        overlays = tuple(case.overlays(self.run_id, self.evidence_id)) if self.run_id is not None else ()
        bookmarks = tuple(case.annotations(self.evidence_id, AnnotationKind.BOOKMARK))
        verdicts: tuple[Verdict, ...] = ()
        agreement = None
        if self.run_id is not None:
            of_run = [r for r in case.evidence_details(self.evidence_id).runs if r.run.id == self.run_id]
            verdicts = of_run[0].verdicts if of_run else ()
            agreement = case.model_agreement(self.run_id, self.evidence_id)
        return ItemView(evidence, self.run_id, timeline, overlays, bookmarks, verdicts, agreement)


@dataclass(frozen=True)
class LoadFrame(Job):
    evidence_id: int
    frame_index: int
    run_id: int | None
    overlays: tuple[OverlayRecord, ...] = ()
    reads_only: ClassVar[bool] = True

    @property
    def title(self) -> str:
        return f"Frame {self.frame_index} of item {self.evidence_id}"

    def run(self, ctx: JobContext) -> FrameBundle:
        case = ctx.case
        try:
            image = image_from_rgb(case.frame(self.evidence_id, self.frame_index))
        except EngineError as exc:  # missing or changed evidence: say so, show no stale pixels
            return FrameBundle(self.evidence_id, self.frame_index, None, str(exc))
        regions = tuple(case.regions(self.run_id, self.evidence_id, self.frame_index)) if self.run_id else ()
        pieces: dict[str, list[OverlayPiece]] = {}
        for record in self.overlays:
            if record.frame_index != self.frame_index:
                continue
            piece = _coloured(ctx, case.path, record)
            if piece is not None:
                pieces.setdefault(record.model, []).append(piece)
        return FrameBundle(self.evidence_id, self.frame_index, image, None, regions,
                           {model: tuple(p) for model, p in pieces.items()})


def _coloured(ctx: JobContext, case_path: str, record: OverlayRecord) -> OverlayPiece | None:
    key = (case_path, record.id)
    image = _COLOURED.get(key)
    overlay = None
    if image is None:
        try:
            overlay = ctx.case.overlay_image(record.id)
        except EngineError:
            return None  # a damaged overlay is verify's to report; the frame still shows
        # A heat map is smooth: coloured at up to OVERLAY_SIDE pixels and scaled up by the view, it
        # costs a few milliseconds instead of some 60 for a whole 1080p frame.
        image = image_from_rgba(overlay.region_rgba(max_side=OVERLAY_SIDE))
        _COLOURED[key] = image
        while len(_COLOURED) > _COLOURED_LIMIT:
            _COLOURED.popitem(last=False)
    else:
        _COLOURED.move_to_end(key)
    box = overlay.box if overlay is not None else tuple(int(round(float(v))) for v in (record.box or (0, 0, 1, 1)))
    return OverlayPiece(record.model, record.method, (int(box[0]), int(box[1]), int(box[2]), int(box[3])), image)


@dataclass(frozen=True)
class MapBundle:
    """A forensic map of one frame, ready to draw (or why there is none)."""

    evidence_id: int
    frame_index: int
    kind: str
    params: tuple[tuple[str, int | float | str], ...]  # as asked for
    image: QImage | None  # the coloured map (RGB); None with an error
    map: ForensicMap | None = None  # values, legend, statement, figures, whether it lies over the picture
    error: str | None = None

    def answers(self, evidence_id: int, frame_index: int, kind: str,
                params: tuple[tuple[str, int | float | str], ...]) -> bool:
        return (self.evidence_id, self.frame_index, self.kind, self.params) == (evidence_id, frame_index, kind, params)


@dataclass(frozen=True)
class LoadForensicMap(Job):
    evidence_id: int
    frame_index: int
    kind: str
    params: tuple[tuple[str, int | float | str], ...] = ()
    reads_only: ClassVar[bool] = True

    @property
    def title(self) -> str:
        return f"{self.kind} map of frame {self.frame_index} of item {self.evidence_id}"

    def run(self, ctx: JobContext) -> MapBundle:
        try:
            made = ctx.case.forensic_map(self.evidence_id, self.frame_index, self.kind, **dict(self.params))
        except EngineError as exc:  # a changed file, a tile larger than the picture: said under the viewer
            return MapBundle(self.evidence_id, self.frame_index, self.kind, self.params, None, None, str(exc))
        return MapBundle(self.evidence_id, self.frame_index, self.kind, self.params, image_from_rgb(made.rgb), made)
