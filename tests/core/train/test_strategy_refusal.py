"""``multi_worker`` is refused with the reason and the way out; ``mirrored`` stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.__main__ import main
from core.config.data import DataConfig
from core.config.run import RunConfig
from core.config.train import MULTI_WORKER_REFUSAL, TrainConfig
from core.train.fit import make_strategy


def test_the_config_refuses_multi_worker_naming_keras_and_ray() -> None:
    with pytest.raises(ValueError, match="MultiWorkerMirroredStrategy") as refused:
        TrainConfig(strategy="multi_worker")
    assert "keras-team/keras#20585" in str(refused.value)
    assert "STUDIO_RAY_ADDRESS" in str(refused.value)
    assert TrainConfig(strategy="mirrored").strategy == "mirrored"
    with pytest.raises(ValueError, match="MultiWorkerMirroredStrategy"):
        RunConfig.from_dict(
            {"data": DataConfig(path="x").to_dict(), "train": {"strategy": "multi_worker"}}
        )


def test_make_strategy_refuses_multi_worker_too() -> None:
    with pytest.raises(ValueError, match="20585"):
        make_strategy("multi_worker")
    assert make_strategy("default").num_replicas_in_sync >= 1


def test_the_cli_prints_the_refusal_and_exits_2(
    tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["train", "--data", str(tiny_dataset), "--strategy", "multi_worker",
                 "--out", str(tmp_path / "runs")])  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err.strip() == f"error: {MULTI_WORKER_REFUSAL}"
    assert not (tmp_path / "runs").exists()  # refused before a run folder was made
