"""Warm single-image prediction latency of a MobileNetV2 224 studio model; prints JSON.

    python bench/predict_latency.py [--repeats 30] [--weights imagenet|none] [--backbone ID]

The model is built by the model engine (preprocessing inside, a softmax head on the default
cut), saved as a run would save it and loaded back through ``Predictor.from_run``, so the
number measured is the one the Predict page and ``python -m core predict`` get. It also times
``model.predict`` on one image to show why the predictor calls a traced function instead.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _timings(function, repeats: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Milliseconds of ``repeats`` calls of ``function`` (after the caller warmed it up)."""
    values = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        values.append((time.perf_counter() - start) * 1000)
    return values


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
        "min_ms": round(ordered[0], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--backbone", default="mobilenet_v2")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--weights", choices=("imagenet", "none"), default="none")
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    from core.config.model import ModelConfig
    from core.model.builder import build_model
    from core.predict.predictor import Predictor

    spec = ModelConfig(backbone=args.backbone, input_size=args.size, weights=args.weights)
    built = build_model(spec, num_classes=5)
    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder)
        built.model.save(run_dir / "model.keras")
        labels = {"classes": list("abcde"), "input_size": args.size, "resize_mode": "stretch"}
        (run_dir / "labels.json").write_text(json.dumps(labels))
        start = time.perf_counter()
        predictor = Predictor.from_run(run_dir)  # also traces and warms the graph
        load_s = time.perf_counter() - start
    image = np.random.default_rng(0).uniform(0, 255, (1, args.size, args.size, 3))
    image = image.astype(np.float32)
    for _ in range(3):
        predictor.predict_arrays(image)
    predictor_ms = _timings(lambda: predictor.predict_arrays(image), args.repeats)
    photo = Path(tempfile.mkdtemp()) / "photo.jpg"  # decode + resize + predict, as on the page
    pixels = np.random.default_rng(1).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    from PIL import Image

    Image.fromarray(pixels).save(photo, quality=90)
    file_ms = _timings(lambda: predictor.predict_sources([photo]), args.repeats)
    photo.unlink()
    predictor.model.predict(image, verbose=0)
    keras_predict_ms = _timings(
        lambda: predictor.model.predict(image, verbose=0), max(5, args.repeats // 3)
    )
    result = {
        "backbone": args.backbone,
        "input_size": args.size,
        "weights": args.weights,
        "repeats": args.repeats,
        "load_and_warm_s": round(load_s, 2),
        "predictor_single_image": _summary(predictor_ms),
        "predictor_640x480_jpeg_file": _summary(file_ms),
        "keras_model_predict_single_image": _summary(keras_predict_ms),
        "goal_ms": 150,
        "meets_goal": statistics.median(predictor_ms) < 150,
        "tensorflow": tf.__version__,
        "cpu_threads": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
