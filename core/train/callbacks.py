"""The Keras side of a training phase: compile, callbacks, ``fit``, and error wording.

The one custom callback (``RunCallback``) only forwards events: per-epoch history rows,
throttled per-batch loss, progress and ETA; it checks the Stop flag (``model.stop_training``
ends the epoch after the current batch), notices a NaN loss, and checkpoints the weights after
every epoch so an interrupted run can be resumed. Everything else is Keras's own, TensorBoard
logging included (``core.train.tensorboard_logs``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from core.atomic import write_via_temp
from core.config.train import MULTI_WORKER_REFUSAL, STRATEGIES, TrainConfig
from core.errors import StudioError, TrainingError
from core.store.runs import RunStore
from core.train.events import TrainingEvents
from core.train.phase_data import PhaseData
from core.train.tensorboard_logs import tensorboard_callback

BATCH_EVENT_INTERVAL_S = 0.25  # at most 4 per-batch rows a second reach the UI


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


def make_strategy(name: str) -> Any:
    """Returns the ``tf.distribute`` strategy for ``TrainConfig.strategy``.

    "mirrored" uses every local device (tested with 2 logical CPUs). There is no multi-worker
    strategy: Keras 3 does not support ``MultiWorkerMirroredStrategy`` (keras-team/keras#20585),
    so ``TrainConfig`` refuses "multi_worker" and points to the Ray path
    (``core.jobs.ray_executor``).

    Raises:
        ValueError: "multi_worker" (``MULTI_WORKER_REFUSAL``) or an unknown name.
    """
    import tensorflow as tf

    if name == "multi_worker":
        raise ValueError(MULTI_WORKER_REFUSAL)
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name != "default":
        raise ValueError(f"Unknown strategy '{name}'; choose one of {', '.join(STRATEGIES)}.")
    return tf.distribute.get_strategy()


def compile_for(model: Any, train: TrainConfig, learning_rate: float, outputs: int) -> None:
    """Compiles ``model`` with the configured optimizer, loss and accuracy metric."""
    optimizers = {
        "adam": lambda: keras.optimizers.Adam(learning_rate),
        "sgd": lambda: keras.optimizers.SGD(learning_rate, momentum=train.momentum),
        "rmsprop": lambda: keras.optimizers.RMSprop(learning_rate),
    }
    if outputs == 1:  # sigmoid head for two classes
        loss: Any = keras.losses.BinaryCrossentropy(label_smoothing=train.label_smoothing)
        metric: Any = keras.metrics.BinaryAccuracy(name="accuracy")
    else:
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=train.label_smoothing)
        metric = keras.metrics.CategoricalAccuracy(name="accuracy")
    model.compile(optimizer=optimizers[train.optimizer](), loss=loss, metrics=[metric])


def keras_callbacks(train: TrainConfig, has_val: bool, run_folder: Path | None = None) -> list[Any]:
    """TerminateOnNaN, TensorBoard logs in ``run_folder``, optional early stopping and schedule."""
    monitor = "val_loss" if has_val else "loss"
    callbacks: list[Any] = [keras.callbacks.TerminateOnNaN()]
    if run_folder is not None:
        callbacks.append(tensorboard_callback(run_folder))
    if train.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=train.patience))
    if train.reduce_lr_on_plateau:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=monitor, factor=train.reduce_lr_factor, patience=train.reduce_lr_patience
            )
        )
    return callbacks


def arrays_to_datasets(data: PhaseData, seed: int) -> tuple[Any, Any]:
    """In-memory ``tf.data`` datasets over cached arrays.

    Measured on the 2-core machine: fitting a head on (244, 1280) arrays through
    ``Dataset.from_tensor_slices`` takes about half the time per epoch of passing the numpy
    arrays to ``fit`` (whose adapter re-slices them every epoch); on cached features that
    per-epoch overhead is most of the training time.
    """
    import tensorflow as tf

    train = (
        tf.data.Dataset.from_tensor_slices((data.train_x, data.train_y))
        .shuffle(len(data.train_x), seed=seed, reshuffle_each_iteration=True)
        .batch(data.batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    validation = None
    if data.validation is not None:
        validation = tf.data.Dataset.from_tensor_slices(data.validation).batch(data.batch_size)
    return train, validation


def fit_phase(
    model: Any,
    data: PhaseData,
    *,
    train: TrainConfig,
    callback: RunCallback,
    initial_epoch: int,
    epochs: int,
    class_weight: dict[int, float] | None,
    extra_callbacks: Sequence[Any] = (),
) -> None:
    """Runs ``model.fit`` for one phase and records its wall time and images seen.

    ``extra_callbacks`` run after the studio's own (e.g. MLflow tracking, which reads the
    history row ``callback`` has just added).
    """
    start = time.perf_counter()
    before = len(callback.state.history)
    train_data, validation = data.train_x, data.validation
    if data.arrays:
        train_data, validation = arrays_to_datasets(data, train.seed)
    model.fit(
        train_data,
        validation_data=validation,
        epochs=epochs,
        initial_epoch=initial_epoch,
        shuffle=False,  # the datasets shuffle themselves (seeded)
        class_weight=class_weight,
        verbose=0,
        callbacks=[
            callback,
            *keras_callbacks(
                train, data.validation is not None, callback.store.path(callback.run_id)
            ),
            *extra_callbacks,
        ],
    )
    phase = callback.phase
    state = callback.state
    state.phase_seconds[phase] = state.phase_seconds.get(phase, 0.0) + time.perf_counter() - start
    ran = len(state.history) - before
    state.images_seen[phase] = state.images_seen.get(phase, 0) + ran * data.train_count
    if state.nan_epoch is not None:
        raise TrainingError(
            f"The loss became NaN (not a number) in epoch {state.nan_epoch}, so training was "
            "stopped. Try a lower learning rate, or check the images for blank or broken ones."
        )


def explain_error(error: BaseException) -> str:
    """A plain-language sentence for any exception that ended a run."""
    if isinstance(error, StudioError):
        return str(error)
    from core.data.pipeline import explain_pipeline_error

    unreadable = explain_pipeline_error(error)  # a file changed after the scan: name it
    if unreadable is not None:
        return unreadable
    if isinstance(error, MemoryError) or type(error).__name__ == "ResourceExhaustedError":
        return (
            "The run ran out of memory. Use a smaller batch size or input size, or cut the "
            "backbone earlier."
        )
    first_line = (str(error).strip().splitlines() or [""])[0][:300]
    if "image" in first_line.lower() or "file" in first_line.lower():
        return f"Training stopped because a file could not be used: {first_line}"
    return (
        f"Training failed unexpectedly ({type(error).__name__}: {first_line}). "
        "The technical details are in the run's log."
    )
