"""TensorBoard: every run writes event files whose scalars are the run's own history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.config.run import RunConfig
from core.config.train import FineTuneConfig
from core.store.runs import RunStore
from core.train.tensorboard_logs import TENSORBOARD_DIR, read_scalars
from core.train.trainer import run_training
from tests.helpers.training import tiny_config, tiny_settings


def _train(tmp_path: Path, config: RunConfig) -> Path:
    store = RunStore(tmp_path / "runs")
    run_id = store.create(config)
    run_training(config, store, run_id, settings=tiny_settings(tmp_path))
    return store.path(run_id)


def _assert_scalars_equal_history(run_folder: Path) -> list[dict[str, float]]:
    history = json.loads((run_folder / "history.json").read_text())
    scalars = read_scalars(run_folder / TENSORBOARD_DIR)
    assert set(scalars) == {"train", "validation"}
    for writer, prefix in (("train", ""), ("validation", "val_")):
        for metric in ("loss", "accuracy"):
            logged = scalars[writer][f"epoch_{metric}"]
            # Keras counts epochs from 0, history.json from 1.
            assert [step + 1 for step, _ in logged] == [row["epoch"] for row in history]
            expected = [row[f"{prefix}{metric}"] for row in history]
            assert [value for _, value in logged] == pytest.approx(expected, abs=1e-6)
    return history


def test_cached_head_run_logs_its_history_to_tensorboard(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    run_folder = _train(tmp_path, tiny_config(tiny_dataset, epochs=3))
    history = _assert_scalars_equal_history(run_folder)
    assert len(history) == 3
    learning_rates = read_scalars(run_folder / TENSORBOARD_DIR)["train"]["epoch_learning_rate"]
    assert [value for _, value in learning_rates] == pytest.approx([0.01] * 3)


def test_fine_tune_continues_the_same_curves(tiny_dataset: Path, tmp_path: Path) -> None:
    config = tiny_config(
        tiny_dataset, epochs=1, fine_tune=FineTuneConfig(last_n=2, epochs=1, lr_factor=0.1)
    )
    history = _assert_scalars_equal_history(_train(tmp_path, config))
    assert [row["phase"] for row in history] == ["head", "fine_tune"]
