"""What the window remembers between sessions, in QSettings (organisation and application set in app.py).

Recent cases (the last ten, newest first), the last examiner, the last run choices, the
preferences, and the window's geometry and dock layout. Values are stored as plain types
(strings, numbers, JSON text for structured ones) so a damaged settings file only costs
the defaults, never a crash.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

ORGANISATION = "DeepfakeForensicWorkstation"
APPLICATION = "Deepfake Forensic Workstation"
RECENT_LIMIT = 10


@dataclass(frozen=True)
class RunChoices:
    """The analyze dialog's choices, remembered for the next run."""

    models: tuple[str, ...] = ()
    variants: dict[str, str] = field(default_factory=dict)  # model → variant chosen (int8), default omitted
    frames_per_clip: int = 16
    face_mode: str = "auto"
    explain: bool = True
    provider: str = "auto"
    rule: str = "topk_mean"
    k: int = 3
    threshold: float = 0.5
    margin: float = 0.1
    weights: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Preferences:
    default_examiner: str = ""
    provider: str = "auto"
    face_detector: str = ""  # a YuNet .onnx file; empty: OpenCV's Haar cascade
    thumbnail_size: int = 64  # logical pixels (scaled with the screen)


def _load(cls: type, text: Any) -> Any:
    """A dataclass from stored JSON, field by field; anything unreadable keeps its default."""
    base = cls()
    try:
        data = json.loads(text) if isinstance(text, str) and text else {}
    except ValueError:
        return base
    if not isinstance(data, dict):
        return base
    chosen = {}
    for f in fields(cls):
        if f.name in data:
            value, default = data[f.name], getattr(base, f.name)
            if isinstance(default, tuple) and isinstance(value, list):
                value = tuple(str(v) for v in value)
            if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if type(value) is type(default):
                chosen[f.name] = value
    return replace(base, **chosen)


class Settings:
    """Typed access to the window's QSettings."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.q = settings or QSettings(ORGANISATION, APPLICATION)

    # -- recent cases ---------------------------------------------------------------------
    def recent_cases(self) -> list[str]:
        value = self.q.value("recent_cases", [])
        items = value if isinstance(value, list) else [value] if isinstance(value, str) and value else []
        return [str(v) for v in items][:RECENT_LIMIT]

    def add_recent(self, path: str) -> None:
        path = os.path.abspath(path)
        items = [path] + [p for p in self.recent_cases() if os.path.abspath(p) != path]
        self.q.setValue("recent_cases", items[:RECENT_LIMIT])

    def remove_recent(self, path: str) -> None:
        self.q.setValue("recent_cases", [p for p in self.recent_cases() if p != path])

    # -- people and choices -----------------------------------------------------------------
    def last_examiner(self) -> str:
        return str(self.q.value("last_examiner", "") or self.preferences().default_examiner)

    def set_last_examiner(self, name: str) -> None:
        self.q.setValue("last_examiner", name)

    def run_choices(self) -> RunChoices:
        return _load(RunChoices, self.q.value("run_choices", ""))

    def set_run_choices(self, choices: RunChoices) -> None:
        self.q.setValue("run_choices", json.dumps(asdict(choices)))

    def preferences(self) -> Preferences:
        return _load(Preferences, self.q.value("preferences", ""))

    def set_preferences(self, preferences: Preferences) -> None:
        self.q.setValue("preferences", json.dumps(asdict(preferences)))

    # -- the window -------------------------------------------------------------------------
    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry, state = self.q.value("window/geometry"), self.q.value("window/state")
        return (geometry if isinstance(geometry, QByteArray) else None,
                state if isinstance(state, QByteArray) else None)

    def set_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)
