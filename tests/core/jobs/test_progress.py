"""The extraction's estimate: images/s measured so far over the planned images, settling."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.jobs.progress import MIN_RATE_S, ProgressWriter, read_progress
from core.store.runs import RunStore
from core.train.events import TrainingEvents
from core.train.trainer import run_training
from tests.helpers.training import tiny_config, tiny_settings

# (part, images in it): two augmented views of the training split, then validation and test.
PARTS = (("train", 80), ("train", 80), ("val", 20), ("test", 20))


def test_a_steady_rate_gives_an_estimate_that_settles(tmp_path: Path) -> None:
    """At 10 images/s over 200 planned images, every estimate points at t = 20 s."""
    now = [0.0]
    writer = ProgressWriter(tmp_path, epochs=3, clock=lambda: now[0])
    writer.extraction_planned(sum(size for _, size in PARTS))
    writer.status("extracting")
    finishes, done_so_far = [], 0
    for part, size in PARTS:
        for done in range(10, size + 1, 10):
            now[0] = (done_so_far + done) / 10
            writer.extraction(part, done, size)
            writer.flush(force=True)
            eta = read_progress(tmp_path)["eta_s"]
            if now[0] < MIN_RATE_S:
                assert eta is None  # the warm-up batch promises nothing
            else:
                finishes.append(now[0] + eta)
        done_so_far += size
    assert finishes and finishes == [pytest.approx(20.0)] * len(finishes)
    assert read_progress(tmp_path)["progress"] == pytest.approx(1.0)


def test_without_a_plan_the_bar_shows_the_part_and_no_estimate(tmp_path: Path) -> None:
    writer = ProgressWriter(tmp_path, epochs=3, clock=lambda: 100.0)
    writer.status("extracting")
    writer.extraction("train", 5, 20)
    writer.flush(force=True)
    progress = read_progress(tmp_path)
    assert progress["progress"] == pytest.approx(0.25) and progress["eta_s"] is None


class Extraction(TrainingEvents):
    """Records the planned images and each extraction pass's (split, images done)."""

    def __init__(self) -> None:
        self.planned = 0
        self.parts: list[tuple[str, int]] = []

    def extraction_planned(self, images: int) -> None:
        self.planned = images

    def extraction(self, split: str, done: int, total: int) -> None:
        if self.parts and self.parts[-1][0] == split and done >= self.parts[-1][1]:
            self.parts[-1] = (split, done)
        else:  # the next split, or the next augmented view of the same one
            self.parts.append((split, done))


def test_a_run_plans_exactly_the_images_it_extracts(tiny_dataset: Path, tmp_path: Path) -> None:
    settings = tiny_settings(tmp_path)
    store = RunStore(settings.runs_dir)
    config = tiny_config(tiny_dataset, epochs=1)
    events = Extraction()
    run_training(config, store, store.create(config), events, settings=settings)
    # 3 augmented views of the 8 training images (the default), 4 validation, 4 test.
    assert events.planned == 32 and sum(done for _, done in events.parts) == 32, events.parts
