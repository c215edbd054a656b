"""Timestamps for case records: ISO 8601 with the local UTC offset, so times read the same anywhere."""

from __future__ import annotations

from datetime import datetime, timezone


def now_iso() -> str:
    return datetime.now().astimezone().isoformat()


def iso_from_timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).astimezone().isoformat()
