"""A sweep drops duplicate entries and cuts a backbone has no layer for before queueing."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config.sweep import plan_sweep
from tests.helpers.training import tiny_config

LAYERS = {"mobilenet_v2": ["Conv1", "block_3_add", "out_relu"], "efficientnet_b0": ["stem", "top"]}


def test_duplicates_and_unknown_cuts_are_left_out_and_counted(tmp_path: Path) -> None:
    base = tiny_config(tmp_path, epochs=1)
    plan = plan_sweep(
        base, ["mobilenet_v2", "efficientnet_b0", "mobilenet_v2"],
        ["default", "block_3_add", "out_relu", "block_3_add"], ["linear", "linear"],
        layer_names=LAYERS.get,
    )  # fmt: skip
    combos = [(c.model.backbone, c.model.cut_layer) for c in plan.configs]
    assert combos == [("mobilenet_v2", None), ("mobilenet_v2", "block_3_add"),
                      ("efficientnet_b0", None)]  # fmt: skip
    # 1 backbone, 1 cut and 1 head given twice; "out_relu" is mobilenet_v2's default: 1 more.
    assert plan.duplicates == 4
    assert plan.unknown_cuts == ["efficientnet_b0: block_3_add", "efficientnet_b0: out_relu"]
    assert plan.summary() == (
        "This sweep starts 3 runs; left out 4 duplicate entries and 2 cut(s) the backbone has "
        "no layer for (efficientnet_b0: block_3_add, efficientnet_b0: out_relu)."
    )


def test_a_sweep_with_nothing_left_to_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="None of the sweep's cuts"):
        plan_sweep(tiny_config(tmp_path), ["efficientnet_b0"], ["nope"], layer_names=LAYERS.get)
    unchecked = plan_sweep(tiny_config(tmp_path), ["efficientnet_b0"], ["nope"])
    assert [c.model.cut_layer for c in unchecked.configs] == ["nope"]  # no lookup: kept
