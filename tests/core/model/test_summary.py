"""summary_rows and count_params agree with Keras."""

from __future__ import annotations

from core.config.model import DenseConfig, HeadConfig, ModelConfig
from core.model.builder import build_model
from core.model.summary import count_params, summary_rows


def test_rows_and_counts_match_keras() -> None:
    spec = ModelConfig(backbone="mobilenet_v2", input_size=32, weights="none",
                     head=HeadConfig(dense=(DenseConfig(16, batch_norm=True),)))  # fmt: skip
    model = build_model(spec, 4).model
    counts = count_params(model)
    assert counts["total"] == model.count_params()
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    assert counts["trainable"] == trainable
    rows = summary_rows(model)
    names = [row["name"] for row in rows]
    assert names[0] == "image" and names[-1] == "predictions"
    assert "head" not in names and "head_bn1" in names  # nested head expanded
    assert sum(row["params"] for row in rows) == counts["total"]
    assert sum(row["trainable_params"] for row in rows) == counts["trainable"]
    by_name = {row["name"]: row for row in rows}
    assert by_name["predictions"]["output_shape"] == [None, 4]
    assert by_name["Conv1"]["output_shape"] == [None, 16, 16, 32]
    assert by_name["head_bn1"]["trainable"] and not by_name["Conv1"]["trainable"]
    collapsed = summary_rows(model, expand_nested=False)
    assert collapsed[-1]["name"] == "head" and collapsed[-1]["type"] == "Functional"
