"""The automatic recipe end to end on tiny images (weights=None, 32 px): stored, reproduced,
exported with parity in every format, and old run configs still train by hand."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from core.config.auto import AutoRecipeConfig
from core.config.auto_plan import auto_plan
from core.config.data import DataConfig
from core.config.model import ModelConfig
from core.config.run import RunConfig
from core.config.settings import Settings
from core.config.train import TrainConfig
from core.export.exporter import available_formats, export_run
from core.export.parity import FLOAT_PARITY_GOAL
from core.predict.predictor import Predictor
from core.store.ood_record import read_ood_record
from core.store.recipe_record import read_recipe
from core.store.run_history import HISTORY_FILE, read_history
from core.store.runs import RunStore
from core.train.trainer import run_training
from tests.helpers.runs import write_dataset


def auto_config(data: Path) -> RunConfig:
    return RunConfig(
        data=DataConfig(path=str(data), val_ratio=0.25, test_ratio=0.25, seed=1),
        model=ModelConfig(backbone="mobilenet_v2", input_size=32, weights="none"),
        train=TrainConfig(
            epochs=2,
            seed=3,
            auto=AutoRecipeConfig(heads=("logistic",), c_values=(0.1, 1.0), time_budget_s=86_400),
        ),
        name="auto",
    )


@pytest.fixture(scope="module")
def auto_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunStore, str, Settings]:
    root = tmp_path_factory.mktemp("auto")
    data = write_dataset(root / "data", {"red": (200, 30, 30), "green": (30, 200, 30)}, 8)
    settings = Settings(cache_dir=str(root / "cache"))
    store = RunStore(root / "runs")
    run_id = store.create(auto_config(data))
    run_training(store.load(run_id).config, store, run_id, settings=settings)
    return store, run_id, settings


def test_the_choice_is_stored_typed_and_a_rerun_reproduces_it(
    auto_run: tuple[RunStore, str, Settings],
) -> None:
    store, run_id, settings = auto_run
    recipe = read_recipe(store.path(run_id))
    assert recipe is not None and recipe.chosen.head == "logistic"
    assert recipe.scored_by == "5-fold cross-validation"  # 4 val images < cv_below: CV
    # the probes (first C on all 4 blocks, then on the last alone), then C=1 on the winning set
    assert len(recipe.scores) == 3 and recipe.refit and recipe.input_size == 32
    assert recipe.taps == ("block_13_expand_relu", "block_15_expand_relu",
                           "block_16_expand_relu", "out_relu")  # fmt: skip
    metrics = json.loads((store.path(run_id) / "metrics.json").read_text())
    assert metrics["val_accuracy"] == recipe.chosen.accuracy and "test_accuracy" in metrics
    history = read_history(store.path(run_id) / HISTORY_FILE)  # one row per candidate tried
    assert [row.phase for row in history] == ["head_search"] * 3
    assert [row.epoch for row in history] == [1, 2, 3]
    assert sorted((row.val_accuracy, row.val_loss) for row in history) == [
        pytest.approx(pair, abs=1e-4)  # recipe.json keeps 4 decimals
        for pair in sorted((s.accuracy, s.log_loss) for s in recipe.scores)
    ]
    assert all(row.loss is not None and row.accuracy is not None for row in history)
    assert store.status(run_id) == "finished"
    again = store.create(store.load(run_id).config)
    run_training(store.load(again).config, store, again, settings=settings)
    repeat = read_recipe(store.path(again))
    assert repeat is not None  # same choice, same scores (their seconds differ, of course)
    assert [(s.name, s.accuracy, s.log_loss) for s in repeat.scores] == [
        (s.name, s.accuracy, s.log_loss) for s in recipe.scores
    ]
    assert (
        repeat.stages.get("extract", 0) >= 0
        and "Features loaded from the cache" in (store.path(again) / "log.txt").read_text()
    )


def test_an_automatic_run_is_tracked_in_mlflow_like_a_manual_one(
    auto_run: tuple[RunStore, str, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("mlflow")
    from mlflow import MlflowClient

    monkeypatch.chdir(tmp_path)  # a sqlite store keeps its artifacts in ./mlruns
    store, run_id, settings = auto_run
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    tracked = store.create(store.load(run_id).config)  # features come from the cache
    metrics = run_training(
        store.load(tracked).config, store, tracked,
        settings=dataclasses.replace(settings, mlflow_tracking_uri=uri),
    )  # fmt: skip
    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(metrics["mlflow_run_id"])
    assert run.info.status == "FINISHED" and run.data.params["train.seed"] == "3"
    history = read_history(store.path(tracked) / HISTORY_FILE)
    logged = client.get_metric_history(run.info.run_id, "val_accuracy")
    assert [(m.step, m.value) for m in sorted(logged, key=lambda m: m.step)] == [
        (row.epoch, pytest.approx(row.val_accuracy)) for row in history
    ]
    assert run.data.metrics["summary.test_accuracy"] == pytest.approx(metrics["test_accuracy"])
    names = {item.path for item in client.list_artifacts(run.info.run_id, "model")}
    assert names == {"model/model.keras", "model/labels.json"}


def test_one_keras_model_exports_with_parity_in_every_format(
    auto_run: tuple[RunStore, str, Settings], tmp_path: Path
) -> None:
    store, run_id, _ = auto_run
    folder = store.path(run_id)
    model = keras.saving.load_model(folder / "model.keras", safe_mode=True)
    head = model.get_layer("head")
    assert [type(layer).__name__ for layer in head.layers] == ["InputLayer", "Dense"]
    assert model.get_layer("features").get_layer("tapped") is not None  # pooled taps, joined
    report = export_run(folder, tmp_path / "out", make_bundle=False)
    assert set(report.parity) == set(available_formats()) >= {"keras", "savedmodel", "tflite"}
    for name, difference in report.parity.items():
        assert difference < FLOAT_PARITY_GOAL, name
    images = np.random.default_rng(0).uniform(0, 255, (3, 32, 32, 3)).astype(np.float32)
    predicted = Predictor.from_run(folder).predict_arrays(images)
    np.testing.assert_allclose(predicted.sum(axis=1), 1.0, atol=1e-5)


def test_an_old_run_config_loads_and_trains_by_hand(tmp_path: Path) -> None:
    old = auto_config(tmp_path).to_dict()
    del old["train"]["auto"]  # written before the automatic recipe existed
    config = RunConfig.from_dict(old)
    assert config.train.auto is None
    plan, sentence = auto_plan(config)
    assert plan is None and "chosen by hand" in sentence
    blocked = RunConfig.from_dict(
        {**old, "train": {**old["train"], "auto": {}, "cache_features": False}}
    )
    plan, sentence = auto_plan(blocked)
    assert plan is None and "feature caching is off" in sentence


def test_recipe_settings_are_validated_with_sentences() -> None:
    with pytest.raises(ValueError, match="Unknown head kinds 'tree'"):
        AutoRecipeConfig(heads=("tree",))
    with pytest.raises(ValueError, match="time budget"):
        AutoRecipeConfig(time_budget_s=0)
    assert (
        TrainConfig.from_dict(TrainConfig(auto=AutoRecipeConfig()).to_dict()).auto
        == AutoRecipeConfig()
    )


def test_an_automatic_run_sets_the_unknown_image_threshold_on_unseen_validation_images(
    tmp_path: Path,
) -> None:
    data = write_dataset(tmp_path / "data", {"red": (200, 30, 30), "green": (30, 200, 30)}, 16)
    store = RunStore(tmp_path / "runs")
    run_id = store.create(auto_config(data))  # 8 validation images: enough to calibrate
    run_training(
        store.load(run_id).config,
        store,
        run_id,
        settings=Settings(cache_dir=str(tmp_path / "cache")),
    )
    record = read_ood_record(store.path(run_id))
    assert record is not None and record.images == 8 and 0.0 < record.threshold <= 1.0
    recipe = read_recipe(store.path(run_id))
    assert recipe is not None and recipe.refit  # set before the refit on train + validation
