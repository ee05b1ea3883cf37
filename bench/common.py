"""Shared pieces of the benchmarks: child processes, a held-out test split, and statistics.

Every benchmark measures each variant in a FRESH process (so no run starts with another's warm
caches, imports or memory), repeats it, and reports medians for times and mean ± sd for
accuracies. Peak memory is ``ru_maxrss`` of the process that did the work (a peak, not a
reading taken afterwards).
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
HYMENOPTERA = SHARED / "datasets" / "hymenoptera_data"
WEIGHTS = SHARED / "weights"


def require_weights() -> None:
    """Points STUDIO_WEIGHTS_DIR at ../shared/weights when unset; exits when there are none."""
    if not os.environ.get("STUDIO_WEIGHTS_DIR") and WEIGHTS.is_dir():
        os.environ["STUDIO_WEIGHTS_DIR"] = str(WEIGHTS)
    if not os.environ.get("STUDIO_WEIGHTS_DIR"):
        sys.exit("Set STUDIO_WEIGHTS_DIR to the folder with the MobileNetV2 ImageNet weights.")


def peak_rss_mb() -> float:
    """Peak resident memory of THIS process so far (``ru_maxrss``, kB on Linux), in MB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def with_test_split(source: Path, dest: Path, seed: int = 0) -> Path:
    """Copies a train/val dataset to ``dest`` with its val images halved into val and test.

    Half of each class's validation images (chosen with ``seed``) become a test split that no
    step of training or model selection sees, so the accuracy reported on it is honest. The
    copy lives in a temporary folder, never in the repository.
    """
    rng = random.Random(seed)
    shutil.copytree(source / "train", dest / "train")
    for class_dir in sorted(p for p in (source / "val").iterdir() if p.is_dir()):
        files = sorted(p for p in class_dir.iterdir() if p.is_file())
        rng.shuffle(files)
        half = len(files) // 2
        for split, chosen in (("test", files[:half]), ("val", files[half:])):
            target = dest / split / class_dir.name
            target.mkdir(parents=True, exist_ok=True)
            for path in chosen:
                shutil.copy2(path, target / path.name)
    return dest


def run_child(arguments: Sequence[str]) -> dict[str, Any]:
    """Runs ``python <arguments>`` in a fresh process; returns its last JSON line plus wall time.

    Exits with the child's error output when it fails, so a broken variant is never reported
    as a number.
    """
    start = time.perf_counter()
    child = subprocess.run(
        [sys.executable, *arguments],
        capture_output=True, text=True, check=False, cwd=REPO,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )  # fmt: skip
    if child.returncode != 0:
        sys.exit(f"{' '.join(arguments)} failed:\n{child.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    result["wall_seconds_process"] = round(time.perf_counter() - start, 2)
    return result


def spread(values: Sequence[float], digits: int = 4) -> dict[str, Any]:
    """Mean, sample standard deviation, min, max and count of ``values``."""
    return {
        "mean": round(statistics.fmean(values), digits),
        "sd": round(statistics.stdev(values), digits) if len(values) > 1 else 0.0,
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "n": len(values),
    }


def median(values: Sequence[float], digits: int = 2) -> float:
    """The median of ``values``, rounded."""
    return round(statistics.median(values), digits)
