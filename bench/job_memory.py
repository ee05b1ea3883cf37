"""Benchmark: each job kind's peak memory, worker and its children included (JSON + a table).

Every job goes through the real job runner (``core.jobs.runner.JobRunner``) and the real worker
(``python -m core.jobs.worker``), one at a time. The only difference from the app is the
executor's interpreter: a measuring parent (``bench/peak_rss.py``) that reaps the worker with
``os.wait4`` and writes ``peak.json`` into the job folder (``peak_mb``: ``ru_maxrss`` of the
reaped worker and the children it waited for; ``tree_peak_mb``: the largest sampled sum over
the worker and its descendants; a timeline).

Job kinds, per dataset (hymenoptera and trashnet6 by default): ``train`` (the defaults at 224,
empty feature cache), ``sweep`` (a sweep member: another head, warm cache), ``export`` of each
format with its parity check, ``evaluate`` (metrics + 6 Grad-CAM images), ``predict_batch`` (a
zip of 2,000 images made by repeating the dataset's photos), the analyses, ``duplicates``,
``advise_cut``, and the kinds that keep TensorFlow out of the web process: ``predict_model``,
``model_facts_layers``, ``model_facts_summary``, ``augment_preview``.

The table compares with ``bench/job_memory_before.json`` (measured before issue 23, commit
1ca8370) unless ``--compare`` names another file::

    python bench/job_memory.py [--datasets hymenoptera trashnet6] [--kinds train export_all]
        [--batch-images 2000] [--out result.json] [--compare before.json] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED, require_weights
from bench.peak_rss import PEAK_FILE, python_wrapper
from core.config.data import DataConfig
from core.config.run import RunConfig
from core.config.settings import Settings
from core.config.sweep import sweep_configs
from core.jobs.executor import LocalProcessExecutor
from core.jobs.runner import JobRunner
from core.jobs.worker import WORKER_MODULE
from core.store.runs import RunStore

DATASETS = {
    "hymenoptera": SHARED / "datasets" / "hymenoptera_data",
    "trashnet6": SHARED / "datasets" / "trashnet6",
}
BEFORE = Path(__file__).with_name("job_memory_before.json")
EXPORTS = {
    "export_keras": ["keras"],
    "export_savedmodel": ["savedmodel"],
    "export_tflite": ["tflite"],
    "export_onnx": ["onnx"],
    "export_all": ["keras", "savedmodel", "tflite", "onnx"],
}
ANALYSES = ("label_issues", "calibrate", "learning_curve")
WEB_KINDS = ("predict_model", "model_facts_layers", "model_facts_summary", "augment_preview")
KINDS = ("train", "sweep", *EXPORTS, "evaluate", "predict_batch", *ANALYSES, "duplicates",
         "advise_cut", *WEB_KINDS)  # fmt: skip
NO_RUN = {"duplicates", "advise_cut", "model_facts_layers", "model_facts_summary",
          "augment_preview"}  # fmt: skip
GOAL_MB = 1500
JOB_TIMEOUT_S = 3600.0


def _images(root: Path) -> list[Path]:
    suffixes = {".jpg", ".jpeg", ".png"}
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in suffixes)


def batch_zip(root: Path, count: int, dest: Path) -> Path:
    """A zip of ``count`` images made by repeating the dataset's photos (stored, not deflated)."""
    photos = _images(root)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as archive:
        for index in range(count):
            photo = photos[index % len(photos)]
            archive.write(photo, f"batch/{index:05d}_{photo.name}")
    return dest


def make_runner(work: Path) -> JobRunner:
    """A runner over ``work`` whose workers start under the measuring parent."""
    settings = Settings(
        runs_dir=str(work / "runs"), cache_dir=str(work / "cache"), data_dir=str(work / "data"),
        disk_cap_mb=1e6, memory_budget_mb=20000.0, max_batch_images=100000,
        quick_predict_after_training=False,  # measured as its own row
    )  # fmt: skip
    executor = LocalProcessExecutor(WORKER_MODULE, python=python_wrapper(work))
    return JobRunner(settings, executor=executor)


def _peak(folder: Path, status: Any) -> dict[str, Any]:
    """The job's ``peak.json`` (the parent writes it a moment after the worker's final state)."""
    deadline = time.monotonic() + 120
    while not (folder / PEAK_FILE).is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    data = json.loads((folder / PEAK_FILE).read_text()) if (folder / PEAK_FILE).is_file() else {}
    data.update(state=status.state, job=folder.name)
    if status.error:
        data["error"] = status.error
    return data


def job_params(kind: str, data: DataConfig, base: RunConfig, root: Path) -> tuple[str, dict]:
    """The job kind and parameters the bench's row ``kind`` submits."""
    if kind in EXPORTS:
        return "export", {"formats": EXPORTS[kind]}
    if kind in ANALYSES:
        return "analyse", {"analysis": kind}
    if kind == "duplicates":
        return "dataset_duplicates", {"data": data.to_dict()}
    if kind == "advise_cut":
        return kind, {"data": data.to_dict(), "backbone": "mobilenet_v2", "input_size": 224,
                      "weights": "imagenet"}  # fmt: skip
    if kind.startswith("model_facts_"):
        what = kind.removeprefix("model_facts_")
        layers = {"backbone": "mobilenet_v2", "input_size": 224}
        summary = {"spec": base.model.to_dict(), "num_classes": 2}
        return "model_facts", {"what": what, **(layers if what == "layers" else summary)}
    if kind == "augment_preview":
        return kind, {"image": str(_images(root)[0]), "seed": 0, "count": 8, "size": 160,
                      "augment": data.augmentation.to_dict()}  # fmt: skip
    return kind, {"k": 3} if kind == "predict_batch" else {}


def run_dataset(name: str, kinds: list[str], work: Path, batch_images: int) -> list[dict]:
    """Runs the chosen job kinds on one dataset; one row per job."""
    work.mkdir(parents=True, exist_ok=True)
    runner = make_runner(work)
    store = RunStore(runner.settings.runs_dir)
    root = DATASETS[name]
    data = DataConfig(path=str(root))
    base = RunConfig(data=data)
    rows: list[dict[str, Any]] = []

    def record(kind: str, status: Any) -> None:
        rows.append(row := {"dataset": name, "kind": kind, **_peak(status.folder, status)})
        print(f"  {name:12s} {kind:20s} {row.get('peak_mb', '?'):>8} MB  tree "
              f"{row.get('tree_peak_mb', '?'):>8} MB  {row.get('wall_s', '?')} s  {row['state']}"
              f"  {row.get('error', '')}", file=sys.stderr, flush=True)  # fmt: skip

    def train(kind: str, config: RunConfig) -> str:
        run_id = runner.submit_training(store, config)
        runner.wait_for_run(store, run_id, timeout_s=JOB_TIMEOUT_S, poll_s=1.0)
        record(kind, runner.latest_job(store, run_id, "train"))
        return run_id

    run_id = train("train", base) if set(kinds) - NO_RUN else None
    if "sweep" in kinds:
        train("sweep", sweep_configs(base, ["mobilenet_v2"], heads=["mlp"])[0])
    for kind in (k for k in KINDS if k in kinds and k not in ("train", "sweep")):
        job_kind, params = job_params(kind, data, base, root)
        files: dict[str, Any] = {}
        if kind == "predict_batch":
            files["upload.zip"] = batch_zip(root, batch_images, work / "batch.zip").read_bytes()
        owner = None if kind in NO_RUN else run_id
        job_id = runner.submit(job_kind, store, owner, params, files=files)
        record(kind, runner.wait_for_job(store, job_id, owner, JOB_TIMEOUT_S, poll_s=1.0))
    return rows


def table(rows: list[dict], before: list[dict] | None = None) -> str:
    """A markdown table: kind x dataset, peak MB (``before → after`` when given)."""
    old = {(r["dataset"], r["kind"]): r for r in before or []}
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    by = {(r["dataset"], r["kind"]): r for r in rows}

    def cell(row: dict, dataset: str, kind: str) -> str:
        now = f"**{row.get('peak_mb', '?')}**"
        was = old.get((dataset, kind))
        text = f"{was.get('peak_mb', '?')} → {now}" if was else f"{now} (new)"
        return text + ("" if row.get("state") == "finished" else f" ({row.get('state')})")

    lines = ["| job kind | " + " | ".join(f"{d} before → after (MB)" for d in datasets) + " |",
             "|---" * (len(datasets) + 1) + "|"]  # fmt: skip
    for kind in dict.fromkeys(r["kind"] for r in rows):
        cells = [cell(by[(d, kind)], d, kind) if (d, kind) in by else "–" for d in datasets]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--batch-images", type=int, default=2000)
    parser.add_argument("--work", help="work folder (default: a temporary one, deleted)")
    parser.add_argument("--out", help="also write the JSON (with timelines) here")
    parser.add_argument("--compare", default=str(BEFORE), help="the before column's JSON")
    args = parser.parse_args()
    require_weights()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    work = Path(args.work or tempfile.mkdtemp(prefix="job_memory_"))
    rows: list[dict[str, Any]] = []
    try:
        for dataset in args.datasets:
            rows += run_dataset(dataset, args.kinds, work / dataset, args.batch_images)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=Path(__file__).parents[1]).stdout.strip()  # fmt: skip
    result = {"commit": commit, "goal_mb": GOAL_MB, "batch_images": args.batch_images,
              "self_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
              "rows": rows}  # fmt: skip
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))
    before = json.loads(Path(args.compare).read_text())["rows"] if args.compare else None
    print(table(rows, before), file=sys.stderr)
    over = [f"{r['dataset']}/{r['kind']}" for r in rows if (r.get("peak_mb") or 0) > GOAL_MB]
    print(f"over {GOAL_MB} MB: {', '.join(over) or 'none'}", file=sys.stderr)
    rows_only = [{k: v for k, v in row.items() if k != "timeline"} for row in rows]
    print(json.dumps({**result, "rows": rows_only}))


if __name__ == "__main__":
    main()
