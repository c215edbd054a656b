"""A bounded list of verify findings: every kind of problem is counted, the first few of each
are named, so a case with 200,000 altered rows gives a readable report, not 200,000 lines."""

from __future__ import annotations

SHOWN_PER_KIND = 5


class Findings:
    def __init__(self) -> None:
        self._named: dict[str, list[str]] = {}
        self._counts: dict[str, int] = {}
        self.notes: list[str] = []

    def add(self, kind: str, message: str) -> None:
        self._counts[kind] = self._counts.get(kind, 0) + 1
        named = self._named.setdefault(kind, [])
        if len(named) < SHOWN_PER_KIND:
            named.append(message)

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def __len__(self) -> int:
        return sum(self._counts.values())

    def problems(self) -> list[str]:
        out: list[str] = []
        for kind, named in self._named.items():
            out += named
            more = self._counts[kind] - len(named)
            if more:
                out.append(f"… and {more:,} more: {kind}")
        return out
