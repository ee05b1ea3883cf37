"""Benchmark: feature caching vs plain ``model.fit`` on the same frozen MobileNetV2 (prints JSON).

MobileNetV2 at 224 with ImageNet weights, frozen, GAP + Dense head, 10 epochs on
hymenoptera (~400 images). Three runs through the real trainer with the same seed:

1. ``plain``: ``cache_features=False`` -> ``model.fit`` on the full model, streaming images.
2. ``cached``: features extracted once (cold disk cache), the head trained on them.
3. ``cached_again``: another head (more dropout) on the same data and cut -> cache hit.

Usage::

    STUDIO_WEIGHTS_DIR=../shared/weights python bench/feature_cache.py [--data DIR] [--epochs N]

Timing is wall time of extraction + fit (the part caching changes); evaluation and saving are
the same for both and left out. Numbers are noisy on a shared machine: compare the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.spec import DataSpec
from core.model.spec import HeadSpec, ModelSpec
from core.settings import Settings
from core.spec.run import RunConfig, TrainConfig
from core.store.runs import RunStore
from core.train.trainer import run_training

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "hymenoptera_data"


def _run(config: RunConfig, store: RunStore, settings: Settings) -> dict[str, float]:
    run_id = store.create(config)
    start = time.perf_counter()
    metrics = run_training(config, store, run_id, settings=settings)
    seconds = metrics["phase_seconds"]
    return {
        "train_seconds": round(seconds.get("extract", 0.0) + seconds["head"], 2),
        "extract_seconds": round(seconds.get("extract", 0.0), 2),
        "fit_seconds": round(seconds["head"], 2),
        "total_wall_seconds": round(time.perf_counter() - start, 2),
        "val_accuracy": round(metrics["val_accuracy"], 4),
        "final_epoch_val_accuracy": round(metrics["final"]["val_accuracy"], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    if not os.environ.get("STUDIO_WEIGHTS_DIR"):
        sys.exit("Set STUDIO_WEIGHTS_DIR to the folder with the MobileNetV2 ImageNet weights.")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(runs_dir=f"{tmp}/runs", cache_dir=f"{tmp}/cache")
        store = RunStore(settings.runs_dir)
        # restore_best_weights off: both runs end with their last epoch, like plain model.fit.
        train = TrainConfig(epochs=args.epochs, batch_size=32, seed=1, restore_best_weights=False)
        data = DataSpec(path=args.data, val_ratio=0.15, test_ratio=0.0)
        model = ModelSpec(backbone="mobilenet_v2", input_size=224, weights="imagenet")
        base = RunConfig(data=data, model=model, train=train)
        plain = _run(replace(base, train=replace(train, cache_features=False)), store, settings)
        cached = _run(base, store, settings)
        other_head = replace(base, model=replace(model, head=HeadSpec(dropout=0.5)))
        again = _run(other_head, store, settings)
    result = {
        "benchmark": "feature_cache",
        "backbone": "mobilenet_v2",
        "input_size": 224,
        "epochs": args.epochs,
        "plain": plain,
        "cached": cached,
        "cached_again_other_head": again,
        "speedup": round(plain["train_seconds"] / cached["train_seconds"], 2),
        "speedup_second_run": round(plain["train_seconds"] / again["train_seconds"], 2),
        "val_accuracy_delta_pp": round(
            100 * abs(plain["val_accuracy"] - cached["val_accuracy"]), 2
        ),
        "second_run_extract_seconds": again["extract_seconds"],
        "goals": {"speedup": ">= 8", "val_accuracy_delta_pp": "<= 1", "second_run_extract": "~0"},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
