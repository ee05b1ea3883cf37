"""The one-click demo recipe: the drawn-shapes sample trained to a strong result."""

from __future__ import annotations

from pathlib import Path

from core.config.recipes import DEMO_RUN_NAME, demo_config
from core.config.run import RunConfig
from core.config.settings import Settings
from core.data.sample import ensure_sample_dataset
from core.store.runs import RunStore
from core.train.plan import cache_decision
from core.train.trainer import run_training

# Measured (core/config/recipes.py): 98.8% test accuracy on average over 11 split/training seeds,
# never below 95%; the demo's own seed gives 100%. The margin absorbs TensorFlow/CPU differences.
MIN_TEST_ACCURACY = 0.93


def test_demo_config_round_trips_and_caches_augmented_views(tmp_path: Path) -> None:
    config = demo_config(str(tmp_path))
    assert RunConfig.from_dict(config.to_dict()) == config
    assert config.name == DEMO_RUN_NAME
    assert config.data.augmentation.enabled and config.train.augment_views > 0
    cached, why = cache_decision(config, fully_frozen=True)
    assert cached and "augmented views" in why


def test_demo_trains_the_sample_to_a_strong_result(tmp_path: Path, local_weights: Path) -> None:
    folder = ensure_sample_dataset(tmp_path / "data")
    config = demo_config(str(folder))
    store = RunStore(tmp_path / "runs")
    run_id = store.create(config)
    settings = Settings(runs_dir=str(tmp_path / "runs"), cache_dir=str(tmp_path / "cache"))
    metrics = run_training(config, store, run_id, settings=settings)
    assert metrics["test_count"] == 60
    assert metrics["test_accuracy"] >= MIN_TEST_ACCURACY
