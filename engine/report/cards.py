"""What the public model cards say about a model (metrics, limitations), matched by its source repo id.

The facts live in resources/report/model_cards.json so they can be corrected without code
changes. A model whose source is not listed gets an explicit "nothing known" entry rather than
silence, and a random-weight test fixture is marked as such so no reader takes its scores for
a detector's.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Mapping

from engine.paths import resources_dir

UNKNOWN = "no published metrics known to this program"
FIXTURE_WARNING = ("TEST FIXTURE: a random-weight model made for the program's own tests. "
                   "Its scores mean nothing about real or manipulated media.")


@lru_cache(maxsize=1)
def _cards() -> dict[str, dict[str, Any]]:
    path = resources_dir() / "report" / "model_cards.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {key.lower(): value for key, value in data.items() if not key.startswith("_") and isinstance(value, dict)}


def card_for(provenance: Mapping[str, Any]) -> dict[str, Any]:
    """{known, source, metrics, limitations, fixture_warning} for one model's provenance."""
    source = str(provenance.get("source") or "")
    card = _cards().get(source.lower()) if source else None
    out: dict[str, Any] = {
        "known": card is not None,
        "source": source or None,
        "metrics": list(card.get("metrics", [])) if card else [],
        "limitations": list(card.get("limitations", [])) if card else [],
        "note": None if card else UNKNOWN,
        "fixture_warning": FIXTURE_WARNING if provenance.get("is_test_fixture") else None,
    }
    if card and not out["metrics"]:
        out["note"] = "the model card publishes no metric"
    return out
