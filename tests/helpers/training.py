"""Training helpers shared by the trainer, jobs and CLI tests: a tiny run config and faults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from core.config.data import DataConfig
from core.config.model import ModelConfig
from core.config.run import RunConfig
from core.config.settings import Settings
from core.config.train import TrainConfig
from core.data.images import load_image_array
from core.data.pipeline import load_split

# Random-init MobileNetV2 activations vanish after a few blocks, so tiny tests cut right after
# the first convolution: the features still separate red from blue and the head learns.
TINY_MODEL = ModelConfig(
    backbone="mobilenet_v2", input_size=32, weights="none", cut_layer="Conv1_relu"
)


def tiny_config(data: Path, **train: Any) -> RunConfig:
    """A run config for the 16-image ``tiny_dataset`` that trains in seconds."""
    options: dict[str, Any] = {"epochs": 2, "batch_size": 4, "learning_rate": 0.01}
    options.update(train)
    return RunConfig(
        data=DataConfig(path=str(data), val_ratio=0.25, test_ratio=0.25, seed=1),
        model=TINY_MODEL,
        train=TrainConfig(**options),
    )


def val_metrics_of(model: keras.Model, data: Path) -> tuple[float, float]:
    """Recomputes validation metrics with a model loaded from disk."""
    _, split = load_split(DataConfig(path=str(data), val_ratio=0.25, test_ratio=0.25, seed=1))
    images = np.stack([load_image_array(path, 32) for path, _ in split.val])
    labels = np.array([label for _, label in split.val])
    probs = model.predict(images, verbose=0)
    loss = float(np.mean(-np.log(probs[np.arange(len(labels)), labels])))
    return loss, float((probs.argmax(axis=1) == labels).mean())


def tiny_settings(tmp_path: Path) -> Settings:
    return Settings(
        runs_dir=str(tmp_path / "runs"),
        cache_dir=str(tmp_path / "cache"),
        memory_budget_mb=1e6,
        quick_predict_after_training=False,  # tests that want it turn it on
    )


def poison_cached_features(monkeypatch: pytest.MonkeyPatch, value: float) -> Any:
    """Fills the cached training features with ``value`` (NaN or inf); returns the real function.

    The loss then turns NaN in the first epoch, which the trainer must report in plain words.
    """
    import core.train.run

    real = core.train.run.prepare_cached

    def poisoned(*args: Any, **kwargs: Any) -> Any:
        data = real(*args, **kwargs)
        data.train_x = np.full_like(data.train_x, value)
        return data

    monkeypatch.setattr(core.train.run, "prepare_cached", poisoned)
    return real


def corrupt_after_scan(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Makes the first training image unreadable right after the trainer scanned the data."""
    import core.data.run_split

    real = core.data.run_split.load_split
    corrupted: list[Path] = []

    def scan_then_corrupt(spec: DataConfig) -> Any:
        report, split = real(spec)
        path = Path(split.train[0][0])
        path.write_bytes(b"not an image any more")
        corrupted.append(path)
        return report, split

    monkeypatch.setattr(core.data.run_split, "load_split", scan_then_corrupt)
    return corrupted
