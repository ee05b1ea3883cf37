"""Trainer: cached vs end-to-end, determinism, cache reuse, stop, NaN, bad file, fine-tune,
no test split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from core.config.run import RunConfig
from core.config.train import FineTuneConfig
from core.data.images import load_image_array
from core.errors import TrainingError
from core.store.runs import RunStore
from core.train.events import TrainingEvents
from core.train.trainer import run_training
from tests.helpers.training import (
    corrupt_after_scan,
    poison_cached_features,
    tiny_config,
    tiny_settings,
    val_metrics_of,
)


def train(
    tmp_path: Path, config: RunConfig, events: TrainingEvents | None = None
) -> tuple[RunStore, str, dict[str, Any]]:
    store = RunStore(tmp_path / "runs")
    run_id = store.create(config)
    metrics = run_training(config, store, run_id, events, settings=tiny_settings(tmp_path))
    return store, run_id, metrics


def _architecture(model: Any) -> list[tuple[str, list[tuple[int, ...]]]]:
    layers = []
    for layer in model.layers:
        inner = _architecture(layer) if hasattr(layer, "layers") and layer.layers else []
        layers.append((type(layer).__name__, [tuple(w.shape) for w in layer.weights]))
        layers.extend(inner)
    return layers


def test_cached_and_end_to_end_train_the_same_architecture(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    store, cached_id, cached = train(tmp_path, tiny_config(tiny_dataset))
    _, plain_id, plain = train(tmp_path, tiny_config(tiny_dataset, cache_features=False))
    assert cached["cached_features"] is True and plain["cached_features"] is False
    cached_model = keras.saving.load_model(store.path(cached_id) / "model.keras", safe_mode=True)
    plain_model = keras.saving.load_model(store.path(plain_id) / "model.keras", safe_mode=True)
    assert _architecture(cached_model) == _architecture(plain_model)
    # The saved model (trained on cached, pooled features) reproduces the reported metrics.
    loss, accuracy = val_metrics_of(cached_model, tiny_dataset)
    assert accuracy == cached["val_accuracy"]
    assert loss == pytest.approx(cached["val_loss"], abs=1e-4)
    for metrics in (cached, plain):
        assert 0.0 <= metrics["val_accuracy"] <= 1.0 and metrics["epochs_run"] == 2
        assert set(metrics["per_class"]) == {"blue", "red"}
    assert json.loads((store.path(cached_id) / "labels.json").read_text())["classes"] == [
        "blue",
        "red",
    ]


def test_same_seed_same_metrics_and_second_run_reuses_the_cache(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    config = tiny_config(tiny_dataset, epochs=3)
    _, _, first = train(tmp_path, config)
    store, run_id, second = train(tmp_path, config)
    assert first["features_from_cache"] is False and second["features_from_cache"] is True
    assert first["final"] == second["final"] and first["val_accuracy"] == second["val_accuracy"]
    history = store.load(run_id).history
    assert history[-1].loss is not None and history[0].loss is not None
    assert history[-1].loss < history[0].loss  # the head really learns
    _, _, other_seed = train(tmp_path, tiny_config(tiny_dataset, epochs=3, seed=7))
    assert other_seed["final"] != first["final"]


class StopAfter(TrainingEvents):
    """Presses Stop after ``batches`` training batches; records the batch rows."""

    def __init__(self, batches: int) -> None:
        self.batches = batches
        self.rows: list[dict[str, Any]] = []

    def batch(self, row: dict[str, Any]) -> None:
        self.rows.append(row)

    def should_stop(self) -> bool:
        return len(self.rows) >= self.batches


def test_stop_mid_epoch_keeps_a_model_and_marks_stopped(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("core.train.callback.BATCH_EVENT_INTERVAL_S", 0.0)  # one event per batch
    config = tiny_config(tiny_dataset, epochs=5, batch_size=2, cache_features=False)
    events = StopAfter(batches=6)  # 8 training images / 2 = 4 batches per epoch
    store, run_id, metrics = train(tmp_path, config, events)
    record = store.load(run_id)
    assert metrics["stopped"] is True and record.status == "stopped"
    assert [row.epoch for row in record.history] == [1, 2]
    # Stop is pressed after batch 6 (epoch 2, step 2) while batch 7 runs: that batch finishes,
    # then the epoch ends early (step 3 of 4).
    last = events.rows[-1]
    assert (last["epoch"], last["step"]) == (2, 3) and last["fraction"] == pytest.approx(0.75)
    assert record.has_model and (record.path / "best.weights.h5").is_file()


def test_nan_loss_fails_with_a_plain_message(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    poison_cached_features(monkeypatch, np.inf)
    with pytest.raises(TrainingError, match="NaN"):
        train(tmp_path, tiny_config(tiny_dataset))


@pytest.mark.parametrize("cache_features", [True, False], ids=["cached", "end_to_end"])
def test_file_unreadable_after_the_scan_fails_the_run_naming_it(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_features: bool
) -> None:
    corrupted = corrupt_after_scan(monkeypatch)
    with pytest.raises(TrainingError) as caught:
        train(tmp_path, tiny_config(tiny_dataset, epochs=1, cache_features=cache_features))
    message = str(caught.value)
    relative = corrupted[0].relative_to(tiny_dataset).as_posix()  # e.g. "red/r3.png"
    assert f"'{relative}'" in message and "changed or removed after" in message
    assert str(tiny_dataset) not in message and "Traceback" not in message


def test_fine_tune_phase_continues_the_history_at_lower_rate(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    config = tiny_config(tiny_dataset, fine_tune=FineTuneConfig(last_n=3, epochs=1, lr_factor=0.1))
    store, run_id, metrics = train(tmp_path, config)
    history = store.load(run_id).history
    assert [(row.epoch, row.phase) for row in history] == [
        (1, "head"),
        (2, "head"),
        (3, "fine_tune"),
    ]
    assert history[0].lr is not None and history[2].lr == pytest.approx(history[0].lr * 0.1)
    assert set(metrics["phase_seconds"]) >= {"extract", "head", "fine_tune"}
    # The files as training wrote them read typed, every key known, and write back unchanged.
    record, folder = store.load(run_id), store.path(run_id)
    assert record.metrics.to_dict() == json.loads((folder / "metrics.json").read_text())
    rows = json.loads((folder / "history.json").read_text())
    assert [row.to_dict() for row in record.history] == rows
    assert not record.metrics.extra and not any(row.extra for row in record.history)


def test_augmentation_caches_views_or_falls_back_to_end_to_end(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    from dataclasses import replace

    from core.config.data import AugmentConfig

    flip = AugmentConfig(flip_horizontal=True)
    base = tiny_config(tiny_dataset, epochs=1, augment_views=2)
    config = replace(base, data=replace(base.data, augmentation=flip))
    store, run_id, metrics = train(tmp_path, config)
    assert metrics["cached_features"] is True
    assert "caching 2 augmented views" in store.load(run_id).paths["log"].read_text()
    no_views = replace(config, train=replace(config.train, augment_views=0))
    store, run_id, metrics = train(tmp_path, no_views)
    assert metrics["cached_features"] is False
    assert "training end-to-end" in store.load(run_id).paths["log"].read_text()


@pytest.mark.parametrize("cache_features", [True, False], ids=["cached", "end_to_end"])
def test_no_test_split_trains_end_to_end_and_scores_validation_only(
    tiny_dataset: Path, tmp_path: Path, cache_features: bool
) -> None:
    from dataclasses import replace

    base = tiny_config(tiny_dataset, cache_features=cache_features)
    config = replace(base, data=replace(base.data, test_ratio=0.0))
    store, run_id, metrics = train(tmp_path, config)
    record = store.load(run_id)
    assert record.status == "finished" and record.has_model and metrics["epochs_run"] == 2
    split = json.loads((record.path / "split.json").read_text())["splits"]
    assert {name: len(rows) for name, rows in split.items()} == {"train": 12, "val": 4, "test": 0}
    assert metrics["val_count"] == 4
    assert not [key for key in metrics if key.startswith("test_")] and "per_class" not in metrics
    # The saved model gives the validation accuracy the run reported, on the stored images.
    model = keras.saving.load_model(record.path / "model.keras", safe_mode=True)
    root = Path(json.loads((record.path / "split.json").read_text())["root"])
    classes = json.loads((record.path / "labels.json").read_text())["classes"]
    images = np.stack([load_image_array(root / row["path"], 32) for row in split["val"]])
    labels = np.array([classes.index(row["label"]) for row in split["val"]])
    accuracy = float((model.predict(images, verbose=0).argmax(axis=1) == labels).mean())
    assert accuracy == metrics["val_accuracy"]
