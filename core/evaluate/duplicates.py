"""Near-duplicates and leaks among a run's images: perceptual hash plus cached features.

Before training, the Data page can only compare pixels (``core.data.near_duplicates`` with
perceptual hashes and file hashes). After a run, its cached backbone features add what pixels
miss: the same scene shot twice, or cropped. The features come from the feature cache
(``core.evaluate.run_features``), so no image goes through the backbone again. A dedupe writes a
new dataset version with the run's split, minus the duplicate copies.

With augmentation on, the training split's features are the mean of its augmented views, so a
training image and its exact copy in validation score a little under 1.0 in cosine; the
perceptual hash still finds every exact or resized copy.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.config.settings import Settings
from core.data.near_duplicates import (
    MIN_COSINE,
    DuplicateReport,
    find_near_duplicates,
    write_deduplicated_version,
)
from core.data.stored_split import SPLIT_NAMES
from core.evaluate.run_features import load_run_features, read_run_split


def find_run_duplicates(
    run_dir: str | os.PathLike[str],
    settings: Settings | None = None,
    *,
    use_features: bool = True,
    min_cosine: float = MIN_COSINE,
) -> DuplicateReport:
    """Near-duplicate pairs within each split and across splits (leaks) of a run's images.

    Args:
        run_dir: the run folder.
        settings: where the feature cache is.
        use_features: also compare the run's cached features (else hashes only).
        min_cosine: least cosine similarity of the features for a pair.

    Raises:
        DataError: the run's dataset is gone, or an image cannot be decoded.
    """
    loaded = load_run_features(run_dir, settings, splits=SPLIT_NAMES if use_features else ())
    sha1 = {record.path: record.sha1 for record in loaded.run_split.report.records}
    return find_near_duplicates(
        loaded.run_split.split,
        loaded.root,
        sha1=sha1,
        features=loaded.features if use_features else None,
        min_cosine=min_cosine,
    )


def write_run_dedupe_version(
    run_dir: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    report: DuplicateReport,
) -> Path:
    """Writes the run's dataset without the duplicates in ``report`` as a new version.

    Args:
        run_dir: the run the report was made for (``find_run_duplicates``).
        dest: the new version's folder (must not exist).
        report: the flagged pairs; one image of each group is kept (train first).

    Returns:
        The dataset folder of the new version.
    """
    _, run_split = read_run_split(run_dir)
    return write_deduplicated_version(run_split.split, run_split.report.root, report, dest)
