"""ONNX export: in the same parity table as the other formats, or one sentence when unavailable."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.__main__ import main
from core.config.model import ModelConfig
from core.config.run import RunConfig
from core.export.exporter import available_formats, export_run, missing_requirement
from core.export.onnx import ONNX_MISSING, ONNX_PACKAGES, run_onnx
from core.export.parity import FLOAT_PARITY_GOAL
from core.predict.predictor import Predictor
from core.store.runs import RunStore
from core.train.trainer import run_training
from tests.conftest import unavailable
from tests.helpers.runs import cat_dog_run
from tests.helpers.training import tiny_config, tiny_settings


@pytest.fixture
def needs_onnx() -> None:
    """Skips locally, fails under CI (which installs requirements-extra.txt), without ONNX."""
    if missing_requirement("onnx") is not None:
        unavailable("the optional ONNX packages are not installed (requirements-extra.txt)")


@pytest.fixture
def finished_run(tmp_path: Path) -> Path:
    return cat_dog_run(tmp_path)


@pytest.fixture
def without_onnx(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if tf2onnx and onnxruntime were not installed."""
    for name in ONNX_PACKAGES:
        monkeypatch.setitem(sys.modules, name, None)


@pytest.mark.usefixtures("needs_onnx")
def test_onnx_is_in_the_parity_table_and_the_bundle(finished_run: Path, tmp_path: Path) -> None:
    report = export_run(finished_run, tmp_path / "out", formats=("keras", "onnx"))
    assert set(report.parity) == {"keras", "onnx"}
    assert report.parity["onnx"] < FLOAT_PARITY_GOAL
    assert not report.warnings
    stored = json.loads((finished_run / "metrics.json").read_text())["export"]["parity"]
    assert stored["onnx"] == pytest.approx(report.parity["onnx"])
    assert report.bundle is not None
    with zipfile.ZipFile(report.bundle) as bundle:
        assert {"model.onnx", "model.keras", "MODEL_CARD.md"} <= set(bundle.namelist())
    # The file a user downloads, run on its own with any batch size, predicts like the app.
    predictor = Predictor.from_run(finished_run)
    images = np.random.default_rng(3).uniform(0, 255, (5, 32, 32, 3)).astype(np.float32)
    onnx_probabilities = run_onnx(tmp_path / "out" / "model.onnx", images)
    assert np.abs(onnx_probabilities - predictor.predict_arrays(images)).max() < FLOAT_PARITY_GOAL


@pytest.mark.usefixtures("needs_onnx")
def test_cli_exports_several_formats_with_onnx(
    finished_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["export", str(finished_run), "--format", "keras", "onnx", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "  onnx " in printed and "  keras " in printed
    assert (out / "model.onnx").is_file() and not (out / "model.tflite").exists()


@pytest.mark.usefixtures("without_onnx")
def test_missing_onnx_packages_make_the_format_unavailable_in_one_sentence(
    finished_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert missing_requirement("onnx") == ONNX_MISSING
    assert missing_requirement("keras") is None
    assert "onnx" not in available_formats() and "keras" in available_formats()
    report = export_run(finished_run, tmp_path / "out", formats=("keras", "onnx"))
    assert set(report.parity) == {"keras"} and report.warnings == [ONNX_MISSING]
    assert not (tmp_path / "out" / "model.onnx").exists()
    code = main(["export", str(finished_run), "--format", "onnx", "--out", str(tmp_path / "cli")])
    assert code == 2 and capsys.readouterr().err.strip() == f"error: {ONNX_MISSING}"


@pytest.mark.usefixtures("needs_onnx")
def test_real_mobilenet_v2_run_exports_to_onnx_within_the_parity_goal(
    local_weights: Path, tiny_dataset: Path, tmp_path: Path
) -> None:
    base = tiny_config(tiny_dataset, epochs=1)
    model = ModelConfig(backbone="mobilenet_v2", input_size=96, weights="imagenet")
    config = RunConfig(data=base.data, model=model, train=base.train)
    store = RunStore(tmp_path / "runs")
    run_id = store.create(config)
    run_training(config, store, run_id, settings=tiny_settings(tmp_path))
    report = export_run(store.path(run_id), tmp_path / "out", formats=("keras", "onnx"))
    assert report.parity_source == "validation images" and report.parity_images == 4
    assert report.parity["onnx"] < FLOAT_PARITY_GOAL
    assert report.parity["keras"] < FLOAT_PARITY_GOAL
