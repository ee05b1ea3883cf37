"""Tiny trained runs for the analysis tests (label issues, duplicates, calibration, curves)."""

from __future__ import annotations

from pathlib import Path

from core.config.settings import Settings
from core.store.runs import RunStore
from core.train.trainer import run_training
from tests.conftest import write_image
from tests.helpers.training import tiny_config, tiny_settings

COLORS = {"red": (200, 40, 40), "blue": (40, 40, 200)}


def colour_dataset(root: Path, per_class: int = 16, flipped: int = 0) -> tuple[Path, list[str]]:
    """Writes noisy red and blue 32x32 PNGs; the first ``flipped`` red ones go in ``blue/``.

    Returns:
        The dataset folder and the relative paths of the mislabelled images.
    """
    wrong = []
    for offset, (name, color) in enumerate(COLORS.items()):
        for index in range(per_class):
            folder = name
            if name == "red" and index < flipped:
                folder = "blue"
                wrong.append(f"blue/{name}{index}.png")
            write_image(root / folder / f"{name}{index}.png", color, seed=100 * offset + index)
    return root, wrong


def train_tiny_run(data: Path, tmp_path: Path, **train: object) -> tuple[Path, Settings]:
    """Trains the tiny model on ``data`` (features cached); returns the run folder and settings."""
    settings = tiny_settings(tmp_path)
    store = RunStore(settings.runs_dir)
    config = tiny_config(data, **train)
    run_id = store.create(config)
    run_training(config, store, run_id, settings=settings)
    return store.path(run_id), settings
