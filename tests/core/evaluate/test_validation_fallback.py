"""A run trained without a test split is evaluated on its validation images, and says so."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.__main__ import main
from core.config.data import DataConfig
from core.config.run import RunConfig
from core.config.train import TrainConfig
from core.evaluate.metrics import evaluate_run
from core.export.exporter import export_run
from core.predict.predictor import Predictor
from core.store.runs import RunStore
from core.train.trainer import run_training
from tests.helpers.training import TINY_MODEL, tiny_settings


@pytest.fixture
def run_without_test_split(tiny_dataset: Path, tmp_path: Path) -> Path:
    """A real tiny run of the 16-image dataset with ``test_ratio=0``."""
    config = RunConfig(
        data=DataConfig(path=str(tiny_dataset), val_ratio=0.25, test_ratio=0.0, seed=1),
        model=TINY_MODEL,
        train=TrainConfig(epochs=2, batch_size=4, learning_rate=0.01),
    )
    store = RunStore(tmp_path / "runs")
    run_id = store.create(config)
    run_training(config, store, run_id, settings=tiny_settings(tmp_path))
    return store.path(run_id)


def test_evaluation_falls_back_to_validation_and_says_so(
    run_without_test_split: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = run_without_test_split
    split = json.loads((run_dir / "split.json").read_text())["splits"]
    validation = sorted(row["path"] for row in split["val"])
    assert split["test"] == [] and len(validation) == 4

    result = evaluate_run(run_dir)
    assert result.split == "validation"
    root = Path(json.loads((run_dir / "split.json").read_text())["root"])
    assert sorted(str(Path(path).relative_to(root)) for path in result.paths) == validation
    # Its accuracy is the model's on exactly those images (the app's own prediction).
    probabilities = Predictor.from_run(run_dir).predict_sources(result.paths)
    assert result.metrics.accuracy == float(np.mean(probabilities.argmax(1) == result.y_true))
    stored = json.loads((run_dir / "metrics.json").read_text())["evaluation"]
    assert stored["split"] == "validation" and stored["images"] == 4

    assert main(["evaluate", str(run_dir)]) == 0
    assert "Evaluated on the validation split (no test split): 4 images" in capsys.readouterr().out
    export_run(run_dir, tmp_path / "out", formats=("keras",), make_bundle=False)
    card = (tmp_path / "out" / "MODEL_CARD.md").read_text()
    assert "The run has no test split, so these scores are on the validation images." in card
    assert "on 4 validation images" in card
