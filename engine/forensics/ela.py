"""Error level analysis: how much each pixel changes when the picture is JPEG-compressed once more.

A region that has been through the same compression as the rest changes about as much as
the rest; one pasted from a picture compressed differently (or never compressed) changes
more, or less. The picture is recompressed with libjpeg (through OpenCV) at the quality
given, and the largest per-channel difference is the error level of a pixel.
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.errors import MediaError

STATEMENT = ("Error levels after one more JPEG compression: a region compressed differently from the rest (pasted "
             "from another JPEG, or never compressed) can stand out when the quality is near the file's own. It cannot "
             "show edits in a picture later resaved as a whole at low quality, resized or filtered, and edges, fine "
             "texture and saturated colours always look bright; compare like areas with like, it is not a detection.")


def error_levels(rgb: np.ndarray, quality: int) -> np.ndarray:
    """(H, W) uint8: max over channels of |picture − picture recompressed at `quality`|."""
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise MediaError("the picture could not be recompressed for error level analysis")
    again = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    if again is None:
        raise MediaError("the recompressed picture could not be decoded for error level analysis")
    diff = cv2.absdiff(bgr, again)
    blue, green, red = cv2.split(diff)
    return cv2.max(cv2.max(blue, green), red)


def level_ceiling(levels: np.ndarray, share: float = 0.995) -> float:
    """The error level below which `share` of the pixels lie (at least 4), from a histogram."""
    counts = np.bincount(levels.ravel(), minlength=256)
    cumulative = np.cumsum(counts)
    return float(max(4, int(np.searchsorted(cumulative, share * cumulative[-1])) + 1))


def ela_map(rgb: np.ndarray, quality: int, ceiling: float) -> tuple[np.ndarray, dict[str, float]]:
    """(map in 0..1, figures); a ceiling of 0 chooses it from the picture."""
    levels = error_levels(rgb, quality)
    top = level_ceiling(levels) if ceiling <= 0 else float(ceiling)
    values = levels.astype(np.float32)
    values *= np.float32(1.0 / top)
    np.minimum(values, 1.0, out=values)
    return values, {"ceiling": top, "mean_level": float(cv2.mean(levels)[0])}
