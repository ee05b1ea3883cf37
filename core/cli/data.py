"""Data commands: ``inspect-data`` (scan and report) and ``sample-data`` (generate the sample).

python -m core inspect-data PATH [--json] [--allowed-root DIR ...]   # a folder or a .zip
python -m core sample-data DEST [--seed N]

A folder or zip that only wraps the dataset ("mydata/photos/<classes>") is descended the same way
the app does (``core.data.zipsafe.unwrap_dataset_folder``). With ``--allowed-root`` the path must
lie inside one of those folders, as the app's server-folder source requires (STUDIO_DATA_ROOTS)."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from core.data.report import DatasetReport
from core.data.sample import ensure_sample_dataset
from core.data.scan import resolve_data_folder, scan_dataset
from core.data.splits import split_dataset
from core.data.zipsafe import extract_zip, unwrap_dataset_folder
from core.errors import DataError


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
    inspect.add_argument(
        "--allowed-root",
        action="append",
        default=[],
        metavar="DIR",
        help="refuse PATH outside this folder (repeatable), like the app's folder source",
    )
    inspect.set_defaults(handler=inspect_data)

    sample = subparsers.add_parser("sample-data", help="generate the built-in sample dataset")
    sample.add_argument("dest", help="folder to create the sample dataset in")
    sample.add_argument("--seed", type=int, default=0, help="drawing seed")
    sample.set_defaults(handler=sample_data)


def _confined_zip(path: Path, allowed_roots: list[str]) -> Path:
    """The zip's resolved path when it lies inside an allowed root; DataError otherwise."""
    resolved = path.resolve()
    for root in allowed_roots:
        if resolved.is_relative_to(Path(root).expanduser().resolve()):
            return resolved
    roots = ", ".join(allowed_roots)
    raise DataError(f"The file {str(path)!r} is outside the allowed folders ({roots}).")


def _report_for(path: str, workdir: str, allowed_roots: list[str]) -> DatasetReport:
    """Scans a folder, or a zip extracted safely into ``workdir``; wrappers are descended."""
    source = Path(path).expanduser()
    if source.is_file() and source.suffix.lower() == ".zip":
        if allowed_roots:
            source = _confined_zip(source, allowed_roots)
        return scan_dataset(extract_zip(source, Path(workdir) / "dataset"))
    if allowed_roots:
        return scan_dataset(resolve_data_folder(path, allowed_roots))
    if not source.is_dir():
        raise DataError(f"The dataset folder {path!r} does not exist or is not a folder.")
    return scan_dataset(unwrap_dataset_folder(source))


def _size_line(report: DatasetReport) -> str:
    widths = [record.width for record in report.records]
    heights = [record.height for record in report.records]
    return (
        f"Images: {len(report.records)} usable; width {min(widths)}-{max(widths)} px, "
        f"height {min(heights)}-{max(heights)} px"
    )


def _print_counts(title: str, counts: dict[str, dict[str, int]], arrow: str = "") -> None:
    print(title)
    for split, per_class in counts.items():
        cells = ", ".join(f"{name} {count}" for name, count in per_class.items())
        print(f"  {arrow}{split:<5} {sum(per_class.values()):>6}  ({cells})")


def _print_text(report: DatasetReport, planned: dict[str, Any], args: argparse.Namespace) -> None:
    counts = report.counts()
    print(f"Dataset: {report.root}")
    print(f"Classes ({len(report.classes)}): {', '.join(report.classes)}")
    print(_size_line(report))
    source = "given as folders" if report.given_splits else "not given"
    _print_counts(f"Splits {source}:", counts)
    if not report.given_splits or "val" not in counts:
        ratios = f"val {args.val_ratio:.0%}, test {args.test_ratio:.0%}, seed {args.seed}"
        _print_counts(f"Planned split ({ratios}):", planned["splits"], "-> ")
    print(f"Skipped files: {len(report.skipped)}")
    for item in report.skipped:
        print(f"  {report.relative(item.path)}: {item.reason}")
    print(f"Warnings: {len(report.warnings)}")
    for warning in report.warnings:
        print(f"  - {warning}")


def inspect_data(args: argparse.Namespace) -> int:
    """Scans the dataset and prints the summary (text or JSON); DataError exits with 2."""
    with tempfile.TemporaryDirectory(prefix="studio-inspect-") as workdir:
        report = _report_for(args.path, workdir, args.allowed_root)
        planned = split_dataset(report, args.val_ratio, args.test_ratio, args.seed).to_dict()
        if args.json:
            print(json.dumps({**report.to_dict(), "planned_split": planned}, ensure_ascii=False))
        else:
            _print_text(report, planned, args)
    return 0


def sample_data(args: argparse.Namespace) -> int:
    """Generates (or finds) the sample dataset and prints its folder."""
    print(ensure_sample_dataset(args.dest, seed=args.seed))
    return 0
