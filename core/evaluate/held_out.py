"""The images a run never trained on: its stored test (or validation) split.

Evaluation and the export parity check both take their images from here. The split is the one
stored with the run when training started (``split.json``), so a dataset folder that gained,
lost or changed files since cannot turn a training image into a "held-out" one; the change is
named in ``HeldOut.notes``. Runs from before the split was stored are split again with their
own settings, and the notes say so (``core.data.run_split``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from core.data.run_split import RunSplit, load_run_split
from core.data.stored_split import SPLIT_FILE, read_stored_split
from core.errors import DataError
from core.store.run_config import read_run_config

_SPLIT_KEYS = {"test": "test", "validation": "val"}


@dataclass(frozen=True)
class HeldOut:
    """Held-out images of a run and what the user should know about them."""

    split: str  # "test" or "validation"
    items: list[tuple[str, int]]  # (absolute path, index into ``classes``)
    classes: list[str]
    notes: list[str] = field(default_factory=list)  # plain sentences (dataset changes, ...)


def held_out_items(
    run_dir: str | os.PathLike[str], data_path: str | None = None, prefer: str = "test"
) -> HeldOut:
    """The run's held-out images, from the split stored with it.

    Args:
        run_dir: the run folder (``config.json``, and ``split.json`` for runs that have one).
        data_path: another dataset folder (the data moved, or another dataset with the same
            class names); by default the folder the run was trained on.
        prefer: "test" falls back to validation when the run has no test split;
            "validation" gives validation images (or test ones when there is no validation).

    Raises:
        DataError: the dataset is gone, all the chosen images are gone, or the run has
            neither a test nor a validation split.
        StudioError: the run's config.json cannot be read.
    """
    folder = Path(run_dir)
    config = read_run_config(folder / "config.json")
    run_split = load_run_split(config.data, read_stored_split(folder / SPLIT_FILE), data_path)
    order = ("test", "validation") if prefer == "test" else ("validation", "test")
    for name in order:
        key = _SPLIT_KEYS[name]
        items = list(getattr(run_split.split, key))
        missing = run_split.missing.get(key, [])
        if items or missing:
            return _chosen(run_split, name, items, missing)
    raise DataError("The run has neither a test nor a validation split to evaluate on.")


def _chosen(
    run_split: RunSplit, name: str, items: list[tuple[str, int]], missing: list[str]
) -> HeldOut:
    """The ``name`` split, with a sentence counting the stored images that are gone now."""
    notes = list(run_split.notes)
    if not items:
        raise DataError(
            f"All {len(missing)} {name} images of this run are missing from the dataset folder "
            "now, so there is nothing left to evaluate on."
        )
    if missing:
        noun = "image is" if len(missing) == 1 else "images are"
        notes.append(f"{len(missing)} {name} {noun} missing now and skipped ({len(items)} left).")
    return HeldOut(name, items, list(run_split.split.classes), notes)
