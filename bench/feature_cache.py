"""Benchmark: feature caching vs plain ``model.fit`` on the same frozen MobileNetV2 (prints JSON).

MobileNetV2 at 224 with ImageNet weights, frozen, GAP + Dense head, 10 epochs on
hymenoptera (~400 images), three variants through the real trainer with the same seed:

1. ``plain``: ``cache_features=False`` -> ``model.fit`` on the full model, streaming images
   (augmented on the fly each epoch: the default flip + rotation is pinned for all three).
2. ``cached``: features extracted once (cold disk cache), the head trained on them.
3. ``cached_again``: another head (more dropout) on the same data and cut -> cache hit.

Each variant runs in its OWN fresh process (no warm imports, graphs or file caches from another
variant in the same process), ``--repeats`` times (default 3, a fresh cache folder per repeat);
times are medians. Usage::

    python bench/feature_cache.py [--data DIR] [--epochs N] [--repeats 3]

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
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import HYMENOPTERA, median, require_weights, run_child, spread
from core.config.data import PHOTO_AUGMENTATION, DataConfig
from core.config.model import HeadConfig, ModelConfig
from core.config.run import RunConfig
from core.config.settings import Settings
from core.config.train import TrainConfig
from core.store.runs import RunStore
from core.train.trainer import run_training


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


VARIANTS = ("plain", "cached", "cached_again")


def run_variant(name: str, data_dir: str, epochs: int, cache_dir: str) -> dict[str, float]:
    """Trains one variant in THIS process (a child of ``main``) and returns its numbers."""
    settings = Settings(runs_dir=f"{cache_dir}/runs-{name}", cache_dir=cache_dir)
    store = RunStore(settings.runs_dir)
    # restore_best_weights off: both runs end with their last epoch, like plain model.fit.
    train = TrainConfig(epochs=epochs, batch_size=32, seed=1, restore_best_weights=False)
    # The default photo augmentation, pinned: plain fit augments every epoch on the fly, the
    # cached runs train on 3 cached augmented views (what a user gets with the defaults).
    data = DataConfig(
        path=data_dir, val_ratio=0.15, test_ratio=0.0, augmentation=PHOTO_AUGMENTATION
    )
    model = ModelConfig(backbone="mobilenet_v2", input_size=224, weights="imagenet")
    config = RunConfig(data=data, model=model, train=train)
    if name == "plain":
        config = replace(config, train=replace(train, cache_features=False))
    elif name == "cached_again":
        config = replace(config, model=replace(model, head=HeadConfig(dropout=0.5)))
    return _run(config, store, settings)


def main() -> None:
    """Runs every variant in its own process, ``--repeats`` times; prints medians as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(HYMENOPTERA))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    require_weights()
    if args.variant:  # child process: one variant
        print(json.dumps(run_variant(args.variant, args.data, args.epochs, args.cache)))
        return
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            cache = f"{tmp}/cache-{repeat}"  # cold for "cached", warm for "cached_again"
            for name in VARIANTS:
                child = [__file__, "--variant", name, "--data", args.data]
                child += ["--epochs", str(args.epochs), "--cache", cache]
                runs[name].append(run_child(child))
    medians = {
        name: {key: median([run[key] for run in rows]) for key in rows[0] if key != "val_accuracy"}
        for name, rows in runs.items()
    }
    plain, cached, again = (medians[name] for name in VARIANTS)
    accuracy = {name: spread([run["val_accuracy"] for run in rows]) for name, rows in runs.items()}
    result = {
        "benchmark": "feature_cache",
        "backbone": "mobilenet_v2",
        "input_size": 224,
        "epochs": args.epochs,
        "repeats": args.repeats,
        "medians": medians,
        "val_accuracy": accuracy,
        "speedup": round(plain["train_seconds"] / cached["train_seconds"], 2),
        "speedup_second_run": round(plain["train_seconds"] / again["train_seconds"], 2),
        "cached_minus_plain_val_accuracy_pp": round(
            100 * (accuracy["cached"]["mean"] - accuracy["plain"]["mean"]), 2
        ),
        "second_run_extract_seconds": again["extract_seconds"],
        "runs": runs,
        "goals": {"speedup": ">= 8", "cached_not_worse_pp": ">= -1", "second_run_extract": "~0"},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
