"""Calling onnxruntime's quantizers: imported on first use, quiet, and never leaving half a file."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Callable

from engine.errors import ModelError
from engine.util.text import first_line


def quantization_tools() -> Any:
    """onnxruntime.quantization, or ModelError when this onnxruntime has none."""
    try:
        import onnxruntime.quantization as tools  # noqa: PLC0415 - heavy, and only needed here
    except ImportError as exc:
        raise ModelError(f"this onnxruntime has no quantization tools: {exc}") from exc
    return tools


def run_quantizer(call: Callable[[], Any], source: str | os.PathLike[str], target: Path, what: str) -> Path:
    """Run `call` (which writes `target`); ModelError "<what> <source> failed: …" on any error,
    with `target` removed. The quantizer logs an advisory about shape pre-processing on the root
    logger for every model; it says nothing about this model, so it is kept off the terminal."""
    logging.disable(logging.WARNING)
    try:
        call()
    except Exception as exc:  # onnx / onnxruntime raise many kinds for graphs they cannot handle
        target.unlink(missing_ok=True)
        raise ModelError(f"{what} {Path(source).name} failed: {first_line(exc, 300)}") from exc
    finally:
        logging.disable(logging.NOTSET)
    return target
