"""What survives across the phases of one training run: ``RunState``.

The history rows, the best validation loss and weights so far, the seconds and images of each
phase, and whether the run was stopped or hit a NaN loss. ``core.train.callback.RunCallback``
fills it during ``fit``; the run (``core.train.run``) reads it to checkpoint, resume and write
``metrics.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunState:
    """What survives across phases of one run (and is written to the run store)."""

    history: list[dict[str, Any]] = field(default_factory=list)
    best_value: float | None = None
    best_weights: list[Any] | None = None
    phase_seconds: dict[str, float] = field(default_factory=dict)
    images_seen: dict[str, int] = field(default_factory=dict)
    nan_epoch: int | None = None
    stopped: bool = False
