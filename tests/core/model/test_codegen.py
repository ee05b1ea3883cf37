"""The generated script rebuilds the same model (same layers and parameter counts)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.config.model import (
    ConvBlockConfig,
    DenseConfig,
    FreezeConfig,
    HeadConfig,
    ModelConfig,
    SurgeryConfig,
)
from core.model.builder import build_model
from core.model.codegen import generate_code
from core.model.summary import count_params

SPECS = {
    "vgg_seed_with_surgery": ModelConfig(
        backbone="vgg16",
        input_size=64,
        weights="none",
        cut_layer="block2_pool",
        surgery=(
            SurgeryConfig(first="block1_conv1", last="block1_conv2", filters=64, kernel_size=5),
            SurgeryConfig(
                action="insert_after",
                first="block2_conv1",
                layer_type="BatchNormalization",
                trainable=False,
            ),
        ),
        head=HeadConfig(
            conv_blocks=(ConvBlockConfig(64, 3),),
            pooling="flatten",
            dense=(DenseConfig(256, dropout=0.5),),
            dropout=0.0,
        ),
        freeze=FreezeConfig("first_n", n=4),
    ),
    "mobilenet_v2_fine_tune_top": ModelConfig(
        backbone="mobilenet_v2",
        input_size=32,
        weights="none",
        head=HeadConfig(pooling="max", dense=(DenseConfig(32, batch_norm=True),), output="sigmoid"),
        freeze=FreezeConfig("last_n_trainable", n=10),
    ),
    "densenet_up_to": ModelConfig(
        backbone="densenet121",
        input_size=32,
        weights="none",
        cut_layer="pool3_pool",
        freeze=FreezeConfig("up_to", layer="pool2_pool"),
    ),
}

# Fields of Keras's private graph API (core/model/keras_graph.py reads them for the studio); a
# user's script must not depend on them.
PRIVATE_KERAS = ("_nodes_by_depth", "_keras_history", "_inbound_nodes", "_outbound_nodes",
                 "keras.src", ".arguments.fill_in")  # fmt: skip


def _run_generated(code: str) -> Any:
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(code, "generated.py", "exec"), namespace)
    return namespace["build_model"]()


@pytest.mark.parametrize("name", sorted(SPECS))
def test_generated_script_matches_build_model(name: str) -> None:
    spec = SPECS[name]
    built = build_model(spec, 2)
    code = generate_code(spec, 2)
    ast.parse(code)
    for private in PRIVATE_KERAS:
        assert private not in code, f"the generated script uses private Keras API: {private}"
    rebuilt = _run_generated(code)
    assert count_params(rebuilt) == built.param_counts()
    expected = [(layer.name, layer.trainable) for layer in built.feature_extractor.layers]
    generated_extractor = rebuilt.layers[:-1]  # the last layer is the nested head
    assert [(layer.name, layer.trainable) for layer in generated_extractor] == expected
    assert list(rebuilt.output.shape) == list(built.model.output.shape)


def test_generated_script_runs_standalone(tmp_path: Path) -> None:
    spec = ModelConfig(backbone="mobilenet_v3_small", input_size=32, weights="none")
    script = tmp_path / "build.py"
    script.write_text(generate_code(spec, 3), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300,
        cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    total = build_model(spec, 3).param_counts()["total"]
    assert f"{total:,}" in result.stdout
