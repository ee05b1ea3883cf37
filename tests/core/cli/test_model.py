"""``python -m core backbones`` / ``layers`` / ``model`` / ``codegen``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.__main__ import main
from core.config.model import ModelConfig


def _json_output(capsys: pytest.CaptureFixture[str], argv: list[str]) -> object:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_backbones_json(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _json_output(capsys, ["backbones", "--json"])
    assert isinstance(rows, list) and len(rows) >= 35
    ids = {row["id"] for row in rows}
    assert {"mobilenet_v2", "vgg16", "resnet50", "inception_v3", "xception", "efficientnet_b0",
            "convnext_tiny"} <= ids  # fmt: skip


def test_backbones_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backbones"]) == 0
    assert "mobilenet_v2" in capsys.readouterr().out


def test_layers_json_vgg16(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _json_output(capsys, ["layers", "vgg16", "--size", "224", "--json"])
    assert isinstance(rows, list)
    pool = next(row for row in rows if row["name"] == "block2_pool")
    assert pool["output_shape"] == [None, 56, 56, 128]
    assert pool["recommended"] is True and pool["params_below"] == 260160
    assert {"name", "output_shape", "params_below", "recommended"} <= set(pool)


def test_layers_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["layers", "vgg17"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Unknown backbone 'vgg17'") and "vgg16" in err
    assert main(["layers", "xception", "--size", "32"]) == 2
    assert "at least 71x71" in capsys.readouterr().err


def test_model_and_codegen_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(ModelConfig(backbone="vgg16", input_size=32, weights="none").to_json())
    payload = _json_output(capsys, ["model", str(spec_path), "--classes", "3", "--json"])
    assert isinstance(payload, dict)
    assert payload["cut_layer"] == "block5_pool" and payload["fully_frozen_extractor"]
    assert payload["params"]["trainable"] == 512 * 3 + 3
    assert main(["codegen", str(spec_path), "--classes", "3"]) == 0
    assert "keras.applications.VGG16(" in capsys.readouterr().out
    spec_path.write_text('{"backbone": "vgg16", "cut": "block3_pool"}')
    assert main(["model", str(spec_path), "--classes", "3"]) == 2
    assert "Unknown setting 'cut'" in capsys.readouterr().err
