"""The web process's model cache: least recently used first, bounded by count and by MB."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from core.export.lite_model import prepare_lite_model
from core.predict.lite import lite_files
from tests.helpers.runs import cat_dog_run
from ui.model_cache import ModelCache, model_mb, run_predictor


def _sizes(models: dict[str, float]):  # size_mb of the stand-in "models" (plain strings)
    return lambda model: models[model]


def test_count_bound_drops_the_least_recently_used() -> None:
    cache, loads = ModelCache(), []
    sizes = {name: 1.0 for name in "abcd"}

    def get(name: str) -> str:
        def load() -> str:
            loads.append(name)
            return name

        return cache.get(name, load, max_models=2, max_mb=100, size_mb=_sizes(sizes))

    assert [get(n) for n in ("a", "b", "a", "c")] == ["a", "b", "a", "c"]
    assert cache.keys() == ["a", "c"]  # "b" was the least recently used
    assert loads == ["a", "b", "c"]  # the second "a" came from the cache
    get("b")
    assert loads[-1] == "b" and cache.keys() == ["c", "b"]


def test_memory_bound_keeps_at_most_max_mb_but_always_the_newest() -> None:
    cache = ModelCache()
    sizes = {"small": 30.0, "medium": 60.0, "huge": 500.0}
    for name in ("small", "medium"):
        cache.get(name, str(name).strip, max_models=10, max_mb=100, size_mb=_sizes(sizes))
    assert cache.keys() == ["small", "medium"] and cache.total_mb() == 90.0
    cache.get("huge", lambda: "huge", max_models=10, max_mb=100, size_mb=_sizes(sizes))
    assert cache.keys() == ["huge"]  # above the bound alone, but the page asked for it


def test_a_quick_model_costs_its_tflite_files_size(tmp_path: Path) -> None:
    run_dir = cat_dog_run(tmp_path)
    prepare_lite_model(run_dir)
    quick = run_predictor(run_dir)
    assert model_mb(quick) == lite_files(run_dir)[0].stat().st_size / 2**20 > 0


def test_storing_a_temperature_gives_a_new_predictor(tmp_path: Path) -> None:
    """labels.json is part of the cache key: a stored calibration changes what Predict shows."""
    run_dir = cat_dog_run(tmp_path)
    prepare_lite_model(run_dir)  # what the run's predict_model job does in a worker
    first = run_predictor(run_dir)
    assert run_predictor(run_dir) is first  # cached
    labels_file = run_dir / "labels.json"
    labels = json.loads(labels_file.read_text())
    labels_file.write_text(json.dumps({**labels, "temperature": 2.0}))
    later = time.time() + 5  # a new mtime even on coarse-grained file systems
    os.utime(labels_file, (later, later))
    second = run_predictor(run_dir)
    assert second is not first
    assert second.temperature == 2.0 and first.temperature == 1.0
