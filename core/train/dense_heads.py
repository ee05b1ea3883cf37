"""Keras heads on pooled feature vectors, for the automatic recipe's head search.

Two kinds: ``dense`` is the Model page's head (its hidden layers and dropout before a softmax
Dense, today's default: Dropout 0.2 + Dense), ``mlp`` a small non-linear one (a hidden layer of
256 ReLU units and dropout 0.5). Both train with the run's optimizer, learning rate, batch size
and epochs on cached vectors (seconds on a CPU). ``fit_dense_head`` records the held-out
probabilities after every epoch, so the search can pick the epoch count (lowest held-out
log-loss, as today's head restores its best epoch) and score it the way it scores the
logistic regression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from core.config.model import DenseConfig, HeadConfig
from core.config.train import TrainConfig
from core.model.heads import build_head
from core.train.fit import compile_for

MLP_HEAD = HeadConfig(dense=(DenseConfig(units=256, activation="relu", dropout=0.5),), dropout=0.0)


def head_config_for(kind: str, model_head: HeadConfig) -> HeadConfig:
    """The head of ``kind`` on a feature vector: always a softmax over the classes."""
    if kind == "mlp":
        return MLP_HEAD
    return HeadConfig(dense=model_head.dense, dropout=model_head.dropout, output="softmax")


@dataclass
class DenseFit:
    """A trained Keras head and, with held-out data, its probabilities after every epoch.

    Attributes:
        model: the head (vector -> probabilities); with held-out data, holds the weights of
            the epoch with the lowest held-out log-loss.
        held_out: per epoch, (M, K) probabilities of the held-out rows.
        best_epoch: that epoch (1-based), or the epochs run without held-out data.
    """

    model: Any
    held_out: list[np.ndarray] = field(default_factory=list)
    best_epoch: int = 0


class _HeldOutWatch(keras.callbacks.Callback):
    """Predicts the held-out rows after each epoch and keeps the lowest-loss weights."""

    def __init__(self, views: list[np.ndarray], labels: np.ndarray, fit: DenseFit) -> None:
        super().__init__()
        self.views, self.labels, self.fit = views, labels, fit
        self.best_loss = np.inf
        self.best_weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        probabilities = np.mean(
            [np.asarray(self.model(view, training=False), np.float64) for view in self.views], 0
        )
        self.fit.held_out.append(probabilities)
        loss = log_loss(probabilities, self.labels)
        if loss < self.best_loss:
            self.best_loss, self.fit.best_epoch = loss, epoch + 1
            self.best_weights = self.model.get_weights()


def log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-probability of the true class (clipped at 1e-7)."""
    if not len(labels):
        return 0.0
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.clip(picked, 1e-7, 1.0))))


def fit_dense_head(
    kind: str,
    train: tuple[np.ndarray, np.ndarray],
    held_out: tuple[list[np.ndarray], np.ndarray] | None,
    *,
    num_classes: int,
    model_head: HeadConfig,
    settings: TrainConfig,
    epochs: int,
) -> DenseFit:
    """Trains a head of ``kind`` on ``train`` (features, labels) for ``epochs`` epochs.

    With ``held_out`` (one feature array per view of the same images, and their labels), the
    probabilities averaged over the views are recorded per epoch and the model ends with the
    weights of the lowest held-out log-loss. Seeded by ``settings.seed``: the same data gives
    the same head.
    """
    import tensorflow as tf

    features, labels = train
    keras.utils.set_random_seed(settings.seed)
    head = build_head((features.shape[1],), head_config_for(kind, model_head), num_classes)
    compile_for(head, settings, settings.learning_rate, num_classes)
    targets = np.eye(num_classes, dtype=np.float32)[labels]
    dataset = (
        tf.data.Dataset.from_tensor_slices((features.astype(np.float32), targets))
        .shuffle(len(features), seed=settings.seed, reshuffle_each_iteration=True)
        .batch(settings.batch_size)
    )
    fit = DenseFit(model=head, best_epoch=epochs)
    callbacks = []
    if held_out is not None:
        watch = _HeldOutWatch([v.astype(np.float32) for v in held_out[0]], held_out[1], fit)
        callbacks.append(watch)
    head.fit(dataset, epochs=epochs, verbose=0, callbacks=callbacks, shuffle=False)
    if held_out is not None and watch.best_weights is not None:
        head.set_weights(watch.best_weights)
    return fit
