"""The warning path of the parity check: an exported file that predicts differently is named.

The fault is injected into the file itself: as ``export_run`` copies ``model.keras`` into the
export folder, the copy's last bias is shifted, so the file it then reloads from disk predicts
other probabilities than the app. Nothing of the exporter is replaced.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.__main__ import main
from core.export.exporter import export_run
from core.export.parity import FLOAT_PARITY_GOAL, parity_batch
from core.jobs.kinds.export import report_from_result
from core.predict.predictor import Predictor
from tests.helpers.runs import cat_dog_run

BIAS_SHIFT = 1.0  # added to the first class's logit: moves its probability by about 0.2


def _perturb_keras_file(path: Path) -> None:
    """Rewrites a ``.keras`` file with its last Dense layer's first bias shifted."""
    import keras

    model = keras.saving.load_model(path, safe_mode=True)
    dense = [layer for layer in _all_layers(model) if isinstance(layer, keras.layers.Dense)][-1]
    kernel, bias = dense.get_weights()
    bias[0] += BIAS_SHIFT
    dense.set_weights([kernel, bias])
    model.save(path)


def _all_layers(model: Any) -> list[Any]:
    """Every layer, nested models' layers included, in order."""
    layers = []
    for layer in model.layers:
        layers.append(layer)
        layers.extend(_all_layers(layer) if hasattr(layer, "layers") else [])
    return layers


@pytest.fixture
def damaged_keras_copy(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every ``model.keras`` copied by ``shutil.copy2`` arrives perturbed; returns the copies."""
    real_copy = shutil.copy2
    damaged: list[Path] = []

    def copy_then_damage(source: Any, target: Any, **kwargs: Any) -> Any:
        result = real_copy(source, target, **kwargs)
        if Path(target).name == "model.keras":
            _perturb_keras_file(Path(target))
            damaged.append(Path(target))
        return result

    monkeypatch.setattr(shutil, "copy2", copy_then_damage)
    return damaged


def test_an_export_that_differs_is_reported_as_a_warning(
    tmp_path: Path, damaged_keras_copy: list[Path]
) -> None:
    run_dir = cat_dog_run(tmp_path)
    out = tmp_path / "out"
    report = export_run(run_dir, out, formats=("keras", "tflite"))
    assert damaged_keras_copy == [out / "model.keras"]

    # The number in the report is the difference of the damaged file, measured independently.
    import keras

    images = parity_batch(run_dir, Predictor.from_run(run_dir), None).images
    original, damaged = (
        np.asarray(keras.saving.load_model(path, safe_mode=True)(images, training=False))
        for path in (run_dir / "model.keras", out / "model.keras")
    )
    measured = float(np.abs(damaged - original).max())  # both softmax: probabilities
    assert measured > 100 * FLOAT_PARITY_GOAL
    assert report.parity["keras"] == pytest.approx(measured, abs=1e-6)
    assert report.parity["tflite"] < FLOAT_PARITY_GOAL  # the undamaged file stays quiet

    sentence = (
        f"The keras export differs from the app by up to {report.parity['keras']:.2g} in "
        f"probability (goal: below {FLOAT_PARITY_GOAL:g}); check it before relying on it."
    )
    assert [w for w in report.warnings if "differs" in w] == [sentence]
    # What the Runs page shows: the export job's result.json read back into a report.
    shown = report_from_result(json.loads(json.dumps(report.to_dict())))
    assert sentence in shown.warnings and shown.parity == report.parity
    stored = json.loads((run_dir / "metrics.json").read_text())["export"]
    assert sentence in stored["warnings"]
    assert f"| keras | {report.parity['keras']:.2e} |" in (out / "README.md").read_text()


def test_the_cli_exits_1_on_a_parity_failure(
    tmp_path: Path, damaged_keras_copy: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m core export``: a file that differs from the app fails the command (exit 1)."""
    run_dir = cat_dog_run(tmp_path)
    out = tmp_path / "out"
    assert main(["export", str(run_dir), "--format", "keras", "--out", str(out)]) == 1
    assert damaged_keras_copy == [out / "model.keras"]
    assert "warning: The keras export differs from the app" in capsys.readouterr().err
    # An undamaged export exits 0: tests/core/cli/test_evaluate.py::test_export_keras_prints_parity
