"""What a report says about a model variant made by `models quantize`: how far its results
agree with the fp32 model's, and whether it was kept only because the analyst forced it.

The figures travel in the run's model record (`quantization`, see engine/models/quantize.py),
which a case file carries and anyone can edit, so each figure is checked here before it is
formatted; the sentence follows `describe_quantization` but never trusts a figure's type.
A variant accepted below its thresholds ("forced") is said in capitals in every format: its
scores may differ from the model the published metrics describe.
"""

from __future__ import annotations

from typing import Any, Mapping

from engine.report.textsafe import is_number, number_text


def _percent(value: Any) -> str:
    return f"{value * 100:.1f} %" if is_number(value) else number_text(value, none="?")


def quantization_facts(model: Mapping[str, Any]) -> dict[str, Any] | None:
    """{text, forced, passed, top1_agreement, max_abs_delta_p, calibration_images} for a model
    record that carries quantization figures; None for an ordinary model."""
    figures = model.get("quantization")
    if not isinstance(figures, Mapping):
        return None
    calibration = figures.get("calibration")
    images = calibration.get("images") if isinstance(calibration, Mapping) else None
    thresholds = figures.get("thresholds") if isinstance(figures.get("thresholds"), Mapping) else {}
    forced = figures.get("forced") is True
    passed = figures.get("passed") if isinstance(figures.get("passed"), bool) else None
    what = "Δp(manipulated)" if figures.get("delta_of") == "p_manipulated" else "Δ top-1 p"
    kind = str(figures.get("weight_type") or "int8").upper()
    text = (f"{kind} variant ({number_text(figures.get('origin'), none='origin unknown')}): top-1 agreement "
            f"{_percent(figures.get('top1_agreement'))} and max |{what}| "
            f"{number_text(figures.get('max_abs_delta_p'), '.4f', none='?')} against fp32 on "
            f"{number_text(images, none='?')} calibration image(s)")
    if thresholds:
        text += (f" (required: at least {_percent(thresholds.get('min_top1_agreement'))}, at most "
                 f"{number_text(thresholds.get('max_abs_delta_p'), 'g', none='?')})")
    if forced:
        text += "; FORCED: kept although below the required agreement, because the analyst asked for it"
    elif passed is False:
        text += "; BELOW the required agreement"
    return {"text": text, "forced": forced, "passed": passed, "top1_agreement": figures.get("top1_agreement"),
            "max_abs_delta_p": figures.get("max_abs_delta_p"), "calibration_images": images}
