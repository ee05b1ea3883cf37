"""JSON round trip for frozen settings dataclasses.

Every settings object in the engine is a frozen dataclass that inherits ``ConfigMixin``:
``to_dict()`` gives plain JSON types, ``from_dict()`` rebuilds nested dataclasses and tuples
and refuses unknown keys by name, and ``__post_init__`` validation (written per class) raises
``ValueError`` with a sentence a non-expert understands.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from typing import Any, Self, get_args, get_origin, get_type_hints


def check_range(
    name: str, value: float, low: float, high: float, *, low_open: bool = False
) -> None:
    """Raises ValueError with a plain sentence unless ``low <= value <= high``.

    Args:
        name: what the value is, as the sentence starts ("The learning rate").
        value: the number to check (a bool, a string or NaN is refused as not a number).
        low: the smallest allowed value (excluded when ``low_open``).
        high: the largest allowed value (included).
        low_open: ``low`` itself is not allowed (e.g. a learning rate of 0).
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    below = value <= low if low_open else value < low
    if below or value > high:
        lower = f"above {low:g}" if low_open else f"between {low:g}"
        upper = f"at most {high:g}" if low_open else f"{high:g}"
        raise ValueError(f"{name} must be {lower} and {upper}, got {value:g}.")


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_to_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _to_plain(item) for key, item in value.items()}
    return value


def _from_plain(hint: Any, value: Any, where: str) -> Any:
    """Converts a JSON value to the type ``hint`` describes (dataclass, tuple, Optional)."""
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        if value is None:
            return None
        if len(options) == 1:
            return _from_plain(options[0], value, where)
        return value
    if isinstance(hint, type) and issubclass(hint, ConfigMixin):
        if not isinstance(value, dict):
            raise ValueError(f"'{where}' must be an object, got {type(value).__name__}.")
        return hint.from_dict(value, _where=where)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ValueError(f"'{where}' must be a list, got {type(value).__name__}.")
        args = get_args(hint)
        item_hint = args[0] if args else Any
        return tuple(_from_plain(item_hint, item, f"{where}[{i}]") for i, item in enumerate(value))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


class ConfigMixin:
    """Adds ``to_dict``/``from_dict``/``to_json``/``from_json`` to a frozen dataclass."""

    def to_dict(self) -> dict[str, Any]:
        """Returns the settings as plain JSON-serializable types."""
        result = _to_plain(self)
        assert isinstance(result, dict)
        return result

    def to_json(self, indent: int | None = 2) -> str:
        """Returns the settings as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any], _where: str = "") -> Self:
        """Builds the settings from ``to_dict`` output.

        Raises:
            ValueError: on an unknown key (named in the message) or an invalid value.
        """
        if not isinstance(data, dict):
            raise ValueError(f"Settings for {cls.__name__} must be an object.")
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - set(fields))
        if unknown:
            prefix = f"{_where}." if _where else ""
            raise ValueError(
                f"Unknown setting '{prefix}{unknown[0]}' for {cls.__name__}; "
                f"allowed: {', '.join(sorted(fields))}."
            )
        hints = get_type_hints(cls)
        kwargs = {
            name: _from_plain(hints[name], value, f"{_where}.{name}" if _where else name)
            for name, value in data.items()
        }
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> Self:
        """Builds the settings from a JSON string (see ``from_dict``)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"The settings file is not valid JSON: {error}.") from error
        return cls.from_dict(data)
