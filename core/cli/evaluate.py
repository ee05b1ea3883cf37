"""Evaluate, predict and export commands.

python -m core evaluate RUN [--data PATH] [--json] [--html OUT.html]
python -m core predict RUN IMG_OR_FOLDER... [--csv OUT] [--json] [--top-k K] [--threshold P]
python -m core export RUN --format FORMAT... --out PATH [--quantise]
    FORMAT: keras, savedmodel, tflite, onnx (needs requirements-extra.txt) or all (every
    installed one); several may be given: --format keras tflite onnx

RUN is a run folder, or a run id of the shared workspace or of ``STUDIO_RUNS_DIR`` itself (where
``python -m core train`` writes by default; ``--workspace TOKEN`` for another workspace).
``predict`` also accepts a ``.keras`` file.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from core.config.settings import Settings
from core.errors import StudioError
from core.evaluate.charts import confusion_figure, pr_figure, roc_figure
from core.evaluate.metrics import evaluate_run
from core.export.exporter import EXPORT_FORMATS, available_formats, export_run, missing_requirement
from core.predict.batch import image_files, prediction_rows
from core.predict.ood import KNOWS_ONLY, UNKNOWN
from core.predict.predictor import Predictor
from core.store.runs import validate_run_id
from core.store.workspace import workspace_dir


def resolve_run(value: str, workspace: str | None = None) -> Path:
    """Turns a run folder path or a run id into the run folder.

    Raises:
        StudioError: neither an existing run folder nor a known run id.
    """
    path = Path(value)
    if path.is_dir() and (path / "config.json").is_file():
        return path
    run_id = validate_run_id(value)  # refuses anything path-like before touching the disk
    settings = Settings.from_env()
    # The workspace's folder first; then the runs folder itself, where `python -m core train`
    # puts runs by default (the CLI is a local tool: no visitor reaches it).
    candidates = [workspace_dir(settings, workspace) / run_id]
    if workspace is None:
        candidates.append(Path(settings.runs_dir) / run_id)
    for folder in candidates:
        if (folder / "config.json").is_file():
            return folder
    raise StudioError(f"There is no run '{run_id}' in this workspace.")


def _add_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder or run id")
    parser.add_argument("--workspace", default=None, help="workspace token (default: shared)")


def register(subparsers: Any) -> None:
    """Adds the evaluate, predict and export sub-commands to ``python -m core``."""
    evaluate = subparsers.add_parser("evaluate", help="metrics of a run on its test split")
    _add_run(evaluate)
    evaluate.add_argument("--data", default=None, help="dataset folder (default: the run's)")
    evaluate.add_argument("--json", action="store_true", help="print all metrics as JSON")
    evaluate.add_argument("--html", default=None, help="also save the charts to this HTML file")
    evaluate.set_defaults(handler=evaluate_command)

    predict = subparsers.add_parser("predict", help="classify images with a run or .keras file")
    _add_run(predict)
    predict.add_argument("images", nargs="+", help="image files or folders")
    predict.add_argument("--csv", default=None, help="write one row per image to this CSV")
    predict.add_argument("--json", action="store_true", help="print the rows as JSON")
    predict.add_argument("--top-k", type=int, default=3, help="classes listed per image")
    predict.add_argument("--threshold", type=float, default=0.0, help="'not sure' below this")
    predict.set_defaults(handler=predict_command)

    export = subparsers.add_parser("export", help="export a run and check parity")
    _add_run(export)
    export.add_argument(
        "--format",
        nargs="+",
        choices=(*EXPORT_FORMATS, "all"),
        default=["all"],
        metavar="FORMAT",
        help=f"formats to write: {', '.join(EXPORT_FORMATS)}, or all (the default)",
    )
    export.add_argument("--out", required=True, help="output folder")
    export.add_argument("--quantise", action="store_true", help="add a dynamic-range TFLite")
    export.add_argument("--data", default=None, help="dataset folder for the parity images")
    export.set_defaults(handler=export_command)


def evaluate_command(args: argparse.Namespace) -> int:
    """Prints the run's metrics (text or JSON) and optionally saves the charts."""
    result = evaluate_run(resolve_run(args.run, args.workspace), data_path=args.data)
    metrics = result.metrics
    if args.html:
        _save_charts(result, args.html)
    if args.json:
        payload = {**result.summary(), "metrics": metrics.to_dict()}
        payload["misclassified"] = result.misclassified()
        print(json.dumps(payload, indent=2))
        return 0
    label = "test split" if result.split == "test" else "validation split (no test split)"
    print(f"Evaluated on the {label}: {len(result.paths)} images")
    print(f"accuracy {metrics.accuracy:.4f}   macro F1 {metrics.macro_f1:.4f}")
    print(f"{'class':<24}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
    for row in metrics.per_class:
        print(
            f"{row['class'][:23]:<24}{row['precision']:>10.4f}{row['recall']:>10.4f}"
            f"{row['f1']:>10.4f}{row['support']:>9}"
        )
    print("confusion matrix (rows = true, columns = predicted):")
    for name, counts in zip(metrics.classes, metrics.confusion, strict=True):
        print(f"  {name[:20]:<21}" + " ".join(f"{value:>5}" for value in counts))
    return 0


def _save_charts(result: Any, path: str) -> None:
    metrics = result.metrics
    figures = [confusion_figure(metrics.confusion, metrics.classes)]
    if metrics.roc is not None and metrics.pr is not None:
        figures += [
            roc_figure(metrics.roc, metrics.classes[1]),
            pr_figure(metrics.pr, metrics.classes[1]),
        ]
    html = "".join(
        fig.to_html(full_html=False, include_plotlyjs=i == 0) for i, fig in enumerate(figures)
    )
    Path(path).write_text(f"<html><body>{html}</body></html>", encoding="utf-8")


def _load_predictor(value: str, workspace: str | None) -> Any:
    if value.endswith(".keras") and Path(value).is_file():
        return Predictor.from_model_file(value)
    return Predictor.from_run(resolve_run(value, workspace))


def predict_command(args: argparse.Namespace) -> int:
    """Classifies images; prints a table, JSON, and/or writes a CSV (one row per image)."""
    files = image_files(args.images)
    if not files:
        raise StudioError("No image files were found in the given paths.")
    predictor = _load_predictor(args.run, args.workspace)
    rows = prediction_rows(predictor, [(str(f), f) for f in files], args.top_k, args.threshold)
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    if args.json:
        print(json.dumps(rows, indent=2))
    elif not args.csv:
        for row in rows:
            answer = row["error"] or f"{row['predicted']} ({row['confidence']:.3f})  {row['top_k']}"
            print(f"{row['file']}: {answer}")
    failed = sum(1 for row in rows if row["error"])
    print(f"{len(rows) - failed} images classified, {failed} unreadable.", file=sys.stderr)
    unknown = sum(1 for row in rows if row["predicted"] == UNKNOWN)
    if unknown:
        print(f"{unknown} look like none of the classes. {KNOWS_ONLY}", file=sys.stderr)
    return 0


def export_command(args: argparse.Namespace) -> int:
    """Exports a run, prints the parity of each artifact; exit code 1 when parity fails."""
    formats = _export_formats(args.format)
    report = export_run(
        resolve_run(args.run, args.workspace), args.out, formats, args.quantise, args.data
    )
    print(f"Exported to {report.out_dir}: {', '.join(report.files)}")
    if report.bundle:
        print(f"Bundle: {report.bundle}")
    print(f"Parity on {report.parity_images} {report.parity_source} (max |Δp| vs the app):")
    for name, diff in report.parity.items():
        print(f"  {name:<11} {diff:.2e}")
    if report.quantised:
        q = report.quantised
        accuracy = "n/a" if q["accuracy"] is None else f"{q['accuracy']:.3f}"
        float_accuracy = "n/a" if q["float_accuracy"] is None else f"{q['float_accuracy']:.3f}"
        print(
            f"  quantised   {q['max_abs_diff']:.2e} (accuracy {accuracy} vs float "
            f"{float_accuracy}, top-1 agreement {q['top1_agreement']:.3f})"
        )
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 1 if any("differs" in w or "failed" in w for w in report.warnings) else 0


def _export_formats(requested: list[str]) -> tuple[str, ...]:
    """The formats to export: "all" means every installed one (a note names the others).

    Raises:
        StudioError: a format named explicitly needs packages that are not installed.
    """
    if "all" in requested:
        for name in EXPORT_FORMATS:
            missing = missing_requirement(name)
            if missing is not None:
                print(f"note: {missing}", file=sys.stderr)
        return available_formats()
    for name in requested:
        missing = missing_requirement(name)
        if missing is not None:
            raise StudioError(missing)
    return tuple(dict.fromkeys(requested))  # in the given order, each once
