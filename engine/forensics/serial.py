"""Frozen dataclasses to JSON-ready dicts and back, checked against their field types.

Provenance reports are stored in case files and handed between examiners, so reading one
back is reading untrusted input: every value is checked against the type its field declares
(str, int, float, bool, enums, optional values, tuples, nested records, str-keyed dicts) and
anything else is a one-line CaseError naming the field, never a half-built record.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from functools import lru_cache
from typing import Any, TypeVar

from engine.errors import CaseError

T = TypeVar("T")

# Bounds on what is read back: a stored report is small; a huge one is not ours.
MAX_ITEMS = 10_000
MAX_TEXT = 100_000


def to_jsonable(value: Any) -> Any:
    """A record (or a value inside one) as plain JSON types: enums by value, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN; a missing figure reads as absent
    return value


@lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_jsonable(cls: type[T], data: Any, where: str = "record") -> T:
    """Build `cls` (a dataclass) from `data`, checking every field; CaseError when it does not fit."""
    value = _read(cls, data, where)
    return typing.cast(T, value)


def _fail(where: str, expected: str, data: Any) -> CaseError:
    return CaseError(f"stored provenance {where} is not of the expected shape: {expected} expected, "
                     f"got {type(data).__name__}")


def _read(kind: Any, data: Any, where: str) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        if data is None and type(None) in options:
            return None
        rest = [o for o in options if o is not type(None)]
        if len(rest) == 1:
            return _read(rest[0], data, where)
        raise CaseError(f"stored provenance {where}: unsupported field type {kind}")
    if origin is tuple:
        return _read_tuple(kind, data, where)
    if origin is dict:
        _key_type, value_type = typing.get_args(kind)
        if not isinstance(data, dict) or len(data) > MAX_ITEMS or not all(isinstance(k, str) for k in data):
            raise _fail(where, "an object with text keys", data)
        return {k: _read(value_type, v, f"{where}.{k}") for k, v in data.items()}
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _read_record(kind, data, where)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(data)
        except ValueError:
            raise CaseError(f"stored provenance {where}: {str(data)[:40]!r} is not a known value") from None
    return _read_plain(kind, data, where)


def _read_tuple(kind: Any, data: Any, where: str) -> tuple[Any, ...]:
    if not isinstance(data, list) or len(data) > MAX_ITEMS:
        raise _fail(where, "a list", data)
    args = typing.get_args(kind)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_read(args[0], v, f"{where}[{i}]") for i, v in enumerate(data))
    if len(args) != len(data):
        raise _fail(where, f"a list of {len(args)}", data)
    return tuple(_read(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, data)))


def _read_record(kind: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise _fail(where, "an object", data)
    hints = _hints(kind)
    values = {}
    for f in dataclasses.fields(kind):
        if f.name not in data:
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
                continue  # a field added later: older reports lack it
            raise CaseError(f"stored provenance {where} lacks {f.name!r}")
        values[f.name] = _read(hints[f.name], data[f.name], f"{where}.{f.name}")
    return kind(**values)


def _read_plain(kind: Any, data: Any, where: str) -> Any:
    if kind is bool:
        if isinstance(data, bool):
            return data
    elif kind is int:
        if isinstance(data, int) and not isinstance(data, bool):
            return data
    elif kind is float:
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return float(data)
    elif kind is str:
        if isinstance(data, str) and len(data) <= MAX_TEXT:
            return data
    else:
        raise CaseError(f"stored provenance {where}: unsupported field type {kind}")
    raise _fail(where, getattr(kind, "__name__", str(kind)), data)
