"""Benchmark: label issues, near-duplicates/leaks, calibration, cut advisor, learning curve (JSON).

On hymenoptera (train 245; val 153 halved per class into val 77 and test 76 by
``bench.common.with_test_split``), MobileNetV2 at 224, ImageNet weights, on this machine's CPUs:

- **clean run**: the app's defaults (crop, flip + rotate augmentation, 3 cached views). The
  analyses of it run on the features training cached (``extracted_images`` says 0 when no image
  went through the backbone again): calibration (ECE before/after on val and test), the
  learning curve, and near-duplicate pairs flagged on the clean set.
- **label issues**: a copy with 10 % of the training labels flipped (seeded) gets its own run
  (no augmentation, so one pass); precision and recall at k = number flipped, over all splits
  (the default) and over train only.
- **duplicates**: a copy with exact and resized (0.6×) copies of val/test images planted in
  train: the share of planted leaks found, by the Data page check (hashes, before training) and
  by the run check (hashes + cached features).
- **cut advisor**: five cuts (MobileNetV2's recommended ones plus ``block_15_add``), each call
  in a fresh process: cold (the one forward pass) and warm (pooled features in the cache).

Usage::

    python bench/beyond.py [--flip 0.1] [--planted 10] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import HYMENOPTERA, require_weights, run_child, with_test_split

EXTRA_CUT = "block_15_add"  # the fifth cut, beside the recommended four


def _settings(work: Path) -> Any:
    from core.config.settings import Settings

    return Settings(
        runs_dir=str(work / "runs"), cache_dir=str(work / "cache"), data_dir=str(work / "data")
    )


def _train(data: Path, work: Path, seed: int, augment: bool) -> tuple[Path, float]:
    """Trains one run with the app's defaults (augmentation optional); returns folder, seconds."""
    from core.config.data import AugmentConfig, DataConfig
    from core.config.run import RunConfig
    from core.config.train import TrainConfig
    from core.store.runs import RunStore
    from core.train.trainer import run_training

    data_spec = DataConfig(path=str(data), seed=seed)
    if not augment:
        data_spec = DataConfig(path=str(data), seed=seed, augmentation=AugmentConfig())
    config = RunConfig(data=data_spec, train=TrainConfig(seed=seed))
    store = RunStore(_settings(work).runs_dir)
    run_id = store.create(config)
    start = time.perf_counter()
    run_training(config, store, run_id, settings=_settings(work))
    return store.path(run_id), round(time.perf_counter() - start, 1)


def _flip_labels(source: Path, dest: Path, share: float, seed: int) -> list[str]:
    """Copies ``source`` and moves ``share`` of the training images to the other class."""
    shutil.copytree(source, dest)
    classes = sorted(p.name for p in (dest / "train").iterdir() if p.is_dir())
    files = sorted(p for p in (dest / "train").rglob("*") if p.is_file())
    chosen = random.Random(seed).sample(files, round(share * len(files)))
    flipped = []
    for path in chosen:
        other = classes[(classes.index(path.parent.name) + 1) % len(classes)]
        target = dest / "train" / other / path.name
        if not target.exists():
            path.rename(target)
            flipped.append(target.relative_to(dest).as_posix())
    return flipped


def label_issue_numbers(clean: Path, work: Path, share: float, seed: int) -> dict[str, Any]:
    """Precision and recall at k = number flipped, all splits and train only."""
    from core.evaluate.label_issues import find_run_label_issues

    flipped = set(_flip_labels(clean, work / "flipped", share, seed))
    run_dir, seconds = _train(work / "flipped", work, seed, augment=False)
    result: dict[str, Any] = {"flipped": len(flipped), "train_seconds": seconds}
    for name, splits in (("all_splits", ("train", "val", "test")), ("train_only", ("train",))):
        start = time.perf_counter()
        report = find_run_label_issues(run_dir, _settings(work), splits=splits)
        found = [issue.path for issue in report.issues]
        top = found[: len(flipped)]
        hits = len(set(top) & flipped)
        result[name] = {
            "images": report.images,
            "issues_flagged": len(found),
            "precision_at_k": round(hits / max(len(top), 1), 4),
            "recall_at_k": round(hits / len(flipped), 4),
            "precision_flagged": round(len(set(found) & flipped) / max(len(found), 1), 4),
            "recall_flagged": round(len(set(found) & flipped) / len(flipped), 4),
            "seconds": round(time.perf_counter() - start, 2),
            "extracted_images": report.extracted_images,
        }
    return result


def _plant_duplicates(
    clean: Path, dest: Path, count: int, seed: int
) -> dict[str, set[frozenset[str]]]:
    """Copies ``clean``; plants ``count`` exact and ``count`` resized held-out copies in train."""
    from PIL import Image

    shutil.copytree(clean, dest)
    held_out = sorted(p for split in ("val", "test") for p in (dest / split).rglob("*.jpg"))
    chosen = random.Random(seed).sample(held_out, 2 * count)
    planted: dict[str, set[frozenset[str]]] = {"exact": set(), "resized": set()}
    for index, path in enumerate(chosen):
        target = dest / "train" / path.parent.name / f"planted{index}_{path.name}"
        if index < count:
            shutil.copy2(path, target)
        else:
            with Image.open(path) as image:
                size = (round(image.width * 0.6), round(image.height * 0.6))
                image.convert("RGB").resize(size, Image.Resampling.BILINEAR).save(target)
        pair = (target.relative_to(dest).as_posix(), path.relative_to(dest).as_posix())
        planted["exact" if index < count else "resized"].add(frozenset(pair))
    return planted


def duplicate_numbers(clean_run: Path, clean: Path, work: Path, count: int, seed: int) -> Any:
    """Pairs flagged on the clean set; share of planted exact/resized leaks found."""
    from core.data.near_duplicates import dataset_near_duplicates
    from core.data.scan import scan_dataset
    from core.data.splits import split_dataset
    from core.evaluate.duplicates import find_run_duplicates

    start = time.perf_counter()
    clean_report = find_run_duplicates(clean_run, _settings(work))
    result: dict[str, Any] = {
        "clean_pairs_flagged": len(clean_report.pairs),
        "clean_leaks_flagged": len(clean_report.leaks),
        "clean_counts": clean_report.counts(),
        "clean_seconds": round(time.perf_counter() - start, 2),
    }
    planted = _plant_duplicates(clean, work / "planted", count, seed)
    scan = scan_dataset(work / "planted")
    data_report = dataset_near_duplicates(scan, split_dataset(scan, 0.15, 0.15, seed))
    run_dir, _ = _train(work / "planted", work, seed, augment=False)
    run_report = find_run_duplicates(run_dir, _settings(work))
    for name, report in (("data_page_check", data_report), ("run_check", run_report)):
        pairs = {frozenset((pair.first, pair.second)) for pair in report.leaks}
        found = {kind: len(expected & pairs) for kind, expected in planted.items()}
        result[name] = {
            "planted": {kind: len(expected) for kind, expected in planted.items()},
            "found": found,
            "recall": round(sum(found.values()) / sum(map(len, planted.values())), 4),
            "other_pairs_flagged": len(report.pairs) - sum(found.values()),
        }
    return result


def advisor_child(data: str, cache: str) -> None:
    """One advisor call (in a fresh process); prints its JSON."""
    from core.config.data import DataConfig
    from core.config.settings import Settings
    from core.evaluate.cut_advisor import advise_cut

    advice = advise_cut(
        DataConfig(path=data, seed=0), "mobilenet_v2", input_size=224, extra_cuts=(EXTRA_CUT,),
        settings=Settings(cache_dir=cache),
    )  # fmt: skip
    print(json.dumps(advice.to_dict()))


def advisor_numbers(clean: Path, work: Path) -> dict[str, Any]:
    """Cold then warm advisor calls, each in a fresh process."""
    cold = run_child([__file__, "--advisor", str(clean), str(work / "advisor-cache")])
    warm = run_child([__file__, "--advisor", str(clean), str(work / "advisor-cache")])
    rows = {row["cut"]: row["val_accuracy"] for row in cold["rows"]}
    return {
        "cuts": len(rows),
        "val_accuracy_per_cut": rows,
        "chosen": cold["chosen"],
        "chosen_val_accuracy": rows[cold["chosen"]],
        "default": cold["default"],
        "default_val_accuracy": rows[cold["default"]],
        "cold_seconds": cold["seconds"],
        "cold_pass_seconds": cold["pass_seconds"],
        "warm_seconds": warm["seconds"],
        "warm_extracted_images": warm["extracted_images"],
        "images": cold["images"],
        "same_accuracies_warm": rows == {row["cut"]: row["val_accuracy"] for row in warm["rows"]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flip", type=float, default=0.1, help="share of training labels")
    parser.add_argument("--planted", type=int, default=10, help="exact (and resized) copies")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--advisor", nargs=2, metavar=("DATA", "CACHE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    require_weights()
    if args.advisor:
        advisor_child(*args.advisor)
        return
    from core.evaluate.calibration import calibrate_run
    from core.evaluate.learning_curve import run_learning_curve

    with tempfile.TemporaryDirectory(prefix="bench_beyond_") as folder:
        work = Path(folder)
        clean = with_test_split(HYMENOPTERA, work / "clean", seed=args.seed)
        clean_run, seconds = _train(clean, work, args.seed, augment=True)
        result: dict[str, Any] = {"clean_run_train_seconds": seconds}
        start = time.perf_counter()
        result["calibration"] = calibrate_run(clean_run, _settings(work)).to_dict()
        result["calibration"]["seconds"] = round(time.perf_counter() - start, 2)
        curve = run_learning_curve(clean_run, _settings(work))
        result["learning_curve"] = curve.to_dict()
        result["duplicates"] = duplicate_numbers(clean_run, clean, work, args.planted, args.seed)
        result["label_issues"] = label_issue_numbers(clean, work, args.flip, args.seed)
        result["cut_advisor"] = advisor_numbers(clean, work)
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
