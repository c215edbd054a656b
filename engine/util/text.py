"""One-line text from exceptions raised by libraries that write paragraphs (onnxruntime, OpenCV)."""

from __future__ import annotations


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first non-empty line of `exc`'s message, cut to `limit` characters; the exception's
    type name when it has no message."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__
