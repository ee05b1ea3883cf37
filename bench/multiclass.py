"""Benchmark: the hand-written recipe against the CLI's defaults on real photos (JSON).

The question of issue #22: on a real multi-class photo set (``trashnet6``: 6 classes, 887 photos)
and on a two-class one (hymenoptera), how does ``python -m core train --data DIR`` with nothing
set compare with the 20-line script a user would write by hand (``bench/handwritten.py``)?

Fixed folders: trashnet6 has no split, so each seed gets its own stratified 60/20/20 split (per
class, ``random.Random(seed)``: 533/177/177) written as train/val/test folders; hymenoptera's val
folder is halved per class into val (model selection) and test (``bench.common.with_test_split``).
``hymenoptera_full`` (defaults only) trains on hymenoptera's train folder alone (the studio draws
its validation images from it) and scores the WHOLE val folder as the test: the ">= 97 % on its
full val folder" check, with no val image used for any choice or fit.

Every (dataset, variant, seed) is ONE fresh process with a cold feature cache; its wall time
(process start to end, TensorFlow import included), CPU seconds (user + system) and peak memory
(``ru_maxrss``) come from ``os.wait4`` on that very process. The machine is shared: other users'
load stretches the wall time but hardly the CPU time, so both ratios to the hand-written run of
the same seed are reported. Each run is appended to ``--results`` (JSON lines) as it ends, and a
run already there is not repeated, so a long bench can be resumed or run in parts.

Usage::

    python bench/multiclass.py [--seeds 3] [--dataset trashnet6 ...] [--only defaults ...]
                               [--results bench_multiclass.jsonl]

Goal (issue #22): on trashnet6, defaults >= hand-written + 8 points of test accuracy at <= 1/3 of
its time; on hymenoptera_full, defaults >= 97 %.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import HYMENOPTERA, REPO, SHARED, median, require_weights, spread, with_test_split

TRASHNET6 = SHARED / "datasets" / "trashnet6"
DATASETS = ("trashnet6", "hymenoptera", "hymenoptera_full")
VARIANTS = ("handwritten", "defaults")
GOAL = {"accuracy_gain_points": 8.0, "time_ratio": 1 / 3, "hymenoptera_full_accuracy": 0.97}
HANDWRITTEN = Path(__file__).resolve().parent / "handwritten.py"


def trash_folders(source: Path, dest: Path, seed: int) -> Path:
    """A stratified 60/20/20 split of a class-folder dataset (per class, seeded) as folders."""
    rng = random.Random(seed)
    for class_dir in sorted(p for p in source.iterdir() if p.is_dir()):
        files = sorted(p for p in class_dir.iterdir() if p.is_file())
        rng.shuffle(files)
        test, val = round(len(files) * 0.2), round(len(files) * 0.2)
        parts = {
            "test": files[:test],
            "val": files[test : test + val],
            "train": files[test + val :],
        }
        for split, chosen in parts.items():
            target = dest / split / class_dir.name
            target.mkdir(parents=True, exist_ok=True)
            for path in chosen:
                shutil.copy2(path, target / path.name)
    return dest


def folders(dataset: str, dest: Path, seed: int) -> Path:
    """The fixed train/val/test folders of ``dataset`` for ``seed`` (made once per seed)."""
    if dest.is_dir():
        return dest
    if dataset == "trashnet6":
        return trash_folders(TRASHNET6, dest, seed)
    if dataset == "hymenoptera":
        return with_test_split(HYMENOPTERA, dest, seed)
    shutil.copytree(HYMENOPTERA / "train", dest / "train")  # hymenoptera_full
    shutil.copytree(HYMENOPTERA / "val", dest / "test")
    return dest


def run_once(variant: str, data: Path, seed: int, work: Path) -> dict[str, Any]:
    """One (variant, seed) in its own process; returns its numbers."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    folder = work / f"{variant}-{seed}-{time.time_ns()}"
    folder.mkdir(parents=True)
    if variant == "handwritten":
        command = [sys.executable, str(HANDWRITTEN), str(data), str(seed)]
    else:
        env["STUDIO_CACHE_DIR"] = str(folder / "cache")  # a cold feature cache for every run
        command = [sys.executable, "-m", "core", "train", "--data", str(data), "--seed", str(seed)]
        command += ["--out", str(folder / "runs"), "--quiet"]
    load_before = os.getloadavg()[0]
    wall, cpu, rss, stdout = _timed_wait4(command, env)
    result = (
        _defaults_result(folder)
        if variant == "defaults"
        else json.loads(stdout.strip().splitlines()[-1])
    )
    result.update(
        seed=seed, wall_seconds=round(wall, 1), cpu_seconds=round(cpu, 1),
        peak_rss_mb=round(rss, 1), load_before=round(load_before, 1),
        load_after=round(os.getloadavg()[0], 1),
    )  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)
    return result


def _defaults_result(folder: Path) -> dict[str, Any]:
    """Accuracies and the automatic recipe's choice from the run folder the CLI wrote."""
    (run_dir,) = [p for p in (folder / "runs").iterdir() if (p / "metrics.json").is_file()]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    result = {k: metrics.get(k) for k in ("test_accuracy", "val_accuracy", "val_count")}
    recipe = run_dir / "recipe.json"
    if recipe.is_file():
        choice = json.loads(recipe.read_text())
        result["choice"] = {k: choice.get(k) for k in ("chosen", "score", "scored_by", "stages")}
    return result


def _timed_wait4(command: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Runs ``command``: wall time, CPU seconds and peak RSS (MB) of that process, its stdout."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0), err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{' '.join(command)} failed:\n{err.read()[-3000:]}")
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read()


def summarize(runs: list[dict[str, Any]], base: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Mean ± sd of the accuracies, medians of the times, ratios to the hand-written runs."""
    row: dict[str, Any] = {
        "test_accuracy": spread([r["test_accuracy"] for r in runs]),
        "val_accuracy": spread([r["val_accuracy"] for r in runs]),
        "wall_seconds_median": median([r["wall_seconds"] for r in runs], 1),
        "cpu_seconds_median": median([r["cpu_seconds"] for r in runs], 1),
        "peak_rss_mb_max": max(r["peak_rss_mb"] for r in runs),
        "seeds": [r["seed"] for r in runs],
    }
    by_seed = {b["seed"]: b for b in base or []}
    pairs = [(r, by_seed[r["seed"]]) for r in runs if r["seed"] in by_seed]
    if pairs:
        row["time_ratio_median"] = median(
            [r["wall_seconds"] / b["wall_seconds"] for r, b in pairs], 3
        )
        row["cpu_ratio_median"] = median([r["cpu_seconds"] / b["cpu_seconds"] for r, b in pairs], 3)
        row["gain_points"] = spread(
            [100 * (r["test_accuracy"] - b["test_accuracy"]) for r, b in pairs], 2
        )
    return row


def report(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON summary of every stored run: one row per (dataset, variant), and the goal."""
    results: dict[str, Any] = {}
    for dataset in DATASETS:
        runs = {
            v: [r for r in records if (r["dataset"], r["variant"]) == (dataset, v)]
            for v in VARIANTS
        }
        base = runs["handwritten"] or None
        rows = {v: summarize(r, base if v != "handwritten" else None) for v, r in runs.items() if r}
        if rows:
            results[dataset] = rows
    summary: dict[str, Any] = {"benchmark": "multiclass", "goal": GOAL, "cpu_count": os.cpu_count()}
    summary["results"] = results
    trash = results.get("trashnet6", {}).get("defaults", {})
    if "gain_points" in trash:
        summary["goal_met_trashnet6"] = {
            "gain": trash["gain_points"]["mean"] >= GOAL["accuracy_gain_points"],
            "cpu_ratio": trash["cpu_ratio_median"] <= GOAL["time_ratio"],
            "wall_ratio": trash["time_ratio_median"] <= GOAL["time_ratio"],
        }
    full = results.get("hymenoptera_full", {}).get("defaults")
    if full:
        summary["goal_met_hymenoptera_full"] = (
            full["test_accuracy"]["mean"] >= GOAL["hymenoptera_full_accuracy"]
        )
    return summary


def main() -> None:
    """Runs every missing (dataset, seed, variant) in its own process, then prints the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per variant (1, 2, ...)")
    parser.add_argument("--dataset", choices=DATASETS, action="append")
    parser.add_argument("--only", choices=VARIANTS, action="append")
    parser.add_argument("--results", default="bench_multiclass.jsonl", help="JSON lines, resumable")
    parser.add_argument("--work", help="folder for the split copies (default: a temp folder)")
    args = parser.parse_args()
    require_weights()
    results = Path(args.results)
    lines = results.read_text().splitlines() if results.is_file() else []
    records = [json.loads(line) for line in lines if line.strip()]
    done = {(r["dataset"], r["variant"], r["seed"]) for r in records}
    work = Path(args.work or tempfile.mkdtemp(prefix="bench_multiclass_"))
    for dataset in args.dataset or list(DATASETS):
        for seed in range(1, args.seeds + 1):
            for variant in args.only or list(VARIANTS):  # interleaved: the same load for both
                skip = dataset == "hymenoptera_full" and variant == "handwritten"
                if skip or (dataset, variant, seed) in done:
                    continue
                data = folders(dataset, work / f"{dataset}-{seed}", seed)
                record = {"dataset": dataset, "variant": variant}
                record.update(run_once(variant, data, seed, work / "runs"))
                records.append(record)
                with results.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")
                print(json.dumps(record), file=sys.stderr, flush=True)
    print(json.dumps(report(records), indent=2))


if __name__ == "__main__":
    main()
