"""What a training run reports while it works: the ``TrainingEvents`` protocol.

``core.train.trainer.run_training`` tells its watcher each status change, message, extraction step,
epoch, throttled batch and progress estimate through this object, and asks it whether to stop.
The worker's progress file (``core.jobs.progress.ProgressWriter``) and the CLI override the
parts they show;
the base class ignores everything, so a run without a watcher just trains.
"""

from __future__ import annotations

from typing import Any


class TrainingEvents:
    """Receives what a run does; the job and the CLI override the parts they show."""

    def status(self, status: str) -> None:
        """The run entered ``status`` (extracting, training, fine-tuning, ...)."""

    def message(self, text: str) -> None:
        """A plain-language line for the event list."""

    def extraction_planned(self, images: int) -> None:
        """The images the coming extraction passes at most (views counted), for its estimate."""

    def extraction(self, split: str, done: int, total: int) -> None:
        """Feature extraction progress of one split."""

    def notice(self, text: str) -> None:
        """A setting the run changed on its own, for the page to show (a lowered batch size).

        By default it is just another message.
        """
        self.message(text)

    def epoch(self, row: dict[str, Any]) -> None:
        """One finished epoch (a history row)."""

    def batch(self, row: dict[str, Any]) -> None:
        """A throttled per-batch row ``{"step", "epoch", "fraction", "loss"}``."""

    def progress(self, fraction: float, eta_s: float | None, epoch: int, epochs: int) -> None:
        """Overall progress 0..1 and the estimated seconds left."""

    def should_stop(self) -> bool:
        """True once the user asked to stop."""
        return False
