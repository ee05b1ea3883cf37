"""Images whose label is probably wrong, found by cleanlab, and a corrected dataset version.

How: every image gets class probabilities from a linear probe that never saw it (5-fold
out-of-fold probabilities on the run's cached features, ``core.evaluate.linear_probe``), and
cleanlab's ``find_label_issues`` (confident learning, Northcutt et al.) picks and ranks the
images whose given label disagrees with those probabilities beyond the noise it estimates per
class pair. The ranking is cleanlab's ("self_confidence": lowest probability of the given label
first); no scoring of our own.

Each issue suggests the most likely other class. The user keeps, relabels or removes it;
``write_corrected_version`` writes the decisions as a new dataset version (the run's split kept,
originals untouched: ``core.data.dataset_version``) for a retrain.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.config.settings import Settings
from core.data.dataset_version import version_images, write_dataset_version
from core.data.stored_split import SPLIT_NAMES
from core.evaluate.linear_probe import out_of_fold_probabilities
from core.evaluate.run_features import RunFeatures, load_run_features, read_run_split


@dataclass(frozen=True)
class LabelIssue:
    """One image cleanlab flags, in its ranking order.

    Attributes:
        path: relative to the dataset folder.
        split: "train", "val" or "test".
        given_label: the class it is filed under.
        suggested_label: the class the out-of-fold probabilities favour most.
        confidence: out-of-fold probability of ``suggested_label``.
        label_quality: out-of-fold probability of ``given_label`` (cleanlab's self-confidence;
            the lower, the likelier the label is wrong).
    """

    path: str
    split: str
    given_label: str
    suggested_label: str
    confidence: float
    label_quality: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return asdict(self)


@dataclass(frozen=True)
class LabelIssueReport:
    """The ranked issues and what they were computed from."""

    issues: list[LabelIssue]
    images: int  # images checked
    splits: tuple[str, ...]
    folds: int
    sources: dict[str, str]  # split -> where its features came from (``run_features``)
    extracted_images: int  # 0 when every feature came from the cache
    chance_flags: int = 0  # flags to expect even if every label were right (``chance_flags``)
    root: str = ""  # the dataset folder the paths are relative to (to show the images; a
    # server path, so it is left out of ``to_dict``)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {
            "images": self.images,
            "splits": list(self.splits),
            "folds": self.folds,
            "feature_sources": self.sources,
            "extracted_images": self.extracted_images,
            "chance_flags": self.chance_flags,
            "issues": [issue.to_dict() for issue in self.issues],
        }


def rank_label_issues(
    features: np.ndarray, labels: np.ndarray, num_classes: int, folds: int = 5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the label issues, ranked by cleanlab, and the out-of-fold probabilities.

    Args:
        features: (N, D) pooled features.
        labels: (N,) given class indices.
        num_classes: number of classes.
        folds: folds of the out-of-fold probabilities.
        seed: shuffles the folds.

    Raises:
        ValueError: a class has fewer than two images.
    """
    from cleanlab.filter import find_label_issues

    probabilities = out_of_fold_probabilities(features, labels, num_classes, folds, seed)
    ranked = find_label_issues(
        labels=np.asarray(labels),
        pred_probs=probabilities,
        return_indices_ranked_by="self_confidence",
        n_jobs=1,  # its default forks a worker per core, each a copy of this process
    )
    return np.asarray(ranked, dtype=np.int64), probabilities


def find_run_label_issues(
    run_dir: str | os.PathLike[str],
    settings: Settings | None = None,
    *,
    splits: tuple[str, ...] = SPLIT_NAMES,
    folds: int = 5,
    seed: int = 0,
) -> LabelIssueReport:
    """Label issues among the run's images (``splits``), most likely wrong first.

    The run's cached features are used (``core.evaluate.run_features``), so a run that cached
    its features needs no backbone pass. All chosen splits are checked together: more images
    give the probe better probabilities, and a wrong label in the test split skews the score.

    Raises:
        ValueError: a class has fewer than two images among the chosen splits.
        DataError: the run's dataset is gone.
    """
    loaded = load_run_features(run_dir, settings, splits=splits)
    names = [name for name in splits if name in loaded.features]
    features = np.concatenate([loaded.features[name] for name in names])
    labels = np.concatenate([loaded.labels[name] for name in names])
    where = [(name, path) for name in names for path in loaded.paths(name)]
    ranked, probabilities = rank_label_issues(
        features, labels, len(loaded.classes), folds=folds, seed=seed
    )
    return LabelIssueReport(
        issues=[_issue(loaded, where, labels, probabilities, int(i)) for i in ranked],
        images=len(labels),
        splits=tuple(names),
        folds=folds,
        sources=dict(loaded.source),
        extracted_images=loaded.extracted_images,
        chance_flags=chance_flags(probabilities),
        root=loaded.root,
    )


def chance_flags(probabilities: np.ndarray) -> int:
    """About how many images a probe this unsure would disagree with if every label were right.

    Each image's doubt is ``1 - its top out-of-fold probability``: for a calibrated probe, the
    chance its answer is wrong. Their sum is the number of disagreements (candidate flags) to
    expect from the probe's own uncertainty; far more flags than that point at real label
    errors, about as many are mostly chance.
    """
    if len(probabilities) == 0:
        return 0
    return round(float(np.sum(1.0 - np.max(probabilities, axis=1))))


ONE_CLICK_SPLITS = ("train", "val")  # test labels are edited only when the user asks


def one_click_editable(issue: Mapping[str, Any], include_test: bool = False) -> bool:
    """Whether the gallery offers one-click edits of a flagged image.

    Test images are left out by default: relabelling test images after looking at the model's
    mistakes fits the test set to the model, and the test score stops being honest.
    """
    return include_test or issue.get("split") in ONE_CLICK_SPLITS


def _issue(
    loaded: RunFeatures,
    where: list[tuple[str, str]],
    labels: np.ndarray,
    probabilities: np.ndarray,
    index: int,
) -> LabelIssue:
    """The issue of image ``index``: its suggestion is the likeliest class other than its own."""
    row = probabilities[index].copy()
    given = int(labels[index])
    quality = float(row[given])
    row[given] = -1.0
    suggested = int(np.argmax(row))
    split, path = where[index]
    return LabelIssue(
        path=path,
        split=split,
        given_label=loaded.classes[given],
        suggested_label=loaded.classes[suggested],
        confidence=round(float(probabilities[index, suggested]), 4),
        label_quality=round(quality, 4),
    )


def write_corrected_version(
    run_dir: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    relabel: Mapping[str, str] | None = None,
    remove: Iterable[str] = (),
) -> Path:
    """Writes the run's dataset with the user's decisions as a new dataset version.

    The run's split is kept (train/val/test folders), the original folder is never changed.

    Args:
        run_dir: the run whose dataset (and split) is corrected.
        dest: the new version's folder (must not exist); e.g.
            ``core.store.workspace.new_upload_dir(settings, store, "upload")`` in the app.
        relabel: relative path -> the class it belongs to.
        remove: relative paths to leave out.

    Returns:
        The dataset folder of the new version (train a run on it to retrain).

    Raises:
        ValueError: a decision names an unknown image or class, or nothing is left to train on.
        DataError: the run's dataset is gone.
    """
    _, run_split = read_run_split(run_dir)
    root = run_split.report.root
    relabel = dict(relabel or {})
    removed = sorted(set(remove))
    changes = [{"path": path, "action": "relabel", "to": label} for path, label in relabel.items()]
    changes += [{"path": path, "action": "remove"} for path in removed]
    images = version_images(run_split.split, root, relabel=relabel, remove=removed)
    return write_dataset_version(dest, images, kind="label-fix", source_root=root, changes=changes)
