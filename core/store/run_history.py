"""A run's ``history.json`` as typed rows: one ``EpochRow`` per finished epoch.

The training callback (``core.train.callback``) writes the rows as plain objects while it trains;
everything that reads them after (the run store, the Train page's chart, run comparison, resume)
reads ``EpochRow``. A row keeps any key it does not know in ``extra`` and writes back exactly
what it read (``to_dict``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.store.json_record import (
    JsonObject,
    Reader,
    integer,
    number,
    record_to_dict,
    split_known,
    text,
)

HISTORY_FILE = "history.json"
# The per-epoch scores a row may hold (a run without validation images has no val_* keys).
SCORE_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")


@dataclass(frozen=True)
class EpochRow:
    """One finished epoch.

    Attributes:
        epoch: the epoch, 1-based, counted across phases (fine-tune epochs continue).
        phase: "head", "fine_tune", or "head_search" (an automatic run: one row per candidate).
        loss, accuracy: training scores; val_loss, val_accuracy: validation scores.
        lr: the optimizer's learning rate at the end of the epoch.
        extra: any other key of the row, kept as stored.
    """

    epoch: int = 0
    phase: str | None = None
    loss: float | None = None
    accuracy: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None
    lr: float | None = None
    extra: JsonObject = field(default_factory=dict)
    keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: JsonObject) -> EpochRow:
        """Reads one row of ``history.json``; a missing or malformed value reads as its default."""
        return cls(**split_known(data, _READERS))

    def to_dict(self) -> JsonObject:
        """The row as ``history.json`` content (a row read from a file gives it back unchanged)."""
        return record_to_dict(self)

    def score(self, name: str) -> float | None:
        """One of ``SCORE_KEYS`` by name (None when the epoch did not measure it)."""
        if name not in SCORE_KEYS:
            raise ValueError(f"Unknown epoch score '{name}'; choose from {', '.join(SCORE_KEYS)}.")
        value: float | None = getattr(self, name)
        return value


_READERS: dict[str, Reader] = {
    "epoch": integer,
    "phase": text,
    **dict.fromkeys((*SCORE_KEYS, "lr"), number),
}


def history_rows(data: Any) -> list[EpochRow]:
    """The rows of ``history.json``'s content (anything but a list of objects reads as none)."""
    if not isinstance(data, list):
        return []
    return [EpochRow.from_dict(row) for row in data if isinstance(row, dict)]


def read_history(path: Path) -> list[EpochRow]:
    """Reads a ``history.json`` file; a missing or unreadable file has no rows."""
    try:
        return history_rows(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return []
