"""The session stores its split before the first epoch, and a resumed run trains on it again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from core.store.runs import RunStore
from core.train.events import TrainingEvents
from core.train.trainer import run_training
from tests.conftest import write_image
from tests.helpers.training import tiny_config, tiny_settings


class StopAfterFirstEpoch(TrainingEvents):
    """Notes whether split.json exists at the first epoch; presses Stop after it."""

    def __init__(self, split_file: Path) -> None:
        self.split_file = split_file
        self.split_there: list[bool] = []

    def epoch(self, row: dict[str, Any]) -> None:
        self.split_there.append(self.split_file.is_file())

    def should_stop(self) -> bool:
        return bool(self.split_there)


def test_split_is_stored_before_the_first_epoch_and_reused_on_resume(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    config = tiny_config(tiny_dataset, epochs=3, cache_features=False)
    store = RunStore(tmp_path / "runs")
    run_id = store.create(config)
    split_file = store.path(run_id) / "split.json"
    events = StopAfterFirstEpoch(split_file)
    run_training(config, store, run_id, events, settings=tiny_settings(tmp_path))
    assert events.split_there[0] and store.load(run_id).status == "stopped"
    stored = json.loads(split_file.read_text())
    assert stored["classes"] == ["blue", "red"] and stored["root"] == str(tiny_dataset.resolve())
    sizes = {name: len(rows) for name, rows in stored["splits"].items()}
    assert sizes == {"train": 8, "val": 4, "test": 4}
    for rows in stored["splits"].values():
        for row in rows:  # relative path, class, hash of the file bytes
            assert row["path"].split("/")[0] == row["label"] and not Path(row["path"]).is_absolute()
            digest = hashlib.sha1((tiny_dataset / row["path"]).read_bytes()).hexdigest()
            assert row["sha1"] == digest

    removed = stored["splits"]["test"][0]["path"]
    (tiny_dataset / removed).unlink()
    for index in range(6):  # a fresh split of this folder would hold 6 test images
        write_image(tiny_dataset / "red" / f"late{index}.png", (200, 40, 40), seed=400 + index)
    before = split_file.read_bytes()
    metrics = run_training(config, store, run_id, settings=tiny_settings(tmp_path), resume=True)
    assert store.load(run_id).status == "finished" and split_file.read_bytes() == before
    assert metrics["test_count"] == 3 and metrics["val_count"] == 4
    log = store.load(run_id).paths["log"].read_text()
    assert "6 images added" in log and f"1 image removed ('{removed}')" in log
