"""The typed-record helpers: readers refuse other types, records give back what they read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.store.json_record import (
    flag,
    integer,
    number,
    number_map,
    record_to_dict,
    split_known,
    texts,
)


def test_readers_keep_the_stored_type_and_refuse_others() -> None:
    assert number(1) == 1 and isinstance(number(1), int) and number(0.5) == 0.5
    assert number(True) is None and number("1") is None  # a bool is not a number
    assert integer(2) == 2 and integer(2.0) is None and integer(False) is None
    assert flag(False) is False and flag(0) is None
    assert texts(["a", "b"]) == ("a", "b") and texts(["a", 1]) is None
    assert number_map({"head": 1.5}) == {"head": 1.5} and number_map({"head": "x"}) is None


@dataclass(frozen=True)
class Point:
    x: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    keys: tuple[str, ...] | None = None


def test_a_record_read_from_a_file_writes_back_its_keys_in_order() -> None:
    data = {"note": "kept", "x": "not a number", "y": None}
    point = Point(**split_known(data, {"x": integer}))
    assert point.x is None and point.extra == data
    assert list(record_to_dict(point).items()) == list(data.items())
    assert record_to_dict(Point(**split_known({}, {"x": integer}))) == {}
    assert record_to_dict(Point(x=3, extra={"z": [1]})) == {"x": 3, "z": [1]}
