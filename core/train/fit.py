"""One ``fit`` of a training phase: the strategy, compile, Keras's callbacks and the fit itself.

``fit_phase`` runs ``model.fit`` with the studio's ``RunCallback`` first and Keras's own
callbacks (TerminateOnNaN, TensorBoard logging, early stopping, learning-rate schedule) after
it, on cached arrays (as ``tf.data`` datasets) or the streaming pipeline.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras

from core.config.train import MULTI_WORKER_REFUSAL, STRATEGIES, TrainConfig
from core.errors import TrainingError
from core.train.callback import RunCallback
from core.train.phase_data import PhaseData
from core.train.tensorboard_logs import tensorboard_callback


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
