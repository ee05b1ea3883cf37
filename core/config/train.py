"""Training settings: how the head (``TrainConfig``) and the top of the backbone
(``FineTuneConfig``, the optional second phase) are trained.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.config.auto import AutoRecipeConfig
from core.config.base import ConfigMixin, check_range

OPTIMIZERS = ("adam", "sgd", "rmsprop")
STRATEGIES = ("default", "mirrored")
MULTI_WORKER_REFUSAL = (
    "The multi_worker strategy is not supported: Keras 3 does not support TensorFlow's "
    "MultiWorkerMirroredStrategy (keras-team/keras#20585), so a run cannot train across "
    "machines in one fit. Use 'mirrored' for all devices of one machine, or scale out with "
    "Ray (set STUDIO_RAY_ADDRESS): runs, sweeps and feature extraction then spread over the "
    'cluster (README, "Scale out").'
)


def _check_count(name: str, value: int, minimum: int, maximum: int = 100_000) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ValueError(
            f"{name} must be a whole number from {minimum} to {maximum}, got {value!r}."
        )


@dataclass(frozen=True)
class FineTuneConfig(ConfigMixin):
    """Second training phase: unfreeze the top of the backbone and continue at a lower rate.

    Attributes:
        unfreeze_from: name of the first backbone layer to unfreeze (it and every layer above).
        last_n: alternatively, unfreeze the last N layers of the feature extractor.
        epochs: epochs of the fine-tune phase (added after the head phase).
        lr_factor: the fine-tune learning rate is ``learning_rate * lr_factor``.
    """

    unfreeze_from: str | None = None
    last_n: int | None = None
    epochs: int = 5
    lr_factor: float = 0.1

    def __post_init__(self) -> None:
        if (self.unfreeze_from is None) == (self.last_n is None):
            raise ValueError(
                "Fine-tuning needs either a layer to unfreeze from or a number of last layers "
                "to unfreeze (exactly one of the two)."
            )
        if self.unfreeze_from is not None and not str(self.unfreeze_from).strip():
            raise ValueError("The layer to unfreeze from must have a name.")
        if self.last_n is not None:
            _check_count("The number of layers to unfreeze", self.last_n, 1)
        _check_count("Fine-tune epochs", self.epochs, 1, 1000)
        check_range("The fine-tune learning-rate factor", self.lr_factor, 0.0, 1.0, low_open=True)


@dataclass(frozen=True)
class TrainConfig(ConfigMixin):
    """How the head (and optionally the top of the backbone) is trained.

    Attributes:
        optimizer: "adam", "sgd" (with ``momentum``) or "rmsprop".
        learning_rate: step size of the optimizer in the head phase.
        momentum: momentum of SGD (ignored by the other optimizers).
        batch_size: images per training step (the memory guard may lower it).
        epochs: epochs of the head phase (15: the hymenoptera recipe's, with cached views
            an epoch of the head takes well under a second).
        early_stopping: stop when the validation loss has not improved for ``patience`` epochs.
        patience: epochs without improvement before early stopping.
        restore_best_weights: end with the weights of the best epoch instead of the last one.
        reduce_lr_on_plateau: multiply the learning rate by ``reduce_lr_factor`` when the
            validation loss stalls for ``reduce_lr_patience`` epochs.
        reduce_lr_patience: see above.
        reduce_lr_factor: see above.
        label_smoothing: 0 = hard targets; e.g. 0.1 softens overconfident predictions.
        class_weights: weight the loss so rare classes count as much as common ones.
        seed: same seed, same data order and initial weights, same metrics.
        fine_tune: optional second phase (see ``FineTuneConfig``).
        strategy: "default" (one device) or "mirrored" (all local devices). "multi_worker" is
            refused with ``MULTI_WORKER_REFUSAL``: scale out with Ray instead.
        cache_features: compute a frozen backbone's output once and train the head on it.
        augment_views: with augmentation on and caching possible, cache this many augmented
            views of each training image; 0 trains end-to-end instead. The default 3 is the
            measured sweet spot on hymenoptera (``bench/hymenoptera.py``): +3 to 4 points of
            validation accuracy over no augmentation, in well under a minute on 2 CPU cores,
            where end-to-end training would re-run the backbone every epoch.
        auto: the automatic recipe (``core.config.auto``): pooled features of a few blocks,
            a head search scored on validation, a refit and a time budget. None (the value of
            every run config written before it existed) trains by hand with the settings
            above; the app's and the CLI's defaults switch it on (``core.config.recipes``).
    """

    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9
    batch_size: int = 32
    epochs: int = 15
    early_stopping: bool = False
    patience: int = 3
    restore_best_weights: bool = True
    reduce_lr_on_plateau: bool = False
    reduce_lr_patience: int = 2
    reduce_lr_factor: float = 0.5
    label_smoothing: float = 0.0
    class_weights: bool = False
    seed: int = 42
    fine_tune: FineTuneConfig | None = None
    strategy: str = "default"
    cache_features: bool = True
    augment_views: int = 3
    auto: AutoRecipeConfig | None = None

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"Unknown optimizer '{self.optimizer}'; choose one of {', '.join(OPTIMIZERS)}."
            )
        if self.strategy == "multi_worker":
            raise ValueError(MULTI_WORKER_REFUSAL)
        if self.strategy not in STRATEGIES:
            raise ValueError(
                f"Unknown strategy '{self.strategy}'; choose one of {', '.join(STRATEGIES)}."
            )
        check_range("The learning rate", self.learning_rate, 0.0, 10.0, low_open=True)
        check_range("Momentum", self.momentum, 0.0, 0.999, low_open=False)
        _check_count("Batch size", self.batch_size, 1, 4096)
        _check_count("Epochs", self.epochs, 1, 1000)
        _check_count("Early-stopping patience", self.patience, 1, 1000)
        _check_count("Reduce-LR patience", self.reduce_lr_patience, 1, 1000)
        check_range("The reduce-LR factor", self.reduce_lr_factor, 0.0, 0.99, low_open=True)
        check_range("Label smoothing", self.label_smoothing, 0.0, 0.5, low_open=False)
        _check_count("The seed", self.seed, 0, 2**31 - 1)
        _check_count("Augmented views per image", self.augment_views, 0, 50)

    @property
    def total_epochs(self) -> int:
        """Epochs of both phases together."""
        return self.epochs + (self.fine_tune.epochs if self.fine_tune else 0)
