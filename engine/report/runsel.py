"""Which runs a report shows for each item: the latest (the default), all of them, or the ones named.

A case analysed three times holds three runs of every item; a report that repeats each of them
buries the current findings under superseded ones, so by default each item shows only the
latest run that holds something for it (verdicts, frame scores or errors), and the others are
one option away. The choice is written in the report (`selection.runs`), so a reader knows
what was left out.
"""

from __future__ import annotations

from typing import Iterable, Sequence, Union

from engine.errors import ReportError

LATEST, ALL = "latest", "all"
RunChoice = Union[str, tuple[int, ...]]  # LATEST, ALL, or run ids in the order given


def parse_runs(values: str | int | Iterable[str | int] | None) -> RunChoice:
    """"latest", "all", or run ids, from what a user typed: words, numbers, "2,3" or ["2", "3"].
    A ReportError names the first thing that is none of them."""
    if values is None:
        return LATEST
    tokens: list[str] = []
    for value in ([values] if isinstance(values, (str, int)) else list(values)):
        tokens += [t.strip() for t in str(value).replace(";", ",").replace(" ", ",").split(",") if t.strip()]
    words = {t.lower() for t in tokens if not t.isdigit()}
    if not tokens:
        return LATEST
    if words - {LATEST, ALL}:
        bad = next(t for t in tokens if not t.isdigit() and t.lower() not in (LATEST, ALL))
        raise ReportError(f"runs must be 'latest', 'all' or run numbers; got {bad[:40]!r}")
    if words:
        if len(words) > 1 or len(words) != len(tokens):
            raise ReportError("runs are either 'latest', 'all' or run numbers, not a mixture")
        return words.pop()
    return tuple(dict.fromkeys(int(t) for t in tokens))


def check_runs(choice: RunChoice | Sequence[int], known: Iterable[int]) -> RunChoice:
    """The choice as LATEST, ALL or a tuple of ids this case holds; a ReportError otherwise."""
    if isinstance(choice, str):
        parsed = parse_runs(choice)
    else:
        if any(isinstance(i, bool) or not isinstance(i, int) for i in choice):
            raise ReportError(f"run numbers must be whole numbers; got {list(choice)[:5]!r}")
        parsed = tuple(dict.fromkeys(choice)) or LATEST
    if isinstance(parsed, tuple):
        have = set(known)
        missing = [i for i in parsed if i not in have]
        if missing:
            raise ReportError(f"no run {missing[0]} in this case"
                              + (f" (it holds runs {', '.join(map(str, sorted(have)))})" if have else " (it holds no runs)"))
    return parsed


def pick(choice: RunChoice, with_results: Sequence[int]) -> list[int]:
    """Of the runs that hold something for one item (oldest first), the ones to show."""
    if choice == ALL:
        return list(with_results)
    if choice == LATEST:
        return list(with_results[-1:])
    return [run_id for run_id in with_results if run_id in choice]


def choice_text(choice: RunChoice) -> str:
    """How the report names the choice: "the latest run of each item", "every run", "runs 2, 3"."""
    if choice == LATEST:
        return "the latest run of each item"
    if choice == ALL:
        return "every run of each item"
    return f"run{'s' if len(choice) > 1 else ''} {', '.join(map(str, choice))} only"
