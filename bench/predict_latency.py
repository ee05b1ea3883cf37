"""Warm single-image prediction: the Predict page's LiteRT model vs the Keras model; prints JSON.

    python bench/predict_latency.py [--run RUN_DIR] [--repeats 30] [--weights imagenet|none]
        [--backbone ID] [--size N]

The model is a finished run's (``--run``, e.g. a hymenoptera run ``bench/job_memory.py --work``
kept) or one built by the model engine (preprocessing inside, a softmax head on the default
cut) and saved as a run would save it. Then:

1. ``keras`` (this process, TensorFlow): ``Predictor.from_run``, the latency of one decoded
   image, of a 640x480 JPEG file (decode, resize, predict) and of ``model.predict`` (why the
   predictor calls a traced function instead), and its probabilities on the compared images;
2. ``prepare``: ``core.export.lite_model.prepare_lite_model`` (what the ``predict_model`` job
   does once per model: TFLite conversion and its parity check), timed;
3. ``lite``, in a FRESH process that imports no TensorFlow (what the web process does): load,
   RSS, the 640x480 JPEG latency, and the probabilities on the same images.

Compared images: the run's held-out images in each resize mode when it has a split, plus
generated 640x480 JPEGs. Goals: median latency under 150 ms warm, max |Δp| under 1e-4.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import psutil
from PIL import Image

from core.evaluate.held_out import held_out_items

MODES = ("crop", "pad", "stretch")
GOAL_MS, GOAL_DIFF = 150, 1e-4


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


def compared_images(run_dir: Path, work: Path, count: int = 12) -> list[str]:
    """The run's held-out images (when it has a split) and ``count`` generated 640x480 JPEGs."""
    try:
        paths = [str(path) for path, _ in held_out_items(run_dir, prefer="validation").items]
    except ValueError:
        paths = []
    for index in range(count):
        pixels = np.random.default_rng(index).integers(0, 255, (480, 640, 3), dtype=np.uint8)
        photo = work / f"photo_{index}.jpg"
        Image.fromarray(pixels).save(photo, quality=90)
        paths.append(str(photo))
    return paths


def probabilities(predictor: Any, paths: list[str]) -> np.ndarray:
    """Probabilities of every image in each resize mode, stacked (modes x images x classes)."""
    saved, rows = predictor.resize_mode, []
    for mode in MODES:
        predictor.resize_mode = mode
        rows.append(predictor.predict_sources(paths))
    predictor.resize_mode = saved
    return np.stack(rows)


def lite_part(run_dir: Path, work: Path, repeats: int) -> dict[str, Any]:
    """The web process's side, in this fresh process: LiteRT only."""
    from core.predict.lite import LitePredictor

    start = time.perf_counter()
    predictor = LitePredictor(run_dir)
    load_s = time.perf_counter() - start
    photo = work / "photo_0.jpg"
    for _ in range(3):
        predictor.predict_sources([photo])
    rss = psutil.Process().memory_info().rss / 2**20
    file_ms = _timings(lambda: predictor.predict_sources([photo]), repeats)
    paths = json.loads((work / "paths.json").read_text())
    np.save(work / "lite.npy", probabilities(predictor, paths))
    return {
        "load_s": round(load_s, 2),
        "rss_mb_after_load_and_3_predictions": round(rss, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "lite_640x480_jpeg_file": _summary(file_ms),
        "tensorflow_imported": "tensorflow" in sys.modules,
        "keras_imported": "keras" in sys.modules,
    }


def _built_run(args: argparse.Namespace, folder: Path) -> Path:
    """A run folder holding a freshly built model (no training), as a run would save it."""
    from core.config.model import ModelConfig
    from core.model.builder import build_model

    spec = ModelConfig(backbone=args.backbone, input_size=args.size, weights=args.weights)
    build_model(spec, num_classes=5).model.save(folder / "model.keras")
    labels = {"classes": list("abcde"), "input_size": args.size, "resize_mode": "stretch"}
    (folder / "labels.json").write_text(json.dumps(labels))
    return folder


def keras_part(run_dir: Path, work: Path, repeats: int) -> dict[str, Any]:
    """The Keras model in this process: load, latencies, and its probabilities (saved)."""
    from core.predict.predictor import Predictor

    start = time.perf_counter()
    predictor = Predictor.from_run(run_dir)  # also traces and warms the graph
    load_s = time.perf_counter() - start
    size = predictor.input_size
    image = np.random.default_rng(0).uniform(0, 255, (1, size, size, 3)).astype(np.float32)
    for _ in range(3):
        predictor.predict_arrays(image)
    photo = work / "photo_0.jpg"
    result = {
        "load_and_warm_s": round(load_s, 2),
        "predictor_single_image": _summary(
            _timings(lambda: predictor.predict_arrays(image), repeats)
        ),
        "predictor_640x480_jpeg_file": _summary(
            _timings(lambda: predictor.predict_sources([photo]), repeats)
        ),
    }
    predictor.model.predict(image, verbose=0)
    result["keras_model_predict_single_image"] = _summary(
        _timings(lambda: predictor.model.predict(image, verbose=0), max(5, repeats // 3))
    )
    np.save(
        work / "keras.npy", probabilities(predictor, json.loads((work / "paths.json").read_text()))
    )
    result["rss_mb"] = round(psutil.Process().memory_info().rss / 2**20, 1)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a finished run folder (default: build a model)")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--backbone", default="mobilenet_v2")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--weights", choices=("imagenet", "none"), default="none")
    parser.add_argument("--lite-part", nargs=2, help=argparse.SUPPRESS)  # RUN_DIR WORK
    args = parser.parse_args()
    if args.lite_part:
        print(json.dumps(lite_part(Path(args.lite_part[0]), Path(args.lite_part[1]), args.repeats)))
        return 0
    from core.export.lite_model import prepare_lite_model

    work = Path(tempfile.mkdtemp(prefix="predict_latency_"))
    run_dir = Path(args.run).resolve() if args.run else _built_run(args, Path(tempfile.mkdtemp()))
    (work / "paths.json").write_text(json.dumps(compared_images(run_dir, work)))
    result: dict[str, Any] = {"run": str(run_dir), "repeats": args.repeats}
    result["keras"] = keras_part(run_dir, work, args.repeats)
    start = time.perf_counter()
    facts = prepare_lite_model(run_dir)
    result["prepare"] = {**facts, "seconds": round(time.perf_counter() - start, 1)}
    command = [sys.executable, __file__, "--lite-part", str(run_dir), str(work),
               "--repeats", str(args.repeats)]  # fmt: skip
    child = subprocess.run(command, capture_output=True, text=True, check=True)
    result["lite"] = json.loads(child.stdout.strip().splitlines()[-1])
    diff = float(np.abs(np.load(work / "lite.npy") - np.load(work / "keras.npy")).max())
    result["lite"]["max_abs_diff_vs_keras"] = diff
    result["lite"]["images_compared"] = int(np.load(work / "keras.npy").shape[1]) * len(MODES)
    median = result["lite"]["lite_640x480_jpeg_file"]["median_ms"]
    result["goals"] = {"latency_ms": GOAL_MS, "max_abs_diff": GOAL_DIFF,
                       "met": median < GOAL_MS and diff < GOAL_DIFF}  # fmt: skip
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
