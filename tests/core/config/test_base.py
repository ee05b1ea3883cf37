"""Tests for the JSON round trip shared by every settings dataclass."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.config.base import ConfigMixin


@dataclass(frozen=True)
class Inner(ConfigMixin):
    units: int = 8
    rate: float = 0.5


@dataclass(frozen=True)
class Outer(ConfigMixin):
    name: str = "x"
    inner: Inner = Inner()
    layers: tuple[Inner, ...] = ()
    layer_name: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("Name must not be empty.")


def test_round_trip_nested_and_tuples() -> None:
    outer = Outer(name="a", inner=Inner(3, 0.1), layers=(Inner(1), Inner(2, 1)), layer_name="l")
    assert Outer.from_json(outer.to_json()) == outer
    assert Outer.from_dict(outer.to_dict()).layers[1].rate == 1.0


def test_unknown_key_is_named() -> None:
    with pytest.raises(ValueError, match=r"inner\.bogus"):
        Outer.from_dict({"inner": {"bogus": 1}})


def test_validation_runs_on_load() -> None:
    with pytest.raises(ValueError, match="Name must not be empty"):
        Outer.from_dict({"name": ""})


def test_bad_json_message() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        Outer.from_json("{nope")


@pytest.mark.parametrize(
    ("value", "low_open", "message"),
    [
        (1.5, False, "Rate must be between 0 and 1, got 1.5."),
        (-0.1, False, "Rate must be between 0 and 1, got -0.1."),
        (0.0, True, "Rate must be above 0 and at most 1, got 0."),
        (float("nan"), False, "Rate must be a number, got nan."),
        (True, False, "Rate must be a number, got True."),
        ("lots", False, "Rate must be a number, got 'lots'."),
    ],
)
def test_check_range_refuses_with_a_plain_sentence(
    value: object, low_open: bool, message: str
) -> None:
    from core.config.base import check_range

    with pytest.raises(ValueError) as caught:
        check_range("Rate", value, 0.0, 1.0, low_open=low_open)  # type: ignore[arg-type]
    assert str(caught.value) == message
    check_range("Rate", 0.0, 0.0, 1.0)  # the ends are allowed unless low_open
    check_range("Rate", 1, 0.0, 1.0, low_open=True)
