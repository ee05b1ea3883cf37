"""Peak memory of the tf.data pipeline for a small and a 10x larger dataset.

The pipeline streams images from disk (no in-memory cache), so peak RSS should barely grow when
the dataset grows from 400 to 4,000 images. Each size runs in a fresh subprocess so the peaks are
separate; the images are generated (shapes from ``core.data.sample``), nothing is downloaded.

    python bench/data_memory.py [--sizes 400 4000] [--image-size 224] [--batch-size 32]

Prints one JSON object: per size the peak RSS (MB), RSS after importing TensorFlow, images/s,
and ``ratio`` = peak(largest) / peak(smallest) (goal: < 1.3).
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def generate(folder: Path, count: int, px: int = 128) -> list[Path]:
    """Writes ``count`` JPEGs of drawn shapes (4 classes) and returns their paths."""
    import numpy as np

    from core.data.sample import SAMPLE_CLASSES, draw_sample

    rng = np.random.default_rng(0)
    paths = []
    for index in range(count):
        label = SAMPLE_CLASSES[index % len(SAMPLE_CLASSES)]
        path = folder / label / f"{index:05d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        draw_sample(label, rng, px).save(path, quality=90)
        paths.append(path)
    return paths


def worker(folder: Path, count: int, image_size: int, batch_size: int) -> dict[str, float]:
    """Streams ``count`` images through the training pipeline once; returns the measurements."""
    import tensorflow as tf  # noqa: F401 - imported first so the baseline includes it

    from core.config.data import AugmentConfig
    from core.data.pipeline import make_dataset
    from core.data.sample import SAMPLE_CLASSES

    baseline = _peak_rss_mb()
    paths = sorted(folder.rglob("*.jpg"))[:count]
    items = [(str(p), SAMPLE_CLASSES.index(p.parent.name)) for p in paths]
    augment = AugmentConfig(flip_horizontal=True, rotation=15)
    dataset = make_dataset(
        items, image_size=image_size, batch_size=batch_size, shuffle=True, seed=0, augment=augment
    )
    start = time.perf_counter()
    seen = 0
    for images, _ in dataset:
        seen += int(images.shape[0])
    elapsed = time.perf_counter() - start
    return {
        "images": seen,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "rss_after_imports_mb": round(baseline, 1),
        "seconds": round(elapsed, 2),
        "images_per_s": round(seen / elapsed, 1),
        "decoded_size_if_cached_mb": round(seen * image_size * image_size * 3 * 4 / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[400, 4000])
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--worker", nargs=2, metavar=("FOLDER", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = worker(Path(args.worker[0]), int(args.worker[1]), args.image_size, args.batch_size)
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="bench-data-") as tmp:
        start = time.perf_counter()
        generate(Path(tmp), max(args.sizes))
        generated_s = time.perf_counter() - start
        runs = {}
        for size in args.sizes:
            command = [sys.executable, __file__, "--worker", tmp, str(size)]
            command += ["--image-size", str(args.image_size), "--batch-size", str(args.batch_size)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            runs[str(size)] = json.loads(output.strip().splitlines()[-1])
    peaks = [runs[str(size)]["peak_rss_mb"] for size in args.sizes]
    print(
        json.dumps(
            {
                "image_size": args.image_size,
                "batch_size": args.batch_size,
                "generate_seconds": round(generated_s, 1),
                "runs": runs,
                "ratio": round(max(peaks) / min(peaks), 3),
                "goal": "< 1.3",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
