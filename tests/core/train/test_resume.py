"""Resume loads the weights of the last checkpoint (not only its epoch number and history).

Two real runs are stopped after their first batch, so each has one checkpoint (its last and
best weights are the same) and a ``model.keras`` saved with those weights. Run B's best
checkpoint is then replaced by run A's: B now has a best and a last checkpoint that differ,
as after an epoch that made validation worse. A fresh model restored from B must predict what
B's saved model predicts (the last weights), keep A's weights as the best so far, and differ
from the fresh model it started as. A damaged checkpoint is refused with a plain sentence.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.data.images import load_image_array
from core.errors import TrainingError
from core.model.builder import build_model
from core.store.runs import RunStore
from core.train.events import TrainingEvents
from core.train.resume import restore_checkpoint
from core.train.state import RunState
from core.train.trainer import run_training
from tests.helpers.training import tiny_config, tiny_settings

DAMAGED = "This run's saved progress cannot be read (the checkpoint file is damaged)"


class StopAtOnce(TrainingEvents):
    """Presses Stop before the first batch ends: one (short) epoch is checkpointed."""

    def should_stop(self) -> bool:
        return True


def stopped_run(data: Path, tmp_path: Path, store: RunStore, learning_rate: float) -> str:
    """A real run of ``tiny_config`` stopped in its first epoch; returns its id."""
    config = tiny_config(data, epochs=3, cache_features=False, learning_rate=learning_rate)
    run_id = store.create(config)
    run_training(config, store, run_id, StopAtOnce(), settings=tiny_settings(tmp_path))
    assert store.load(run_id).status == "stopped"
    assert store.read_status(run_id)["last_epoch"] == 1
    return run_id


def predictions(model: Any, images: np.ndarray) -> np.ndarray:
    return np.asarray(model(images, training=False), np.float64)


@pytest.fixture(scope="module")
def two_stopped_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunStore, str, str]:
    """Runs A and B, stopped with one checkpoint each.

    Same seed (same starting weights, same random backbone), other learning rates: after their
    first batch, their heads differ.
    """
    from tests.conftest import write_image

    root = tmp_path_factory.mktemp("resume")
    data = root / "data"
    for index in range(8):
        write_image(data / "red" / f"r{index}.png", (200, 40, 40), seed=index)
        write_image(data / "blue" / f"b{index}.png", (40, 40, 200), seed=100 + index)
    store = RunStore(root / "runs")
    return store, stopped_run(data, root, store, 0.2), stopped_run(data, root, store, 0.05)


def test_resume_loads_the_last_checkpoint_and_keeps_the_best_so_far(
    two_stopped_runs: tuple[RunStore, str, str], tmp_path: Path
) -> None:
    import keras

    source, run_a, run_b = two_stopped_runs
    store = RunStore(tmp_path / "runs")  # a copy: B's best checkpoint is changed below
    for run_id in (run_a, run_b):
        shutil.copytree(source.path(run_id), store.root / run_id)
    shutil.copy(store.path(run_a) / "last.weights.h5", store.path(run_b) / "best.weights.h5")
    config = store.load(run_b).config
    images = np.stack(
        [load_image_array(path, 32) for path in sorted(Path(config.data.path).rglob("*.png"))]
    )
    saved = {
        run_id: predictions(keras.saving.load_model(store.path(run_id) / "model.keras"), images)
        for run_id in (run_a, run_b)
    }
    assert np.abs(saved[run_a] - saved[run_b]).max() > 1e-3  # A's and B's weights differ

    keras.utils.set_random_seed(config.train.seed)  # as a resumed worker builds its model
    built = build_model(config.model, 2)
    fresh = predictions(built.model, images)
    state = RunState()
    assert restore_checkpoint(store, run_b, built, config.train, state) == (1, False)
    restored = predictions(built.model, images)
    assert np.abs(restored - saved[run_b]).max() < 1e-6  # the last checkpoint's weights
    assert np.abs(restored - fresh).max() > 1e-3
    assert [row["epoch"] for row in state.history] == [1]

    # The best weights so far are A's (B's best checkpoint): put back, they predict as A.
    assert state.best_weights is not None
    keras.utils.set_random_seed(config.train.seed)
    other = build_model(config.model, 2)
    target = other.head if other.fully_frozen_extractor else other.model  # what was saved
    target.set_weights(state.best_weights)
    assert np.abs(predictions(other.model, images) - saved[run_a]).max() < 1e-6


@pytest.mark.parametrize("damaged", ["last.weights.h5", "best.weights.h5"])
def test_a_damaged_checkpoint_fails_the_resume_with_a_plain_sentence(
    two_stopped_runs: tuple[RunStore, str, str], tmp_path: Path, damaged: str
) -> None:
    source, run_id, _ = two_stopped_runs
    store = RunStore(tmp_path / "runs")
    shutil.copytree(source.path(run_id), store.root / run_id)
    (store.path(run_id) / damaged).write_bytes(b"\x89HDF\r\n half a file")
    config = store.load(run_id).config
    with pytest.raises(TrainingError) as refused:
        run_training(config, store, run_id, settings=tiny_settings(tmp_path), resume=True)
    message = str(refused.value)
    assert message.startswith(DAMAGED) and "delete it, or start a new run" in message
    assert str(tmp_path) not in message and "Traceback" not in message
