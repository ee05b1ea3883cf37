"""Reading and writing a JSON object as a typed, frozen record that round-trips unchanged.

The run files (``metrics.json``, ``history.json``) are written by several parts of the engine
over many versions, so a record must read a file with missing keys, keep keys it does not know
and give back exactly what it read. A record class declares one reader per known key; a reader
returns the typed value or None when the stored value does not have the expected type. A key
without a reader, or whose value its reader refuses, is kept as stored in the record's
``extra``; ``keys`` remembers the file's keys in order (None for a record built in code), so
``record_to_dict`` writes exactly them back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

# A JSON object as ``json.loads`` gives it: the stored form a record reads and writes back.
JsonObject = dict[str, Any]
Reader = Callable[[Any], Any]


def number(value: Any) -> float | None:
    """An int or float as stored (an int stays an int so it writes back the same); else None."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def integer(value: Any) -> int | None:
    """An int (not a bool); else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def text(value: Any) -> str | None:
    """A string; else None."""
    return value if isinstance(value, str) else None


def flag(value: Any) -> bool | None:
    """A bool; else None."""
    return value if isinstance(value, bool) else None


def texts(value: Any) -> tuple[str, ...] | None:
    """A list of strings as a tuple; else None."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def objects(value: Any) -> tuple[JsonObject, ...] | None:
    """A list of JSON objects (e.g. table rows) as a tuple; else None."""
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return tuple(value)
    return None


def number_map(value: Any) -> dict[str, float] | None:
    """An object of numbers (e.g. seconds per phase); else None."""
    if isinstance(value, dict) and all(number(item) is not None for item in value.values()):
        return dict(value)
    return None


def split_known(data: Mapping[str, Any], readers: Mapping[str, Reader]) -> JsonObject:
    """The constructor arguments of a record: typed known keys, ``extra`` and ``keys``.

    Args:
        data: the stored JSON object.
        readers: one reader per known key (the record's field of the same name).
    """
    values: JsonObject = {}
    extra: JsonObject = {}
    for key, value in data.items():
        reader = readers.get(key)
        parsed = reader(value) if reader is not None else None
        if reader is None or (parsed is None and value is not None):
            extra[key] = value  # unknown or of another type: kept as it was, never lost
        else:
            values[key] = parsed
    return {**values, "extra": extra, "keys": tuple(data)}


def _plain(value: Any) -> Any:
    """A field's value as JSON content (records, tuples and mappings inside included)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return record_to_dict(value)
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def record_to_dict(record: Any) -> JsonObject:
    """A record (with ``extra`` and ``keys`` fields) as the JSON object it stands for.

    A record read from a file gives back that file's keys in their order, each value as stored;
    a record built in code gives every field that is set, then ``extra``.
    """
    extra: JsonObject = record.extra
    keys: tuple[str, ...] | None = record.keys  # None: built in code, not read from a file
    if keys is None:
        names = [
            f.name
            for f in dataclasses.fields(record)
            if f.name not in ("extra", "keys") and getattr(record, f.name) is not None
        ]
        keys = (*names, *(key for key in extra if key not in names))
    return {key: extra[key] if key in extra else _plain(getattr(record, key)) for key in keys}


class JsonFileRecord:
    """``from_dict``/``to_dict`` of a record that stands for a whole JSON file.

    A subclass is a frozen dataclass with ``extra`` and ``keys`` fields (see the module
    docstring) and names its readers in ``READERS``. Anything but a JSON object reads as an
    empty one, so a missing or damaged file gives a record of Nones.
    """

    READERS: ClassVar[Mapping[str, Reader]] = {}

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Reads the stored object; a missing or malformed value reads as None."""
        return cls(**split_known(data if isinstance(data, dict) else {}, cls.READERS))

    def to_dict(self) -> JsonObject:
        """The record as the file's content (one read from a file gives it back unchanged)."""
        return record_to_dict(self)
