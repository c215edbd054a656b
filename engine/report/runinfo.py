"""What a report says about a run besides its scores: the settings it ran with, in a few words,
and its history (started, cancelled, resumed, interrupted, finished) from the case's audit log.

A reader comparing two items must see at a glance whether they were judged the same way, and
whether a run was stopped and picked up again, so every run section, the summary and the CSV
state both. The history is read from the audit log rather than the run's row because the row
only keeps its last status, while the log keeps each step with its time and who did it. Both
come from a case file, which anyone can edit: every value is checked before it is used, and a
value of the wrong kind is shown as it is stored, never trusted to be a number.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from engine.report.textsafe import is_number, number_text

RUN_ACTIONS = ("run started", "run finished", "run resumed", "run interrupted")
FACE_MODE_WORDS = {"auto": "faces and the whole frame", "only": "faces only", "off": "whole frame only"}


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _word(value: Any) -> str:
    return value if isinstance(value, str) else number_text(value)


def detector_text(settings: Mapping[str, Any], ran: Any = None) -> str:
    """The face detector: the one a run's item says really ran (`ran`, from its outcome), else
    what the settings asked for."""
    if settings.get("face_mode") == "off":
        return "none (faces off)"
    if isinstance(ran, str) and ran:
        return ran
    for key in ("face_detector", "detector"):  # named by newer runs
        if isinstance(settings.get(key), str) and settings[key]:
            return str(settings[key])
    if settings.get("yunet_path"):
        return f"YuNet ({_word(settings['yunet_path'])})"
    return "OpenCV Haar cascade"


def run_settings(settings: Any, ran_detector: Any = None) -> dict[str, Any]:
    """The settings that decide what a run's numbers mean, as JSON-ready values."""
    settings = _object(settings)
    verdict = _object(settings.get("verdict"))
    explain = settings.get("explain")
    return {
        "frames_per_clip": settings.get("frames_per_clip"),
        "face_mode": settings.get("face_mode", "auto"),
        "overlays": explain if isinstance(explain, bool) else _word(explain) if explain is not None else False,
        "detector": detector_text(settings, ran_detector),
        "rule": verdict.get("rule"),
        "rule_params": dict(_object(verdict.get("params"))),
        "threshold": verdict.get("threshold"),
        "margin": verdict.get("margin"),
    }


def settings_text(summary: Mapping[str, Any]) -> str:
    """One line: "up to 12 frames per clip · faces and the whole frame · overlays · detector … ·
    rule topk_mean (k = 3) · threshold 0.5 ± 0.1"."""
    mode = summary.get("face_mode")
    mode_text = FACE_MODE_WORDS.get(mode, _word(mode)) if isinstance(mode, str) else _word(mode)
    overlays = summary.get("overlays")
    params = ", ".join(f"{k} = {_word(v)}" for k, v in sorted(_object(summary.get("rule_params")).items()))
    rule = _word(summary.get("rule") or "unknown rule") + (f" ({params})" if params else "")
    margin = summary.get("margin")
    threshold = number_text(summary.get("threshold"), "g", none="?")
    return " · ".join([
        f"up to {number_text(summary.get('frames_per_clip'), none='?')} frames per clip",
        mode_text,
        "overlays" if overlays is True else "no overlays" if overlays is False else f"overlays: {_word(overlays)}",
        f"detector {summary.get('detector')}",
        f"rule {rule}",
        f"threshold {threshold}" + (f" ± {number_text(margin, 'g')}" if margin is not None else ""),
    ])


_FRACTION = re.compile(r"(T\d{2}:\d{2}:\d{2})\.\d+")


def moment_text(value: Any) -> str:
    """An ISO time to the second for reading (the audit section and the JSON keep it exact)."""
    return _FRACTION.sub(r"\1", value) if isinstance(value, str) else _word(value)


def _count(value: Any) -> str | None:
    return f"{value:,}" if is_number(value) and float(value).is_integer() else None


def _event(action: str, details: Mapping[str, Any]) -> tuple[str, str]:
    """(what happened in one word, a short clause of its figures) for one audit entry."""
    if action == "run started":
        count = _count(details.get("evidence_count"))
        return "started", f"{count} item(s)" if count else ""
    if action == "run resumed":
        pending = _count(details.get("pending_items"))
        before = details.get("previous_status")
        return "resumed", ", ".join(p for p in (f"was {_word(before)}" if before else "",
                                                 f"{pending} item-model pair(s) still to do" if pending else "") if p)
    if action == "run interrupted":
        return "interrupted", "found still running when the case was opened: the program had stopped"
    status = details.get("status")
    done, total, failed = (_count(details.get(k)) for k in ("items_done", "items_total", "items_failed"))
    figures = (f"{done} of {total} item-model pairs done" + (f", {failed} failed" if failed and failed != "0" else "")
               if done and total else "")
    word = status if isinstance(status, str) and status else "finished"
    return ("finished" if word == "completed" else word), figures


def run_history(entries: Iterable[Any], run_id: Any) -> list[dict[str, Any]]:
    """The audit entries about one run, oldest first, each as {seq, time, actor, action, event, text}."""
    out: list[dict[str, Any]] = []
    for entry in entries:
        details = getattr(entry, "details", None)
        if getattr(entry, "action", None) not in RUN_ACTIONS or not isinstance(details, Mapping):
            continue
        if details.get("run_id") != run_id or isinstance(details.get("run_id"), bool):
            continue
        event, figures = _event(entry.action, details)
        out.append({"seq": entry.seq, "time": entry.time, "actor": entry.actor, "action": entry.action,
                    "event": event, "text": f"{event} {moment_text(entry.time)}" + (f" ({figures})" if figures else "")})
    return out


def history_text(history: Iterable[Mapping[str, Any]]) -> str:
    """The history in one line ("started …; cancelled …; resumed …; finished …"), or a dash."""
    return "; ".join(str(step.get("text")) for step in history) or "—"

