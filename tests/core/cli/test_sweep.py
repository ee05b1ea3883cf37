"""``python -m core sweep``: flags to run configs, a real sweep through the job runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.__main__ import build_parser, main
from core.cli.sweep import configs_from_args, format_table
from core.evaluate.compare import compare_runs
from core.store.runs import RunStore


def _args(*flags: str) -> object:
    return build_parser().parse_args(["sweep", *flags])


def test_flags_give_one_config_per_combination_grouped_by_backbone_and_cut(
    tiny_dataset: Path,
) -> None:
    args = _args(
        "--data", str(tiny_dataset), "--backbones", "mobilenet_v2", "efficientnet_b0",
        "--cuts", "default", "block_3_add", "--heads", "linear", "mlp", "--epochs", "3",
        "--no-augment",
    )  # fmt: skip
    configs = configs_from_args(args)  # type: ignore[arg-type]
    combos = [(c.model.backbone, c.model.cut_layer, c.model.head.pooling, len(c.model.head.dense))
              for c in configs]  # fmt: skip
    assert combos == [
        ("mobilenet_v2", None, "avg", 0), ("mobilenet_v2", None, "avg", 1),
        ("mobilenet_v2", "block_3_add", "avg", 0), ("mobilenet_v2", "block_3_add", "avg", 1),
        ("efficientnet_b0", None, "avg", 0), ("efficientnet_b0", None, "avg", 1),
        ("efficientnet_b0", "block_3_add", "avg", 0), ("efficientnet_b0", "block_3_add", "avg", 1),
    ]  # fmt: skip
    assert {c.train.epochs for c in configs} == {3}
    assert not any(c.data.augmentation.enabled for c in configs)
    assert configs[1].name == "sweep mobilenet_v2 @ default + mlp"


def test_bad_flags_are_refused_before_anything_runs(
    tiny_dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sweep", "--data", str(tiny_dataset)])  # no --backbones
    with pytest.raises(SystemExit):
        _args("--data", str(tiny_dataset), "--backbones", "mobilenet_v2", "--heads", "huge")
    assert main(["sweep", "--backbones", "mobilenet_v2"]) == 2  # no data
    assert "--data" in capsys.readouterr().err


def test_a_sweep_trains_every_run_and_shares_the_cut_features(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("STUDIO_MEMORY_BUDGET_MB", "1000000")
    monkeypatch.delenv("STUDIO_RAY_ADDRESS", raising=False)
    code = main([
        "sweep", "--data", str(tiny_dataset), "--backbones", "mobilenet_v2", "--cuts",
        "Conv1_relu", "--heads", "linear", "max", "--weights", "none", "--input-size", "32",
        "--epochs", "1", "--batch-size", "4", "--no-augment", "--json",
    ])  # fmt: skip
    rows = json.loads(capsys.readouterr().out)
    assert code == 0, rows
    assert [row["status"] for row in rows] == ["finished", "finished"]
    assert sorted(row["head"] for row in rows) == ["avg", "max"]
    store = RunStore(tmp_path / "runs" / "shared")
    logs = [(store.path(row["run_id"]) / "log.txt").read_text() for row in rows]
    # The second run of the same backbone and cut reuses the first one's features.
    assert sum("Features loaded from the cache" in log for log in logs) == 1
    assert "val_accuracy" in format_table(compare_runs(store, [r["run_id"] for r in rows]))
