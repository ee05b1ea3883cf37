"""Speed of one training job as the app runs it, before and after jobs moved to worker processes.

The app used to train in a thread of the web server (``core.jobs.JobManager`` at d32d7bc); it
now submits a job that a fresh worker process runs (``core.jobs.runner.JobRunner``). This bench
runs the SAME run config (hymenoptera with a held-out test split, MobileNetV2 at 224 with the
shared ImageNet weights, the photo recipe) through each checkout's own job API, alternating the
two so both see the same machine load, each job in its own parent process:

    python bench/job_speed.py --old-dir /path/to/checkout-of-d32d7bc --repeats 2

It prints JSON: per variant the median wall seconds from submit to the run's end, the best
validation accuracy of each run, and the ratio new / old. Each job gets an empty feature cache
(it extracts every cached view, as a first run does) unless ``--warm-cache`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import HYMENOPTERA, median, require_weights, spread, with_test_split

REPO = Path(__file__).resolve().parents[1]

# Runs in a child whose cwd and sys.path are the checkout under test; picks that checkout's API.
CHILD = r"""
import json, sys, time
from pathlib import Path
config_path, root = sys.argv[1], sys.argv[2]
try:
    from core.jobs.runner import JobRunner
    from core.config.run import RunConfig
    from core.store.runs import RunStore
    api = "worker process"
except ImportError:
    from core.jobs import JobManager
    from core.train_config import RunConfig
    from core.runs import RunStore
    api = "server thread"
config = RunConfig.from_json(Path(config_path).read_text())
store = RunStore(root)
start = time.perf_counter()
if api == "worker process":
    runner = JobRunner()
    run_id = runner.submit_training(store, config)
    runner.wait_for_run(store, run_id, timeout_s=3600)
else:
    job = JobManager(max_jobs=1).submit(config, store)
    job.wait()
    run_id = job.run_id
wall = time.perf_counter() - start
history = json.loads((store.path(run_id) / "history.json").read_text())
best = max(row.get("val_accuracy", 0.0) for row in history)
print(json.dumps({"api": api, "status": store.status(run_id), "wall_s": round(wall, 2),
                  "epochs": len(history), "best_val_accuracy": round(best, 4)}))
"""


def recipe(data: Path) -> dict[str, Any]:
    """The run config both checkouts read (same schema): the README's photo recipe."""
    return {
        "name": "speed",
        "data": {
            "path": str(data), "val_ratio": 0.15, "test_ratio": 0.15, "seed": 0,
            "resize_mode": "crop",
            "augmentation": {"flip_horizontal": True, "rotation": 10.0},
        },
        "model": {"backbone": "mobilenet_v2", "input_size": 224, "weights": "imagenet"},
        "train": {"epochs": 15, "cache_features": True, "augment_views": 3, "seed": 0},
    }  # fmt: skip


def run_job(checkout: Path, config_path: Path, scratch: Path, warm: bool) -> dict[str, Any]:
    """One job through ``checkout``'s job API in a fresh parent process; its JSON line."""
    root = Path(tempfile.mkdtemp(dir=scratch))
    env = {**os.environ, "PYTHONPATH": str(checkout), "TF_CPP_MIN_LOG_LEVEL": "2"}
    if not warm:  # a fresh feature cache: the job extracts every view, as a first run does
        env["STUDIO_CACHE_DIR"] = str(root / "cache")
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(config_path), str(root)],
        capture_output=True, text=True, check=False, cwd=checkout, env=env,
    )  # fmt: skip
    if child.returncode != 0:
        sys.exit(f"the job in {checkout.name} failed:\n{child.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    if result["status"] != "finished":
        sys.exit(f"the job in {checkout.name} ended {result['status']}")
    return result


def main() -> None:
    """Alternates old and new jobs ``--repeats`` times and prints the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-dir", required=True, help="a checkout of the code before (d32d7bc)")
    parser.add_argument("--repeats", type=int, default=2, help="jobs per variant")
    parser.add_argument("--data", default=str(HYMENOPTERA), help="a train/val dataset folder")
    parser.add_argument(
        "--warm-cache", action="store_true",
        help="reuse each checkout's own feature cache (times the head only after the first job)",
    )  # fmt: skip
    args = parser.parse_args()
    require_weights()
    variants = {"before": Path(args.old_dir).resolve(), "after": REPO}
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        data = with_test_split(Path(args.data), scratch / "data")
        config_path = scratch / "config.json"
        config_path.write_text(json.dumps(recipe(data)))
        for repeat in range(args.repeats):
            order = list(variants) if repeat % 2 == 0 else list(reversed(variants))
            for name in order:
                rows[name].append(run_job(variants[name], config_path, scratch, args.warm_cache))
    summary = {
        name: {
            "api": found[0]["api"],
            "wall_s_median": median([row["wall_s"] for row in found]),
            "wall_s": [row["wall_s"] for row in found],
            "best_val_accuracy": spread([row["best_val_accuracy"] for row in found]),
        }
        for name, found in rows.items()
    }
    ratio = summary["after"]["wall_s_median"] / summary["before"]["wall_s_median"]
    print(json.dumps({"jobs": summary, "wall_ratio_after_over_before": round(ratio, 3),
                      "feature_cache": "warm" if args.warm_cache else "empty per job",
                      "measured_at": time.strftime("%Y-%m-%d %H:%M")}))  # fmt: skip


if __name__ == "__main__":
    main()
