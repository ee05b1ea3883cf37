"""The ``dataset_duplicates`` job kind: near-duplicates and leaks of the Data page's dataset.

It works on the dataset chosen on the Data page (no run): ``params["data"]`` is its
``DataConfig.to_dict()``, so the worker scans and splits the folder exactly as the page did
(the split is deterministic in the config). Perceptual and file hashes of every image
(``core.data.near_duplicates``); pairs across splits are leaks. Result:
``DuplicateReport.to_dict()`` (``images``, ``pairs``, ``leaks``, ``counts``, ``flagged``), read
back as a ``DuplicatesResult``.
No TensorFlow; a job all the same, because decoding 10,000 images takes a while.

A page finds its job again after a reload with ``core.jobs.runner.find_job`` (the newest job
of the kind with the same parameters), and turns a finished result back into pairs with
``DuplicatesResult.duplicate_pairs`` to write the deduplicated version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from core.data.near_duplicates import DuplicatePair, find_near_duplicates, perceptual_hashes
from core.data.scan import scan_dataset
from core.data.splits import split_dataset
from core.errors import StudioError, plain_errors
from core.jobs.context import JobContext
from core.store.json_record import (
    JsonFileRecord,
    JsonObject,
    Reader,
    flag,
    integer,
    number_map,
    objects,
)

HASH_CHUNK = 64  # images per progress report while hashing


def run(context: JobContext) -> dict[str, Any]:
    """Finds near-duplicate pairs and leaks of the job's dataset; see the module docstring."""
    spec = context.data_config()
    context.report(0.02, "Reading the dataset.")
    with plain_errors():
        report = scan_dataset(spec.path)
        split = split_dataset(report, spec.val_ratio, spec.test_ratio, spec.seed)

    def hashes(paths: list[str]) -> np.ndarray:
        parts = []
        for start in range(0, len(paths), HASH_CHUNK):
            parts.append(perceptual_hashes(paths[start : start + HASH_CHUNK]))
            done = min(start + HASH_CHUNK, len(paths))
            context.report(0.05 + 0.9 * done / max(len(paths), 1))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)

    context.report(0.05, f"Comparing {len(report.records)} images.")
    sha1 = {record.path: record.sha1 for record in report.records}
    found = find_near_duplicates(split, report.root, sha1=sha1, hashes=hashes)
    context.report(1.0, f"{len(found.pairs)} pairs, {len(found.leaks)} across splits.")
    return found.to_dict()


def pairs_from_result(result: dict[str, Any]) -> list[DuplicatePair]:
    """The pairs of a finished ``dataset_duplicates`` job (its ``flagged`` rows).

    Raises:
        StudioError: the result is not one of a duplicates job.
    """
    return DuplicatesResult.from_dict(result).duplicate_pairs()


_READERS: dict[str, Reader] = {
    **dict.fromkeys(("images", "pairs", "leaks"), integer),
    "features_used": flag,
    "counts": number_map,
    "flagged": objects,
}


@dataclass(frozen=True)
class DuplicatesResult(JsonFileRecord):
    """A finished ``dataset_duplicates`` job's ``result.json`` (``DuplicateReport.to_dict()``).

    Attributes:
        images: images compared; features_used: whether backbone features were compared too.
        pairs: flagged pairs; leaks: those across splits; counts: pairs per kind of pair.
        flagged: every pair as stored (``DuplicatePair.to_dict()``).
        extra: any other key (or a value of another type), kept as stored.
    """

    images: int | None = None
    features_used: bool | None = None
    pairs: int | None = None
    leaks: int | None = None
    counts: dict[str, float] | None = None
    flagged: tuple[JsonObject, ...] | None = None
    extra: JsonObject = field(default_factory=dict)
    keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)
    READERS: ClassVar[Mapping[str, Reader]] = _READERS

    def duplicate_pairs(self) -> list[DuplicatePair]:
        """The flagged pairs, to show and to write the deduplicated version.

        Raises:
            StudioError: a flagged row is not a pair (not a duplicates job's result).
        """
        names = DuplicatePair.__dataclass_fields__
        if "flagged" in self.extra:  # stored, but not a list of objects
            raise StudioError("This duplicates check has no readable result; check again.")
        try:
            return [
                DuplicatePair(**{name: row[name] for name in names}) for row in self.flagged or ()
            ]
        except KeyError as error:
            raise StudioError(
                "This duplicates check has no readable result; check again."
            ) from error
