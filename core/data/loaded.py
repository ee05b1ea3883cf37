"""A dataset ready for the next steps: its settings, what the scan found, and its split.

The Data page (and a browser session that re-attaches the workspace's dataset) loads a folder
with ``scan_and_split``: one scan (``core.data.scan``), then the stratified split with the
config's shares and seed (``core.data.splits``). Nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.config.data import DataConfig
from core.data.checks import dataset_warnings
from core.data.report import DatasetReport, SkippedFile
from core.data.scan import scan_dataset
from core.data.splits import SplitData, split_dataset


@dataclass(frozen=True)
class LoadedDataset:
    """A scanned and split dataset.

    Attributes:
        spec: Where the images are and how they are split and augmented.
        report: What the scan found (classes, images, skipped files, warnings).
        split: The train/validation/test lists built from ``report`` with ``spec``'s ratios.
        source: A short description of where the data came from (for status panels).
    """

    spec: DataConfig
    report: DatasetReport
    split: SplitData
    source: str


def scan_and_split(
    spec: DataConfig, source: str, skipped: list[SkippedFile] | None = None
) -> LoadedDataset:
    """Scans ``spec.path`` and splits it with ``spec``'s settings (stores nothing).

    Args:
        spec: Where the images are and how to split, resize and augment them.
        source: Short description for the status panels.
        skipped: files refused before they reached the folder (listed as skipped too).

    Raises:
        DataError: if the folder holds no usable dataset (message for the user).
    """
    report = scan_dataset(Path(spec.path))
    if skipped:
        report.skipped = [*skipped, *report.skipped]
        report.warnings = dataset_warnings(report)  # they count in "N files were skipped"
    split = split_dataset(report, spec.val_ratio, spec.test_ratio, spec.seed)
    return LoadedDataset(spec=spec, report=report, split=split, source=source)
