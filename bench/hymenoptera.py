"""Benchmark: ants vs bees with a frozen MobileNetV2 at 224, then with a fine-tune phase.

Each variant runs in its own process through ``python -m core train`` semantics (the real
trainer), so its wall time and peak memory (``ru_maxrss``) are its own. Prints JSON.

Usage::

    STUDIO_WEIGHTS_DIR=../shared/weights python bench/hymenoptera.py [--data DIR]

Goals (issue 5): frozen variant val accuracy >= 95 % in < 3 min wall, peak RSS < 1.5 GB.
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

VARIANTS: dict[str, dict[str, Any]] = {
    "frozen": {"epochs": 15},
    "frozen_augmented": {"epochs": 15, "augment_views": 3},
    "fine_tune": {
        "epochs": 15,
        "fine_tune": {"unfreeze_from": "block_15_expand", "epochs": 3, "lr_factor": 0.1},
    },
}

# The augmented variant caches 3 flipped/rotated views of each training image.
DATA_OPTIONS: dict[str, dict[str, Any]] = {
    "frozen_augmented": {"augmentation": {"flip_horizontal": True, "rotation": 10.0}},
}


def run_variant(name: str, data: str, workdir: str) -> dict[str, object]:
    """Trains one variant in this process and returns its numbers."""
    start = time.perf_counter()
    sys.path.insert(0, str(REPO))
    from core.runs import RunStore
    from core.settings import Settings
    from core.train_config import RunConfig
    from core.trainer import run_training

    config = RunConfig.from_dict(
        {
            "data": {"path": data, **DATA_OPTIONS.get(name, {})},
            "model": {"backbone": "mobilenet_v2", "input_size": 224, "weights": "imagenet"},
            "train": {"batch_size": 32, "seed": 1, **VARIANTS[name]},
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
        "epochs_run": metrics["epochs_run"],
        "phase_seconds": metrics["phase_seconds"],
        "images_per_second": metrics["images_per_second"],
        "wall_seconds_in_process": round(time.perf_counter() - start, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Hymenoptera benchmark (prints JSON).")
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not os.environ.get("STUDIO_WEIGHTS_DIR"):
        sys.exit("Set STUDIO_WEIGHTS_DIR to the folder with the MobileNetV2 ImageNet weights.")
    if args.variant:  # child process: one variant
        print(json.dumps(run_variant(args.variant, args.data, args.workdir)))
        return
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        for name in VARIANTS:
            start = time.perf_counter()
            child = subprocess.run(
                [sys.executable, __file__, "--variant", name, "--data", args.data,
                 "--workdir", workdir],
                capture_output=True, text=True, check=False,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            )  # fmt: skip
            if child.returncode != 0:
                sys.exit(f"variant {name} failed:\n{child.stderr[-3000:]}")
            result = json.loads(child.stdout.strip().splitlines()[-1])
            result["wall_seconds_total"] = round(time.perf_counter() - start, 1)
            results[name] = result
    frozen, tuned = results["frozen"], results["fine_tune"]
    summary = {
        "benchmark": "hymenoptera",
        "results": results,
        # Goal: a frozen backbone (features cached) reaches >= 95 % in < 3 min, < 1.5 GB.
        "goal_met_by": [
            name
            for name in ("frozen", "frozen_augmented")
            if results[name]["val_accuracy"] >= 0.95
            and results[name]["wall_seconds_total"] < 180
            and results[name]["peak_rss_mb"] < 1536
        ],
        "augmented_views_delta_pp": round(
            100 * (results["frozen_augmented"]["val_accuracy"] - frozen["val_accuracy"]), 2
        ),
        "fine_tune_helps": bool(tuned["val_accuracy"] > frozen["val_accuracy"]),
        "fine_tune_delta_pp": round(100 * (tuned["val_accuracy"] - frozen["val_accuracy"]), 2),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
