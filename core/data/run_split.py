"""The split a run trained on, applied to its dataset folder as the folder is now.

Training (``start_run_split``), evaluation, export parity and a resumed run all start here: the
run's stored split (``split.json``, see ``core.data.stored_split``) is used whenever it exists,
and a folder that changed since training is named in a plain sentence. Runs from before the
split was stored are split again with the run's own settings (same shares and seed), and say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.config.data import DataConfig
from core.data.pipeline import load_split
from core.data.report import DatasetReport
from core.data.scan import scan_dataset
from core.data.splits import SplitData, split_dataset
from core.data.stored_split import (
    DatasetChanges,
    StoredSplit,
    read_stored_split,
    write_stored_split,
)
from core.errors import DataError

NOT_STORED = (
    "This run was trained before its split was stored with it, so the split was made again "
    "from the dataset folder with the run's settings (same shares and seed). If images were "
    "added or removed since training, some of these images may have been trained on."
)
OTHER_FOLDER = (
    "The folder given holds none of the images this run was split on, so it was split with "
    "the run's settings (same shares and seed)."
)


@dataclass
class RunSplit:
    """A run's split over the dataset folder as it is now.

    Attributes:
        report: the scan of the folder now.
        split: the images to use (absolute paths); stored images missing now are left out.
        stored: True when the run's stored split was used (False: split again).
        changes: what changed in the folder since training (empty when not stored).
        missing: per split, the relative paths of stored images that are gone now.
        notes: plain sentences for the user (changes, re-splitting); empty when all is as
            it was at training time.
    """

    report: DatasetReport
    split: SplitData
    stored: bool
    changes: DatasetChanges = field(default_factory=DatasetChanges)
    missing: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def load_run_split(
    spec: DataConfig, stored: StoredSplit | None, folder: str | None = None
) -> RunSplit:
    """Scans the dataset folder and applies the run's split to it.

    Args:
        spec: the run's data settings (used to split again when nothing is stored).
        stored: the run's ``split.json``, or None for a run trained before it existed.
        folder: another dataset folder (the data moved, or another dataset with the same
            classes); by default the folder the split was made from.

    Returns:
        The split; its ``notes`` say what differs from training time.

    Raises:
        DataError: the dataset folder is not there any more, or cannot be used.
    """
    root = folder or (stored.root if stored is not None else spec.path)
    if not Path(root).expanduser().is_dir():
        name = Path(root).name  # never the whole server path
        raise DataError(
            f"The dataset folder '{name}' does not exist."
            if folder is not None
            else f"The dataset this run was trained on ('{name}') is not available any more; "
            "give the folder where it is now."
        )
    report = scan_dataset(root)
    if stored is None:
        return RunSplit(report, _split_again(report, spec), stored=False, notes=[NOT_STORED])
    changes = stored.compare(report)
    if folder is not None and changes.kept == 0:  # another dataset: nothing to match
        return RunSplit(report, _split_again(report, spec), stored=False, notes=[OTHER_FOLDER])
    split, missing = stored.to_split_data(report)
    notes = [changes.sentence()] if changes else []
    return RunSplit(report, split, True, changes, missing, notes)


def start_run_split(spec: DataConfig, split_file: Path, resume: bool) -> RunSplit:
    """The split a run trains on: its stored one when it resumes, else a new one, stored now.

    A resumed run reuses its stored split rather than splitting again, so no image moves
    between train and held-out; a folder that changed meanwhile is named in the notes. A new
    split is written to ``split_file`` before the first epoch.
    """
    stored = read_stored_split(split_file) if resume else None
    if stored is not None:
        return load_run_split(spec, stored)
    report, split = load_split(spec)
    write_stored_split(split_file, StoredSplit.from_scan(report, split))
    return RunSplit(report, split, stored=True)


def _split_again(report: DatasetReport, spec: DataConfig) -> SplitData:
    return split_dataset(report, spec.val_ratio, spec.test_ratio, spec.seed)
