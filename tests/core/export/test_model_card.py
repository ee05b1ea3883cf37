"""Model card: every export bundle describes its data, test scores, parity, use and licence."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from core.evaluate.metrics import update_run_metrics
from core.export.exporter import export_run
from core.export.model_card import MODEL_CARD_FILE, model_card
from core.export.report import ExportReport
from core.predict.predictor import Predictor
from core.store.runs import RunStore
from core.train.trainer import run_training
from tests.helpers.runs import cat_dog_run
from tests.helpers.training import tiny_config, tiny_settings


@pytest.fixture
def trained_run(tiny_dataset: Path, tmp_path: Path) -> Path:
    """A real tiny run (random-init MobileNetV2 cut early) with test metrics and split.json."""
    config = tiny_config(tiny_dataset)
    store = RunStore(tmp_path / "runs")
    run_id = store.create(config)
    run_training(config, store, run_id, settings=tiny_settings(tmp_path))
    return store.path(run_id)


def _report(parity: dict[str, float]) -> ExportReport:
    return ExportReport(Path("."), [], parity, 4, "validation images")


def test_bundle_card_has_split_counts_test_scores_parity_and_licence(
    trained_run: Path, tmp_path: Path
) -> None:
    report = export_run(trained_run, tmp_path / "out", formats=("keras",))
    assert MODEL_CARD_FILE in report.files
    assert report.bundle is not None
    with zipfile.ZipFile(report.bundle) as bundle:
        card = bundle.read(MODEL_CARD_FILE).decode()
    split = json.loads((trained_run / "split.json").read_text())["splits"]
    for name in ("red", "blue"):
        counts = [sum(1 for i in split[s] if i["label"] == name) for s in ("train", "val", "test")]
        assert f"| {name} | {counts[0]} | {counts[1]} | {counts[2]} |" in card
    assert "| **total** | 8 | 4 | 4 |" in card
    assert "dataset folder `tiny`" in card and str(trained_run.parent) not in card
    metrics = json.loads((trained_run / "metrics.json").read_text())
    red = metrics["per_class"]["red"]
    assert f"| red | {red['precision']:.3f} | {red['recall']:.3f} | {red['f1']:.3f} | " in card
    assert f"Accuracy {metrics['test_accuracy']:.3f} on 4 test images" in card
    assert "no test split" not in card
    assert "- Training: 2 of 2 planned epochs (head only), adam at learning rate 0.01" in card
    assert f"| keras | {report.parity['keras']:.2e} | yes |" in card
    assert "## Calibration" not in card  # the run has none
    assert "## Intended use" in card and 'no "unknown" class' in card
    assert "randomly initialised (no pretrained weights)" in card


def test_calibration_and_imagenet_licence_appear_when_they_apply(
    trained_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    update_run_metrics(trained_run, {"calibration": {"ece": 0.0421, "method": "none"}})
    config = json.loads((trained_run / "config.json").read_text())
    config["model"]["weights"] = "imagenet"
    (trained_run / "config.json").write_text(json.dumps(config))
    card = model_card(trained_run, Predictor.from_run(trained_run), _report({"onnx": 3e-4}))
    assert "## Calibration" in card and "| ece | 0.0421 |" in card and "method" not in card
    assert "ImageNet-pretrained weights; check the ImageNet terms of use for commercial use" in card
    assert "Keras Applications code: Apache License 2.0" in card
    assert "| onnx | 3.00e-04 | NO |" in card


def test_without_test_scores_the_card_evaluates_the_held_out_images(
    finished_run_dir: Path, tmp_path: Path
) -> None:
    # The run's metrics.json has no per-class scores (as a run trained before they existed).
    predictor = Predictor.from_run(finished_run_dir)
    card = model_card(finished_run_dir, predictor, _report({}))
    assert "| cat | " in card and "on 4 test images" in card
    assert "| (no model file exported) | | |" in card


def test_without_a_test_split_the_scores_are_on_validation_and_say_so(
    finished_run_dir: Path,
) -> None:
    split_file = finished_run_dir / "split.json"
    stored = json.loads(split_file.read_text())
    stored["splits"]["val"] += stored["splits"]["test"]
    stored["splits"]["test"] = []
    split_file.write_text(json.dumps(stored))
    card = model_card(finished_run_dir, Predictor.from_run(finished_run_dir), _report({}))
    assert "The run has no test split, so these scores are on the validation images" in card
    assert "on 8 validation images" in card and "| dog | " in card


def test_card_without_split_or_data_says_so(finished_run_dir: Path, tmp_path: Path) -> None:
    (finished_run_dir / "split.json").unlink()
    shutil.rmtree(tmp_path / "data")
    card = model_card(finished_run_dir, Predictor.from_run(finished_run_dir), _report({}))
    assert "no readable stored split" in card
    assert "held-out images could not be read" in card


def test_class_names_cannot_break_the_tables(trained_run: Path) -> None:
    metrics = json.loads((trained_run / "metrics.json").read_text())
    metrics["per_class"] = {"a|b\nc": metrics["per_class"]["red"]}
    (trained_run / "metrics.json").write_text(json.dumps(metrics))
    card = model_card(trained_run, Predictor.from_run(trained_run), _report({}))
    assert "| a\\|b c | " in card


@pytest.fixture
def finished_run_dir(tmp_path: Path) -> Path:
    return cat_dog_run(tmp_path)
