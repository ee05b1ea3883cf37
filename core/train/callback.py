"""The studio's one Keras callback: ``RunCallback`` forwards a training run's events.

It only forwards events: per-epoch history rows, throttled per-batch loss, progress and ETA;
it checks the Stop flag (``model.stop_training`` ends the epoch after the current batch),
notices a NaN loss, and checkpoints the weights after every epoch so an interrupted run can be
resumed. Everything else is Keras's own (``core.train.fit``).
"""

from __future__ import annotations

import time
from typing import Any

import keras
import numpy as np

from core.atomic import write_via_temp
from core.store.runs import RunStore
from core.train.events import TrainingEvents
from core.train.state import RunState

BATCH_EVENT_INTERVAL_S = 0.25  # at most 4 per-batch rows a second reach the UI


class RunCallback(keras.callbacks.Callback):
    """Forwards progress, checks Stop, notices NaN and checkpoints after every epoch."""

    def __init__(
        self,
        *,
        events: TrainingEvents,
        store: RunStore,
        run_id: str,
        state: RunState,
        phase: str,
        total_epochs: int,
        checkpoint_model: Any,
        steps_hint: int = 0,
    ) -> None:
        super().__init__()
        # Fallback step count for progress when Keras gives none (a dataset of unknown length).
        self.steps_hint = steps_hint
        self.events, self.store, self.run_id, self.state = events, store, run_id, state
        self.phase, self.total_epochs, self.checkpoint_model = phase, total_epochs, checkpoint_model
        self._epoch = 0
        self._epoch_start = self._last_batch_event = 0.0
        self._epoch_seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch
        self._epoch_start = time.perf_counter()

    def _eta(self, fraction_of_epoch: float) -> float | None:
        done = self._epoch + fraction_of_epoch
        if self._epoch_seconds:
            per_epoch = sum(self._epoch_seconds) / len(self._epoch_seconds)
        elif fraction_of_epoch > 0:
            per_epoch = (time.perf_counter() - self._epoch_start) / fraction_of_epoch
        else:
            return None
        return max(0.0, (self.total_epochs - done) * per_epoch)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        loss = float((logs or {}).get("loss", 0.0))
        if not np.isfinite(loss):
            self.state.nan_epoch = self._epoch + 1
            self.model.stop_training = True
            return
        if self.events.should_stop():
            self.state.stopped = True
            self.model.stop_training = True  # Keras ends the epoch after this batch
        steps = self.params.get("steps") or self.steps_hint
        now = time.perf_counter()
        last = steps and batch + 1 >= steps
        if now - self._last_batch_event >= BATCH_EVENT_INTERVAL_S or last:
            self._last_batch_event = now
            fraction = (batch + 1) / steps if steps else 0.0
            self.events.batch(
                {"step": batch + 1, "epoch": self._epoch + 1, "fraction": fraction, "loss": loss}
            )
            self.events.progress(
                (self._epoch + fraction) / self.total_epochs,
                self._eta(fraction),
                self._epoch + 1,
                self.total_epochs,
            )

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = dict(logs or {})
        if self.state.nan_epoch is not None or not np.isfinite(logs.get("loss", 0.0)):
            self.state.nan_epoch = self.state.nan_epoch or epoch + 1
            self.model.stop_training = True
            return  # never checkpoint NaN weights
        self._epoch_seconds.append(time.perf_counter() - self._epoch_start)
        row = {"epoch": epoch + 1, "phase": self.phase}
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            if key in logs:
                row[key] = float(logs[key])
        row["lr"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.state.history.append(row)
        self._checkpoint(row)
        self.events.epoch(row)
        self.events.progress(
            (epoch + 1) / self.total_epochs,
            self._eta(1.0) if epoch + 1 < self.total_epochs else 0.0,
            epoch + 1,
            self.total_epochs,
        )

    def _checkpoint(self, row: dict[str, Any]) -> None:
        """Saves last (and best) weights, history and the last good epoch."""
        folder = self.store.path(self.run_id)
        monitor = row.get("val_loss", row.get("loss"))
        # Atomic: a crash mid-save must leave the previous checkpoint, not a truncated file.
        write_via_temp(folder / "last.weights.h5", self.checkpoint_model.save_weights)
        if monitor is not None and (
            self.state.best_value is None or monitor < self.state.best_value
        ):
            self.state.best_value = float(monitor)
            self.state.best_weights = [w.copy() for w in self.checkpoint_model.get_weights()]
            write_via_temp(folder / "best.weights.h5", self.checkpoint_model.save_weights)
        self.store.write_json(self.run_id, "history", self.state.history)
        self.store.update_status(
            self.run_id,
            last_epoch=row["epoch"],
            best_value=self.state.best_value,
            checkpoint=self.phase,
        )
