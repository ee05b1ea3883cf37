"""The pages' questions in real worker processes: model facts, the preview, the quick model.

The web process never imports TensorFlow; these kinds build what it needs in a worker and
leave a plain answer (``core.store.answers``) or a TFLite file (``core.predict.lite``).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import numpy as np
import pytest
from PIL import Image

from core.config.data import PHOTO_AUGMENTATION
from core.config.model import ModelConfig
from core.errors import ModelFileError
from core.model.facts import layer_facts, summary_facts
from core.predict.lite import LitePredictor, lite_model_ready
from core.predict.predictor import Predictor
from core.store.answers import answer_files, read_answer
from tests.core.jobs.support import TIMEOUT_S, make_runner
from tests.helpers.runs import tiny_classifier
from tests.helpers.training import tiny_config

SPEC = ModelConfig(backbone="mobilenet_v2", input_size=32, weights="none")


def test_model_facts_and_the_preview_are_answered_once_for_every_visitor(tmp_path: Path) -> None:
    runner, store = make_runner(tmp_path)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 64, 3), np.uint8)).save(photo)
    asks = {
        "layers": ("model_facts", {"what": "layers", "backbone": "mobilenet_v2", "input_size": 32}),
        "summary": ("model_facts", {"what": "summary", "spec": SPEC.to_dict(), "num_classes": 3}),
        "preview": ("augment_preview", {"image": str(photo), "augment":
                    PHOTO_AUGMENTATION.to_dict(), "seed": 1, "count": 4, "size": 64}),
    }  # fmt: skip
    jobs = {name: runner.submit(kind, store, None, params) for name, (kind, params) in asks.items()}
    for job_id in jobs.values():
        status = runner.wait_for_job(store, job_id, None, TIMEOUT_S)
        assert status.state == "finished", status.error
    answers = {name: read_answer(runner.settings, *asks[name]) for name in asks}
    assert answers["layers"] == layer_facts("mobilenet_v2", 32)  # as this process computes it
    assert answers["summary"] == summary_facts(SPEC, 3)
    files = answers["preview"]["files"] if answers["preview"] else []
    folder = answer_files(runner.settings, *asks["preview"])
    assert len(files) == 4 and all(Image.open(folder / name).size == (64, 64) for name in files)


def test_an_uploaded_file_gets_a_quick_model_and_an_unsafe_one_is_refused(tmp_path: Path) -> None:
    import keras

    runner, store = make_runner(tmp_path)
    tiny_classifier(2, output="logits").save(tmp_path / "m.keras")
    params = {"model": {"file": "model.keras", "classes": ["cat", "dog"]}}
    files: dict[str, bytes | IO[bytes]] = {"model.keras": (tmp_path / "m.keras").read_bytes()}
    good = runner.submit("predict_model", store, None, params, files)
    image = keras.Input((32, 32, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(keras.layers.Lambda(lambda t: t + 1.0)(image))
    keras.Model(image, keras.layers.Dense(2)(pooled)).save(tmp_path / "unsafe.keras")
    unsafe: dict[str, bytes | IO[bytes]] = {"model.keras": (tmp_path / "unsafe.keras").read_bytes()}
    with pytest.raises(ModelFileError, match="Python code"):  # refused before it is queued
        runner.submit("predict_model", store, None, params, unsafe)
    done = runner.wait_for_job(store, good, None, TIMEOUT_S)
    assert done.state == "finished", done.error
    photos = np.random.default_rng(1).uniform(0, 255, (5, 32, 32, 3)).astype(np.float32)
    quick = LitePredictor(done.folder)
    expected = Predictor.from_model_file(tmp_path / "m.keras", ["cat", "dog"]).predict_arrays(
        photos
    )
    assert quick.classes == ["cat", "dog"] and quick.output_kind == "logits"
    assert np.abs(quick.predict_arrays(photos) - expected).max() < 1e-4


def test_a_finished_training_queues_its_quick_model(tiny_dataset: Path, tmp_path: Path) -> None:
    runner, store = make_runner(tmp_path, quick_predict_after_training=True)
    run_id = runner.submit_training(store, tiny_config(tiny_dataset, epochs=1))
    assert runner.wait_for_run(store, run_id, TIMEOUT_S).status == "finished"
    job = runner.latest_job(store, run_id, "predict_model")
    assert job is not None  # queued by the training's worker, not by a page
    assert runner.wait_for_job(store, job.job_id, run_id, TIMEOUT_S).state == "finished"
    assert lite_model_ready(store.path(run_id))
