"""Benchmark: ants vs bees with a frozen MobileNetV2 at 224 (issue 5), recipe vs alternatives.

Each variant runs in its own process with a cold feature cache, through the real trainer
(``core.train.trainer.run_training``), so its wall time (process start to end, TensorFlow import
included) and peak memory (``ru_maxrss``) are its own. Prints JSON.

Usage::

    STUDIO_WEIGHTS_DIR=../shared/weights python bench/hymenoptera.py [--data DIR] [--only NAME]

Goal (issue 5): val accuracy >= 95 % in < 3 min wall and peak RSS < 1.5 GB, frozen backbone.
The headline variant ``recommended`` is the recipe that meets it with margin:

- resize mode "crop" (centre square, like ImageNet training; "stretch" distorts these photos
  of varied aspect ratio and costs about 2 points);
- augmentation: horizontal flip + rotation up to 10 degrees, cached as 3 augmented views
  per training image (``augment_views=3``) so the backbone still runs only once per view;
- 15 epochs of the head (GAP + dropout 0.2 + softmax), Adam 1e-3, batch 32, best weights by
  validation loss;
- memory: features extracted 16 images at a time (``Settings.extract_batch_size``), stored
  as float16 on disk, read back memory-mapped, pooled one view at a time.

The other rows are comparisons: no augmentation ("frozen_plain"), the same 3 views with
"stretch" ("augmented_stretch"), and the recipe plus a fine-tune phase ("fine_tune").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "datasets" / "hymenoptera_data"
HEADLINE = "recommended"
GOAL = {"val_accuracy": 0.95, "wall_seconds_total": 180.0, "peak_rss_mb": 1536.0}

_AUGMENT = {"flip_horizontal": True, "rotation": 10.0}
_RECIPE_DATA = {"resize_mode": "crop", "augmentation": _AUGMENT}
_RECIPE_TRAIN = {"epochs": 15, "augment_views": 3}

# variant -> (data options, train options)
VARIANTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    HEADLINE: (_RECIPE_DATA, _RECIPE_TRAIN),
    # Resize modes are pinned: the comparison rows must not move when DataSpec's default does.
    "frozen_plain": ({"resize_mode": "stretch"}, {"epochs": 15}),
    "frozen_crop": ({"resize_mode": "crop"}, {"epochs": 15}),
    "augmented_stretch": ({"resize_mode": "stretch", "augmentation": _AUGMENT}, _RECIPE_TRAIN),
    "fine_tune": (
        _RECIPE_DATA,
        {
            **_RECIPE_TRAIN,
            "fine_tune": {"unfreeze_from": "block_15_expand", "epochs": 2, "lr_factor": 0.1},
        },
    ),
}


def run_variant(name: str, data: str, workdir: str) -> dict[str, object]:
    """Trains one variant in this process and returns its numbers."""
    start = time.perf_counter()
    sys.path.insert(0, str(REPO))
    from core.settings import Settings
    from core.spec.run import RunConfig
    from core.store.runs import RunStore
    from core.train.trainer import run_training

    data_options, train_options = VARIANTS[name]
    config = RunConfig.from_dict(
        {
            "data": {"path": data, **data_options},
            "model": {"backbone": "mobilenet_v2", "input_size": 224, "weights": "imagenet"},
            "train": {"batch_size": 32, "seed": 1, **train_options},
            "name": f"hymenoptera {name}",
        }
    )
    settings = Settings(runs_dir=f"{workdir}/runs", cache_dir=f"{workdir}/cache-{name}")
    store = RunStore(settings.runs_dir)
    run_id = store.create(config)
    metrics = run_training(config, store, run_id, settings=settings)
    history = store.load(run_id).history
    head_rows = [row for row in history if row["phase"] == "head"]
    return {
        "variant": name,
        "val_accuracy": round(metrics["val_accuracy"], 4),
        "val_accuracy_after_head_phase": round(max(r["val_accuracy"] for r in head_rows), 4),
        "val_count": metrics["val_count"],
        "resize_mode": config.data.resize_mode,
        "augment_views": config.train.augment_views if config.data.augmentation.enabled else 0,
        "features_cached": metrics["cached_features"],
        "epochs_run": metrics["epochs_run"],
        "phase_seconds": metrics["phase_seconds"],
        "images_per_second": metrics["images_per_second"],
        "wall_seconds_in_process": round(time.perf_counter() - start, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _meets_goal(result: dict[str, Any]) -> bool:
    return bool(
        result["val_accuracy"] >= GOAL["val_accuracy"]
        and result["wall_seconds_total"] < GOAL["wall_seconds_total"]
        and result["peak_rss_mb"] < GOAL["peak_rss_mb"]
    )


def _run_child(name: str, data: str, workdir: str) -> dict[str, Any]:
    start = time.perf_counter()
    child = subprocess.run(
        [sys.executable, __file__, "--variant", name, "--data", data, "--workdir", workdir],
        capture_output=True, text=True, check=False,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )  # fmt: skip
    if child.returncode != 0:
        sys.exit(f"variant {name} failed:\n{child.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    result["wall_seconds_total"] = round(time.perf_counter() - start, 1)
    result["meets_goal"] = _meets_goal(result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Hymenoptera benchmark (prints JSON).")
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--only", choices=sorted(VARIANTS), action="append")
    parser.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not os.environ.get("STUDIO_WEIGHTS_DIR"):
        sys.exit("Set STUDIO_WEIGHTS_DIR to the folder with the MobileNetV2 ImageNet weights.")
    if args.variant:  # child process: one variant
        print(json.dumps(run_variant(args.variant, args.data, args.workdir)))
        return
    names = args.only or list(VARIANTS)
    with tempfile.TemporaryDirectory() as workdir:
        results = {name: _run_child(name, args.data, workdir) for name in names}
    summary: dict[str, Any] = {"benchmark": "hymenoptera", "goal": GOAL}
    if HEADLINE in results:
        summary["headline"] = results[HEADLINE]
    summary["results"] = results
    summary["goal_met_by"] = [name for name, result in results.items() if result["meets_goal"]]
    if "frozen_plain" in results and HEADLINE in results:
        summary["recipe_vs_plain_pp"] = round(
            100 * (results[HEADLINE]["val_accuracy"] - results["frozen_plain"]["val_accuracy"]), 2
        )
    if "fine_tune" in results and HEADLINE in results:
        delta = results["fine_tune"]["val_accuracy"] - results[HEADLINE]["val_accuracy"]
        summary["fine_tune_helps"] = bool(delta > 0)
        summary["fine_tune_delta_pp"] = round(100 * delta, 2)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
