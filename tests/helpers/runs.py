"""Tiny models and finished runs for the evaluate/predict/export tests (no training needed).

The models follow the studio's layout: a raw 0..255 RGB input, preprocessing inside
(``Rescaling``), a feature extractor sub-model and a head sub-model, so Grad-CAM and export see
the same nesting as a real run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from core.config.data import DataConfig
from core.config.run import RunConfig
from core.config.train import TrainConfig


def tiny_classifier(
    num_classes: int = 2, size: int = 32, output: str = "softmax", seed: int = 0
) -> Any:
    """Builds ``head(feature_extractor(input))`` with small random weights.

    Args:
        num_classes: number of output units for softmax/logits (ignored for "sigmoid").
        size: square input side.
        output: "softmax", "sigmoid" (one unit) or "logits" (no activation).
        seed: weight initialisation seed.
    """
    import keras

    keras.utils.set_random_seed(seed)
    image = keras.Input((size, size, 3), name="image")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(image)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv_a")(x)
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="conv_b")(x)
    extractor = keras.Model(image, x, name="feature_extractor")
    features = keras.Input(extractor.output.shape[1:], name="features")
    y = keras.layers.GlobalAveragePooling2D()(features)
    units = 1 if output == "sigmoid" else num_classes
    activation: str | None = None if output == "logits" else output
    y = keras.layers.Dense(units, activation=activation, name="classifier")(y)
    head = keras.Model(features, y, name="head")
    return keras.Model(image, head(extractor(image)), name="tiny_classifier")


def write_dataset(root: Path, classes: dict[str, tuple[int, int, int]], per_class: int = 8) -> Path:
    """Writes ``per_class`` noisy 32x32 PNGs per class under ``root/<class>/``."""
    from PIL import Image

    for offset, (name, color) in enumerate(classes.items()):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            rng = np.random.default_rng(100 * offset + index)
            base = np.array(color, np.float32)[None, None, :]
            pixels = np.clip(base + rng.normal(0, 20, (32, 32, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{name}_{index}.png")
    return root


def make_finished_run(
    store_root: Path, dataset: Path, model: Any, classes: list[str], *, store_split: bool = True
) -> str:
    """Creates a finished run (config, labels, model, history, metrics) in a RunStore.

    With ``store_split`` the run also gets the ``split.json`` training writes before its first
    epoch; without, it looks like a run trained before the split was stored.
    """
    from core.data.pipeline import load_split
    from core.data.stored_split import SPLIT_FILE, StoredSplit, write_stored_split
    from core.store.runs import RunStore

    store = RunStore(store_root)
    config = {
        "name": "tiny",
        "data": {
            "path": str(dataset),
            "val_ratio": 0.25,
            "test_ratio": 0.25,
            "seed": 42,
            "resize_mode": "stretch",
        },
        "model": {
            "backbone": "mobilenet_v2",
            "input_size": 32,
            "weights": "none",
            "head": {"dropout": 0.2},
        },
        "train": {"epochs": 2, "batch_size": 8, "learning_rate": 0.001},
    }
    run_config = RunConfig.from_dict(config)
    run_id = store.create(run_config)
    folder = store.path(run_id)
    if store_split:
        report, split = load_split(run_config.data)
        write_stored_split(folder / SPLIT_FILE, StoredSplit.from_scan(report, split))
    model.save(folder / "model.keras")
    size = int(model.inputs[0].shape[1])
    (folder / "labels.json").write_text(
        json.dumps({"classes": classes, "input_size": size, "resize_mode": "stretch"})
    )
    history = [
        {
            "epoch": 1,
            "phase": "head",
            "loss": 0.9,
            "accuracy": 0.5,
            "val_loss": 0.8,
            "val_accuracy": 0.5,
            "lr": 0.001,
        },
        {
            "epoch": 2,
            "phase": "head",
            "loss": 0.7,
            "accuracy": 0.6,
            "val_loss": 0.7,
            "val_accuracy": 0.75,
            "lr": 0.001,
        },
    ]
    store.write_json(run_id, "history", history)
    store.write_json(run_id, "metrics", {"best": {"val_accuracy": 0.75, "epoch": 2}})
    store.update_status(run_id, status="finished", last_epoch=2)
    return run_id


def cat_dog_run(tmp_path: Path) -> Path:
    """A finished two-class run (data in ``tmp_path/data``, the run under ``tmp_path/runs``)."""
    dataset = write_dataset(tmp_path / "data", {"cat": (200, 40, 40), "dog": (40, 40, 200)}, 8)
    run_id = make_finished_run(tmp_path / "runs", dataset, tiny_classifier(2), ["cat", "dog"])
    return tmp_path / "runs" / run_id


def named_config(name: str, **train: Any) -> RunConfig:
    """A valid run config that only needs a name (for store tests that never train)."""
    return RunConfig(data=DataConfig(path="data"), name=name, train=TrainConfig(**train))
