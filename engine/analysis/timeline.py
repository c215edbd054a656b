"""How the scores of one evidence item move through a run: per model, per face track, ensemble.

Built from the stored frame results of one (run, evidence) pair, so the viewer's timeline
shows exactly what the verdicts were computed from. A model's line at a frame is its most
suspicious region there (the frame, or its worst face); the ensemble line is the worst
region's ensemble score (engine.analysis.ensemble); per-track lines follow one face (or
the whole frame) through the clip. Models that judge something else have no line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from engine.analysis.ensemble import authenticity_models, ensemble_regions, usable
from engine.analysis.verdicts import track_key
from engine.case.records import FrameResult, ItemError
from engine.vocab import ENSEMBLE, RegionKind


@dataclass(frozen=True)
class TimelinePoint:
    frame_index: int
    timestamp: float | None
    score: float


@dataclass(frozen=True)
class TimelineSeries:
    name: str  # a model name, or "ensemble"
    points: tuple[TimelinePoint, ...]
    track_id: int | None = None  # with per_track: the face track (None: the whole frame)
    per_track: bool = False  # False: the most suspicious region of each frame
    excluded: bool = False  # a face track the examiner marked "not a face": kept out of the verdicts

    @property
    def label(self) -> str:
        return f"{self.name} · {track_key(self.track_id)}" if self.per_track else self.name


@dataclass(frozen=True)
class TimelineFrame:
    """A sampled frame that has results."""

    frame_index: int
    timestamp: float | None
    regions: int  # regions scored (whole frame and faces)
    faces: int


@dataclass(frozen=True)
class Timeline:
    run_id: int
    evidence_id: int
    authenticity: tuple[str, ...]  # models with a line, in run order
    others: tuple[str, ...]  # models that judge something else: scored, no line
    frames: tuple[TimelineFrame, ...]
    series: tuple[TimelineSeries, ...]  # per model, then the ensemble (with several), then per track
    threshold: float | None
    margin: float | None
    rule: str | None
    rule_params: Mapping[str, Any]
    face_mode: str | None
    failures: tuple[ItemError, ...] = ()
    excluded_tracks: Mapping[int, str] = field(default_factory=dict)  # track → the examiner's reason

    @property
    def band(self) -> tuple[float, float] | None:
        """(low, high) of the inconclusive band around the threshold."""
        if self.threshold is None:
            return None
        margin = self.margin or 0.0
        return (max(0.0, self.threshold - margin), min(1.0, self.threshold + margin))

    @property
    def frames_without_faces(self) -> tuple[int, ...]:
        """Sampled frames where the detector found no face (only when faces were looked for)."""
        if self.face_mode in (None, "off"):
            return ()
        return tuple(f.frame_index for f in self.frames if f.faces == 0)

    def line(self, name: str, track_id: int | None = None, per_track: bool = False) -> TimelineSeries | None:
        return next((s for s in self.series if s.name == name and s.per_track == per_track
                     and (not per_track or s.track_id == track_id)), None)

    @property
    def headline(self) -> TimelineSeries | None:
        """The line verdicts lead with: the ensemble, or the only authenticity model."""
        return self.line(ENSEMBLE) or (self.line(self.authenticity[0]) if self.authenticity else None)

    def frames_over(self, threshold: float | None = None) -> tuple[int, ...]:
        """Frames whose headline score reaches the threshold (the run's when not given)."""
        limit = self.threshold if threshold is None else threshold
        line = self.headline
        if line is None or limit is None:
            return ()
        return tuple(p.frame_index for p in line.points if p.score >= limit)


def _worst_per_frame(name: str, regions: Iterable[tuple[int, float | None, float]]) -> TimelineSeries:
    best: dict[int, tuple[float | None, float]] = {}
    for frame_index, timestamp, score in regions:
        if frame_index not in best or score > best[frame_index][1]:
            best[frame_index] = (timestamp, score)
    return TimelineSeries(name, tuple(TimelinePoint(f, t, s) for f, (t, s) in sorted(best.items())))


def _per_track(name: str, regions: Iterable[tuple[int, float | None, int | None, float]],
               excluded: Mapping[int, str]) -> list[TimelineSeries]:
    tracks: dict[int | None, list[TimelinePoint]] = {}
    for frame_index, timestamp, track_id, score in regions:
        tracks.setdefault(track_id, []).append(TimelinePoint(frame_index, timestamp, score))
    return [TimelineSeries(name, tuple(sorted(points, key=lambda p: p.frame_index)), track, True,
                           track is not None and track in excluded)
            for track, points in sorted(tracks.items(), key=lambda item: -1 if item[0] is None else item[0])]


def build_timeline(run_id: int, evidence_id: int, rows: Sequence[FrameResult], run_models: Sequence[Mapping[str, Any]],
                   settings: Mapping[str, Any], failures: Sequence[ItemError] = (),
                   excluded: Mapping[int, str] | None = None) -> Timeline:
    """The timeline of one item in one run from its stored results and the run's record.

    Tracks the examiner excluded keep their own lines (marked) but no longer shape the
    per-frame model and ensemble lines, just as they no longer shape the verdicts."""
    excluded = dict(excluded or {})
    names = [str(m.get("name")) for m in run_models]
    authenticity = tuple(authenticity_models(run_models))
    verdict = settings.get("verdict") or {}
    scored = [r for r in rows if r.frame_index is not None]
    frames: dict[int, list[FrameResult]] = {}
    for row in scored:
        frames.setdefault(row.frame_index, []).append(row)  # type: ignore[arg-type]
    frame_list = tuple(TimelineFrame(index, group[0].timestamp, len({r.track_id for r in group}),
                                     len({r.track_id for r in group if r.track_id is not None}))
                       for index, group in sorted(frames.items()))
    overall: list[TimelineSeries] = []
    tracks: list[TimelineSeries] = []
    def kept(track_id: int | None) -> bool:
        return track_id is None or track_id not in excluded

    for name in authenticity:
        mine = [r for r in scored if r.model == name and usable(r.p_manipulated)]
        overall.append(_worst_per_frame(name, ((r.frame_index, r.timestamp, r.p_manipulated)  # type: ignore[misc]
                                               for r in mine if kept(r.track_id))))
        tracks += _per_track(name, ((r.frame_index, r.timestamp, r.track_id, r.p_manipulated)  # type: ignore[misc]
                                    for r in mine), excluded)
    if len(authenticity) > 1:
        regions = [r for r in ensemble_regions(scored, authenticity, verdict.get("weights") or {})
                   if r.frame_index is not None]
        overall.append(_worst_per_frame(ENSEMBLE, ((r.frame_index, r.timestamp, r.score)  # type: ignore[misc]
                                                   for r in regions if kept(r.track_id))))
        tracks += _per_track(ENSEMBLE, ((r.frame_index, r.timestamp, r.track_id, r.score)  # type: ignore[misc]
                                        for r in regions), excluded)
    return Timeline(
        run_id, evidence_id, authenticity, tuple(n for n in names if n not in authenticity), frame_list,
        tuple(overall + tracks), verdict.get("threshold"), verdict.get("margin"), verdict.get("rule"),
        dict(verdict.get("params") or {}), settings.get("face_mode"), tuple(failures), excluded)


@dataclass(frozen=True)
class FrameRegion:
    """One region of one sampled frame with every model's scores: a face box or the whole frame."""

    frame_index: int
    timestamp: float | None
    track_id: int | None
    kind: RegionKind
    box: tuple[float, float, float, float] | None  # x, y, w, h in frame pixels
    scores: Mapping[str, float | None]  # model → p(manipulated) (None: judges something else)
    probabilities: Mapping[str, Mapping[str, float]]  # model → label → probability
    ensemble: float | None  # None with fewer than two authenticity models


def frame_regions(rows: Sequence[FrameResult], authenticity: Sequence[str],
                  weights: Mapping[str, float] | None = None) -> list[FrameRegion]:
    """The regions of the rows given (one frame's results), whole frame first, then faces by track."""
    ensemble = {(r.frame_index, r.track_id): r.score for r in ensemble_regions(rows, authenticity, weights)}
    grouped: dict[int | None, list[FrameResult]] = {}
    for row in rows:
        grouped.setdefault(row.track_id, []).append(row)
    out = []
    for track_id, group in sorted(grouped.items(), key=lambda item: -1 if item[0] is None else item[0]):
        first = group[0]
        box = tuple(float(v) for v in first.box) if first.box and len(first.box) == 4 else None
        out.append(FrameRegion(
            int(first.frame_index or 0), first.timestamp, track_id,
            RegionKind.FRAME if track_id is None else RegionKind.FACE, box,  # type: ignore[arg-type]
            {r.model: r.p_manipulated for r in group}, {r.model: dict(r.probabilities) for r in group},
            ensemble.get((first.frame_index, track_id)) if len(authenticity) > 1 else None))
    return out
