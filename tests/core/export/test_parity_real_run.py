"""Parity on a real run: the model that just trained predicts what every exported file predicts.

``export_run`` checks each artifact against the run's ``model.keras`` as the app loads it (a
worker's export job never sees the training process's model). This test goes one step further
back: it keeps the in-memory model of a real MobileNetV2 run (ImageNet weights, real photos)
and compares it with the app's model, every exported file reloaded from disk and the bundle
README's code. ``STUDIO_PARITY_TABLE=file.json`` also writes the table to that file.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.config.data import AugmentConfig, DataConfig
from core.config.model import ModelConfig
from core.config.run import RunConfig
from core.config.train import TrainConfig
from core.export.exporter import export_run
from core.export.onnx import run_onnx
from core.export.parity import FLOAT_PARITY_GOAL, run_tflite
from core.predict.predictor import Predictor
from core.store.runs import RunStore
from core.train.events import TrainingEvents
from core.train.run import TrainingRun
from tests.conftest import in_ci
from tests.helpers.readme_snippet import run_readme_snippet
from tests.helpers.training import tiny_settings

PHOTOS_PER_CLASS = 6
SNIPPET_PHOTOS = 3  # each snippet run loads the model again: a few photos are enough


def _few_photos(hymenoptera: Path, root: Path) -> Path:
    """Copies the first photos of each hymenoptera class into ``root/<class>/``."""
    for name in ("ants", "bees"):
        (root / name).mkdir(parents=True)
        for photo in sorted((hymenoptera / "train" / name).glob("*.jpg"))[:PHOTOS_PER_CLASS]:
            shutil.copy(photo, root / name / photo.name)
    return root


def _train_in_memory(data: Path, tmp_path: Path) -> tuple[Path, Any]:
    """Trains one epoch the way ``run_training`` does; returns the run folder and its model.

    ``run_training`` is ``TrainingRun(...).run()`` plus error wording; the session is used
    directly because it keeps the trained model in memory.
    """
    config = RunConfig(
        data=DataConfig(
            path=str(data), val_ratio=0.25, test_ratio=0.25, seed=1, augmentation=AugmentConfig()
        ),
        model=ModelConfig(backbone="mobilenet_v2", input_size=96, weights="imagenet"),
        train=TrainConfig(epochs=1, batch_size=4, augment_views=1),
    )
    store = RunStore(tmp_path / "runs")
    run_id = store.create(config)
    session = TrainingRun(
        config, store, run_id, TrainingEvents(), tiny_settings(tmp_path), resume=False
    )
    session.run()
    assert store.load(run_id).status == "finished"
    return store.path(run_id), session.built.model


def _saved_model_outputs(archive: Path, images: np.ndarray) -> np.ndarray:
    """Unzips the SavedModel a user downloads and calls its serving function."""
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(folder)
        restored = tf.saved_model.load(str(Path(folder) / "saved_model"))
        return np.asarray(restored.serve(tf.constant(images)))


def _artifact_outputs(out: Path, images: np.ndarray) -> dict[str, np.ndarray]:
    """Each exported model file, reloaded from disk as a user would, run on ``images``."""
    import keras

    user_keras = keras.saving.load_model(out / "model.keras", safe_mode=True)
    outputs = {
        "keras": np.asarray(user_keras(images, training=False)),
        "savedmodel": _saved_model_outputs(out / "saved_model.zip", images),
        "tflite": run_tflite(out / "model.tflite", images),
    }
    if (out / "model.onnx").is_file():  # the optional ONNX packages are installed
        outputs["onnx"] = run_onnx(out / "model.onnx", images)
    elif in_ci():  # CI installs requirements-extra.txt: the ONNX row must be there
        pytest.fail("this test must check the ONNX export in CI, but no model.onnx was written")
    return outputs


def _write_table(table: dict[str, Any]) -> None:
    """Prints the table (``pytest -s``) and writes it where ``STUDIO_PARITY_TABLE`` says."""
    text = json.dumps(table, indent=2)
    print(text)
    target = os.environ.get("STUDIO_PARITY_TABLE")
    if target:
        Path(target).write_text(text + "\n", encoding="utf-8")


def test_in_memory_model_of_a_real_run_matches_every_export(
    local_weights: Path, hymenoptera: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _few_photos(hymenoptera, tmp_path / "data")
    run_dir, in_memory = _train_in_memory(data, tmp_path)
    out = tmp_path / "export"
    report = export_run(run_dir, out, make_bundle=False)  # every available format
    assert set(report.parity) >= {"keras", "savedmodel", "tflite"}

    app = Predictor.from_run(run_dir)  # model.keras as the app's pages load it
    photos = sorted(data.rglob("*.jpg"))
    images = app.load_images(photos)  # the app's decoder: the pixels training saw
    expected = np.asarray(in_memory(images, training=False), np.float64)
    assert expected.shape == (len(photos), 2)
    assert np.allclose(expected.sum(axis=1), 1.0, atol=1e-5)  # softmax head: probabilities
    # The run really learned something: not the same answer for every photo.
    assert np.ptp(expected[:, 0]) > 1e-3

    candidates = {"app (model.keras)": app.predict_arrays(images)}
    candidates.update(_artifact_outputs(out, images))
    differences = {
        name: float(np.abs(np.asarray(values, np.float64) - expected).max())
        for name, values in candidates.items()
    }
    snippet = [
        np.asarray(run_readme_snippet(out, photo, monkeypatch)["probabilities"])
        for photo in photos[:: len(photos) // SNIPPET_PHOTOS][:SNIPPET_PHOTOS]
    ]
    picked = expected[:: len(photos) // SNIPPET_PHOTOS][:SNIPPET_PHOTOS]
    differences["README snippet"] = float(np.abs(np.stack(snippet) - picked).max())

    _write_table(
        {
            "run": "MobileNetV2 ImageNet weights, input 96, 1 epoch, "
            f"{len(photos)} hymenoptera photos",
            "compared_on": f"{len(photos)} photos (train + held-out), {SNIPPET_PHOTOS} for the "
            "README snippet",
            "max_abs_diff_vs_in_memory_model": differences,
            "export_report_parity_vs_app": report.parity,
            "export_report_images": f"{report.parity_images} {report.parity_source}",
        }
    )
    for name, difference in differences.items():
        assert difference < FLOAT_PARITY_GOAL, f"{name}: {difference:.2e}"
    assert not [warning for warning in report.warnings if "differs" in warning]
