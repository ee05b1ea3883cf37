"""``python -m core train``: flags, config file, errors, mirrored strategy, ``--resume``."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import keras
import pytest

from core.__main__ import main
from core.cli.train import build_config, register
from core.config.auto import AutoRecipeConfig
from core.config.data import PHOTO_AUGMENTATION
from core.config.run import RunConfig
from core.errors import TrainingError
from core.store.runs import RunStore
from core.train.events import TrainingEvents
from core.train.trainer import run_training
from tests.helpers.training import tiny_config, tiny_settings, val_metrics_of

REPO = Path(__file__).resolve().parents[3]
TINY_FLAGS = ["--backbone", "mobilenet_v2", "--input-size", "32", "--cut", "Conv1_relu",
              "--weights", "none", "--batch-size", "4", "--learning-rate", "0.01"]  # fmt: skip


def test_train_with_flags_writes_a_complete_reloadable_run(
    tiny_dataset: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    config = tmp_path / "run.json"
    config.write_text(tiny_config(tiny_dataset, epochs=1).to_json())
    out = str(tmp_path / "runs")
    code = main(["train", "--config", str(config), "--epochs", "2", "--fine-tune-from", "3",
                 "--fine-tune-epochs", "1", "--out", out, "--quiet"])  # fmt: skip
    assert code == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    names = {p.name for p in run_dir.iterdir()}
    assert {"config.json", "history.json", "metrics.json", "model.keras", "labels.json",
            "log.txt", "status.json"} <= names  # fmt: skip
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert json.loads((run_dir / "status.json").read_text())["status"] == "finished"
    assert len(json.loads((run_dir / "history.json").read_text())) == 3
    model = keras.saving.load_model(run_dir / "model.keras", safe_mode=True)
    loss, accuracy = val_metrics_of(model, tiny_dataset)
    assert accuracy == metrics["val_accuracy"]
    assert loss == pytest.approx(metrics["val_loss"], abs=1e-4)  # same probabilities


def test_errors_exit_2_with_a_plain_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "--epochs", "2"]) == 2
    assert "--data" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"data": {"path": "x"}, "train": {"optimiser": "adam"}}))
    assert main(["train", "--config", str(bad)]) == 2
    assert "Unknown setting 'train.optimiser'" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "r")]) == 2
    assert "Traceback" not in capsys.readouterr().err


MIRRORED_SCRIPT = """
import sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from core.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def test_mirrored_strategy_on_two_logical_cpus(tiny_dataset: Path, tmp_path: Path) -> None:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "STUDIO_CACHE_DIR": str(tmp_path / "c")}
    args = ["train", "--data", str(tiny_dataset), *TINY_FLAGS, "--epochs", "1",
            "--fine-tune-from", "2", "--fine-tune-epochs", "1", "--strategy", "mirrored",
            "--out", str(tmp_path / "runs"), "--quiet"]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", MIRRORED_SCRIPT, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    assert json.loads((run_dir / "status.json").read_text())["status"] == "finished"
    log = (run_dir / "log.txt").read_text()
    assert "2 replicas" in log


def _parsed(*flags: str) -> RunConfig:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return build_config(parser.parse_args(["train", *flags]))


def test_flags_alone_train_with_the_automatic_recipe_and_a_config_keeps_its_choice(
    tmp_path: Path,
) -> None:
    assert _parsed("--data", "photos").train.auto == AutoRecipeConfig()
    budgeted = _parsed("--data", "photos", "--time-budget", "60").train.auto
    assert budgeted is not None and budgeted.time_budget_s == 60
    assert _parsed("--data", "photos", "--manual").train.auto is None
    old = tmp_path / "old.json"  # a run config written before the automatic recipe existed
    old.write_text(json.dumps({"data": {"path": "x"}, "train": {"epochs": 3}}))
    assert _parsed("--config", str(old)).train.auto is None
    with pytest.raises(TrainingError, match="--time-budget needs the automatic recipe"):
        _parsed("--data", "photos", "--manual", "--time-budget", "60")


def test_defaults_are_the_photo_recipe_and_augment_flags_switch_it(tmp_path: Path) -> None:
    defaults = _parsed("--data", "photos")
    assert defaults.data.augmentation == PHOTO_AUGMENTATION and defaults.train.augment_views == 3
    assert defaults.data.resize_mode == "crop" and defaults.train.epochs == 15
    assert not _parsed("--data", "photos", "--no-augment").data.augmentation.enabled
    off = tmp_path / "off.json"  # a config that switched augmentation off ...
    off.write_text(json.dumps({"data": {"path": "x", "augmentation": {"rotation": 0.0,
                   "flip_horizontal": False}}}))  # fmt: skip
    assert not _parsed("--config", str(off)).data.augmentation.enabled
    # ... is switched back on by --augment; a config's own augmentation is kept as it is.
    assert _parsed("--config", str(off), "--augment").data.augmentation == PHOTO_AUGMENTATION
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps({"data": {"path": "x", "augmentation": {"zoom": 0.2}}}))
    assert _parsed("--config", str(mine), "--augment").data.augmentation.zoom == 0.2


class StopAfterFirstEpoch(TrainingEvents):
    """Presses Stop as soon as the first epoch has ended."""

    def __init__(self) -> None:
        self.epochs: list[int] = []

    def epoch(self, row: dict[str, Any]) -> None:
        self.epochs.append(int(row["epoch"]))

    def should_stop(self) -> bool:
        return bool(self.epochs)


def test_resume_from_the_command_line_continues_after_the_checkpoint(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    config = tiny_config(tiny_dataset, epochs=4, cache_features=False)
    store = RunStore(tmp_path / "runs")
    run_id = store.create(config)
    run_training(config, store, run_id, StopAfterFirstEpoch(), settings=tiny_settings(tmp_path))
    assert store.load(run_id).status == "stopped"
    before = store.load(run_id).history
    done = int(store.read_status(run_id)["last_epoch"])
    assert 1 <= done < 4 and [row.epoch for row in before] == list(range(1, done + 1))

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "STUDIO_CACHE_DIR": str(tmp_path / "c"),
           "STUDIO_MEMORY_BUDGET_MB": "1000000"}  # fmt: skip
    command = ["-m", "core", "train", "--resume", run_id, "--out", str(tmp_path / "runs")]
    result = subprocess.run(
        [sys.executable, *command, "--quiet"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert Path(result.stdout.strip().splitlines()[-1]) == store.path(run_id)
    line = f"Resuming after epoch {done} (the optimizer state starts fresh)."
    assert line in result.stderr and line in store.load(run_id).paths["log"].read_text()
    # Only the epochs after the checkpoint ran in the resumed process ...
    trained = [int(word) for word in re.findall(r"epoch (\d+) \(head\)", result.stderr)]
    assert trained == list(range(done + 1, 5))
    # ... and the history keeps the earlier epochs exactly as they were measured.
    after = store.load(run_id)
    assert after.status == "finished" and [row.epoch for row in after.history] == [1, 2, 3, 4]
    assert after.history[:done] == before
