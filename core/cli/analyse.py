"""Dataset and model analyses: label issues, near-duplicates, calibration, cut advice, curves.

python -m core label-issues RUN [--splits train val test] [--limit N] [--json]
                           [--write-version OUT [--action relabel|remove]]
python -m core duplicates RUN_OR_DATA [--no-features] [--json] [--dedupe OUT]   (alias: leaks)
python -m core calibrate RUN [--class-threshold CLASS=P ...] [--dry-run] [--json]
python -m core advise-cut DATA --backbone ID [--input-size N] [--weights imagenet|none] [--json]
python -m core learning-curve RUN [--repeats N] [--json] [--html OUT]

RUN is a run folder or a run id (as for ``python -m core evaluate``). Analyses of a run use its
cached features (no backbone pass when training cached them). ``--write-version``/``--dedupe``
write a NEW dataset folder (``OUT/images`` to train on); the original is never changed.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.cli.evaluate import resolve_run
from core.config.data import DataConfig
from core.data.near_duplicates import dataset_near_duplicates, write_deduplicated_version
from core.data.scan import scan_dataset
from core.data.splits import split_dataset
from core.evaluate.calibration import calibrate_run
from core.evaluate.charts import cut_advice_figure, learning_curve_figure
from core.evaluate.cut_advisor import advise_cut
from core.evaluate.duplicates import find_run_duplicates, write_run_dedupe_version
from core.evaluate.label_issues import find_run_label_issues, write_corrected_version
from core.evaluate.learning_curve import run_learning_curve


def _add_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder or run id")
    parser.add_argument("--workspace", default=None, help="workspace token (default: shared)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def register(subparsers: Any) -> None:
    """Adds the analysis sub-commands to ``python -m core``."""
    issues = subparsers.add_parser("label-issues", help="images whose label is probably wrong")
    _add_run(issues)
    issues.add_argument("--splits", nargs="+", default=["train", "val", "test"])
    issues.add_argument("--folds", type=int, default=5, help="folds of the out-of-fold probe")
    issues.add_argument("--limit", type=int, default=None, help="keep the N most likely issues")
    issues.add_argument("--write-version", default=None, help="write a corrected dataset here")
    issues.add_argument("--action", choices=("relabel", "remove"), default="relabel")
    issues.set_defaults(handler=label_issues_command)

    duplicates = subparsers.add_parser(
        "duplicates", aliases=["leaks"], help="near-duplicate images and leaks across splits"
    )
    duplicates.add_argument("target", help="run folder, run id, or a dataset folder")
    duplicates.add_argument("--workspace", default=None, help="workspace token (default: shared)")
    duplicates.add_argument("--json", action="store_true", help="print JSON")
    duplicates.add_argument("--no-features", action="store_true", help="hashes only")
    duplicates.add_argument("--dedupe", default=None, help="write a deduplicated dataset here")
    _add_split_options(duplicates)
    duplicates.set_defaults(handler=duplicates_command)

    calibrate = subparsers.add_parser("calibrate", help="fit temperature scaling on validation")
    _add_run(calibrate)
    calibrate.add_argument("--class-threshold", nargs="+", default=None, metavar="CLASS=P")
    calibrate.add_argument("--dry-run", action="store_true", help="measure, store nothing")
    calibrate.set_defaults(handler=calibrate_command)

    advise = subparsers.add_parser("advise-cut", help="linear-probe accuracy per recommended cut")
    advise.add_argument("data", help="dataset folder")
    advise.add_argument("--backbone", default="mobilenet_v2", help="backbone id")
    advise.add_argument("--input-size", type=int, default=None, help="default: the backbone's")
    advise.add_argument("--weights", choices=("imagenet", "none"), default="imagenet")
    advise.add_argument("--cut", nargs="+", default=[], help="more layers to score")
    advise.add_argument("--resize-mode", default="crop", choices=("crop", "stretch", "pad"))
    advise.add_argument("--json", action="store_true", help="print JSON")
    advise.add_argument("--html", default=None, help="also save the chart to this HTML file")
    _add_split_options(advise)
    advise.set_defaults(handler=advise_cut_command)

    curve = subparsers.add_parser("learning-curve", help="would more images help?")
    _add_run(curve)
    curve.add_argument("--repeats", type=int, default=3, help="draws per training share")
    curve.add_argument("--html", default=None, help="also save the chart to this HTML file")
    curve.set_defaults(handler=learning_curve_command)


def _add_split_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--val-ratio", type=float, default=0.15, help="validation share")
    parser.add_argument("--test-ratio", type=float, default=0.15, help="test share")
    parser.add_argument("--seed", type=int, default=42, help="split seed")


def label_issues_command(args: argparse.Namespace) -> int:
    """Prints the ranked label issues; optionally writes a corrected dataset version."""
    run_dir = resolve_run(args.run, args.workspace)
    report = find_run_label_issues(run_dir, splits=tuple(args.splits), folds=args.folds)
    issues = report.issues[: args.limit] if args.limit is not None else report.issues
    payload = {**report.to_dict(), "issues": [issue.to_dict() for issue in issues]}
    if args.write_version:
        relabel = {i.path: i.suggested_label for i in issues} if args.action == "relabel" else {}
        remove = [i.path for i in issues] if args.action == "remove" else []
        folder = write_corrected_version(
            run_dir, args.write_version, relabel=relabel, remove=remove
        )
        payload["version"] = str(folder)
    if args.json:
        print(json.dumps(payload, indent=2))
        return 0
    splits = ", ".join(report.splits)
    print(f"{len(report.issues)} label issues among {report.images} images ({splits}):")
    for issue in issues:
        print(
            f"  {issue.path}  [{issue.split}]  {issue.given_label} -> {issue.suggested_label} "
            f"({issue.confidence:.2f})"
        )
    if "version" in payload:
        print(f"Corrected dataset version: {payload['version']}")
    return 0


def duplicates_command(args: argparse.Namespace) -> int:
    """Prints near-duplicate pairs and leaks of a run (or a dataset); optionally dedupes."""
    target = Path(args.target)
    if target.is_dir() and not (target / "config.json").is_file():
        report, folder = _dataset_duplicates(target, args)
    else:
        report, folder = _run_duplicates(resolve_run(args.target, args.workspace), args)
    payload = report.to_dict()
    if folder is not None:
        payload["version"] = str(folder)
    if args.json:
        print(json.dumps(payload, indent=2))
        return 0
    print(
        f"{len(report.pairs)} near-duplicate pairs among {report.images} images, "
        f"{len(report.leaks)} of them across splits (leaks)."
    )
    for pair in report.pairs:
        cosine = f", cosine {pair.cosine:.3f}" if pair.cosine is not None else ""
        kind = "LEAK " if pair.leak else ""
        print(
            f"  {kind}{pair.first} [{pair.first_split}] ~ {pair.second} [{pair.second_split}]"
            f" (hash distance {pair.hash_distance}{cosine}{', same file' if pair.exact else ''})"
        )
    if folder is not None:
        print(f"Deduplicated dataset version: {folder}")
    return 0


def _dataset_duplicates(folder: Path, args: argparse.Namespace) -> tuple[Any, Path | None]:
    scan = scan_dataset(folder)
    split = split_dataset(scan, args.val_ratio, args.test_ratio, args.seed)
    report = dataset_near_duplicates(scan, split)
    version = None
    if args.dedupe:
        version = write_deduplicated_version(split, scan.root, report, args.dedupe)
    return report, version


def _run_duplicates(run_dir: Path, args: argparse.Namespace) -> tuple[Any, Path | None]:
    report = find_run_duplicates(run_dir, use_features=not args.no_features)
    version = write_run_dedupe_version(run_dir, args.dedupe, report) if args.dedupe else None
    return report, version


def _thresholds(values: list[str] | None) -> dict[str, float] | None:
    if values is None:
        return None
    result = {}
    for value in values:
        name, sep, number = value.rpartition("=")
        try:
            result[name] = float(number)
        except ValueError:
            name = ""
        if not sep or not name:
            raise ValueError(f"Write a class threshold as CLASS=P (e.g. cat=0.8), got '{value}'.")
    return result


def calibrate_command(args: argparse.Namespace) -> int:
    """Fits the temperature on validation, stores it in labels.json, prints ECE before/after."""
    result = calibrate_run(
        resolve_run(args.run, args.workspace),
        class_thresholds=_thresholds(args.class_threshold),
        write=not args.dry_run,
    )
    if args.json:
        print(json.dumps({**result.to_dict(), "stored": not args.dry_run}, indent=2))
        return 0
    print(f"Temperature {result.temperature:.3f} (fitted on validation).")
    for name, split in result.splits.items():
        print(
            f"  {name:<5} {split.images:>5} images  ECE {split.ece_before:.4f} -> "
            f"{split.ece_after:.4f}   NLL {split.nll_before:.4f} -> {split.nll_after:.4f}"
        )
    print("Not stored (--dry-run)." if args.dry_run else "Stored in labels.json.")
    return 0


def advise_cut_command(args: argparse.Namespace) -> int:
    """Prints the linear-probe validation accuracy at each recommended cut, and the advice."""
    data = DataConfig(
        path=args.data, val_ratio=args.val_ratio, test_ratio=args.test_ratio, seed=args.seed,
        resize_mode=args.resize_mode,
    )  # fmt: skip
    advice = advise_cut(
        data, args.backbone, input_size=args.input_size, weights=args.weights,
        extra_cuts=tuple(args.cut),
    )  # fmt: skip

    def figure() -> Any:
        return cut_advice_figure(advice.to_dict()["rows"], advice.seconds)

    def lines() -> list[str]:
        rows = [
            f" {'*' if row.chosen else ' '} {row.cut:<28} "
            f"{'x'.join(str(dim) for dim in row.shape):<12} {row.val_accuracy:.3f}"
            for row in advice.rows
        ]
        pass_s = f"{advice.seconds:.1f} s ({advice.pass_seconds:.1f} s for the one pass)."
        return [*rows, advice.sentence(), pass_s]

    return _report(args, advice.to_dict(), figure, lines)


def learning_curve_command(args: argparse.Namespace) -> int:
    """Prints probe accuracy at 25/50/75/100 % of the training images, and the verdict."""
    curve = run_learning_curve(resolve_run(args.run, args.workspace), repeats=args.repeats)

    def figure() -> Any:
        return learning_curve_figure(curve.to_dict()["points"], curve.scored_on)

    def lines() -> list[str]:
        rows = [
            f"  {point.fraction:>4.0%}  {point.images:>6} images  accuracy {point.accuracy:.3f}"
            f" ± {point.accuracy_sd:.3f}"
            for point in curve.points
        ]
        return [*rows, curve.verdict]

    return _report(args, curve.to_dict(), figure, lines)


def _report(
    args: argparse.Namespace,
    payload: dict[str, Any],
    figure: Callable[[], Any],
    lines: Callable[[], list[str]],
) -> int:
    """Writes ``--html`` (the figure), then prints ``--json`` (the payload) or the text lines."""
    if args.html:
        Path(args.html).write_text(figure().to_html(), encoding="utf-8")
    print(json.dumps(payload, indent=2) if args.json else "\n".join(lines()))
    return 0
