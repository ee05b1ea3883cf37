"""Data commands: ``inspect-data`` (scan and report) and ``sample-data`` (generate the sample).

python -m core inspect-data PATH [--json]     # PATH: a dataset folder or a .zip
python -m core sample-data DEST [--seed N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from core.dataset_scan import DatasetReport, scan_dataset
from core.splits import split_dataset


def register(subparsers: Any) -> None:
    """Adds the data sub-commands to the ``python -m core`` parser."""
    inspect = subparsers.add_parser(
        "inspect-data",
        help="scan a dataset folder or zip: classes, splits, skipped files, warnings",
    )
    inspect.add_argument("path", help="dataset folder (one sub-folder per class) or .zip")
    inspect.add_argument("--json", action="store_true", help="print the report as JSON")
    inspect.add_argument("--val-ratio", type=float, default=0.15, help="validation share")
    inspect.add_argument("--test-ratio", type=float, default=0.15, help="test share")
    inspect.add_argument("--seed", type=int, default=42, help="split seed")
    inspect.set_defaults(handler=inspect_data)

    sample = subparsers.add_parser("sample-data", help="generate the built-in sample dataset")
    sample.add_argument("dest", help="folder to create the sample dataset in")
    sample.add_argument("--seed", type=int, default=0, help="drawing seed")
    sample.set_defaults(handler=sample_data)


def _report_for(path: str, workdir: str) -> DatasetReport:
    """Scans a folder, or a zip extracted safely into ``workdir``."""
    if Path(path).is_file() and path.lower().endswith(".zip"):
        from core.zipsafe import extract_zip

        return scan_dataset(extract_zip(path, Path(workdir) / "dataset"))
    return scan_dataset(path)


def _print_text(report: DatasetReport, planned: dict[str, Any]) -> None:
    counts = report.counts()
    print(f"Dataset: {report.root}")
    print(f"Classes ({len(report.classes)}): {', '.join(report.classes)}")
    source = "given as folders" if report.given_splits else "not given (planned split below)"
    print(f"Splits {source}:")
    for split, per_class in counts.items():
        cells = ", ".join(f"{name} {count}" for name, count in per_class.items())
        print(f"  {split:<5} {sum(per_class.values()):>6}  ({cells})")
    if not report.given_splits or "val" not in counts:
        for split, per_class in planned["splits"].items():
            print(f"  -> {split:<5} {sum(per_class.values()):>6}")
    print(f"Skipped files: {len(report.skipped)}")
    for item in report.skipped:
        print(f"  {report.relative(item.path)}: {item.reason}")
    print(f"Warnings: {len(report.warnings)}")
    for warning in report.warnings:
        print(f"  - {warning}")


def inspect_data(args: argparse.Namespace) -> int:
    """Scans the dataset and prints the summary (text or JSON); DataError exits with 2."""
    with tempfile.TemporaryDirectory(prefix="studio-inspect-") as workdir:
        report = _report_for(args.path, workdir)
        planned = split_dataset(report, args.val_ratio, args.test_ratio, args.seed).to_dict()
        if args.json:
            print(json.dumps({**report.to_dict(), "planned_split": planned}, ensure_ascii=False))
        else:
            _print_text(report, planned)
    return 0


def sample_data(args: argparse.Namespace) -> int:
    """Generates (or finds) the sample dataset and prints its folder."""
    from core.sample_data import ensure_sample_dataset

    print(ensure_sample_dataset(args.dest, seed=args.seed))
    return 0
