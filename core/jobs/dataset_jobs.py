"""Job kinds about a dataset before any training: near-duplicates and leaks, and cut advice.

Both work on the dataset chosen on the Data page (no run): ``params["data"]`` is its
``DataConfig.to_dict()``, so the worker scans and splits the folder exactly as the page did (the
split is deterministic in the spec).

- ``dataset_duplicates``: perceptual and file hashes of every image
  (``core.data.near_duplicates``); pairs across splits are leaks. Result:
  ``DuplicateReport.to_dict()`` (``images``, ``pairs``, ``leaks``, ``counts``, ``flagged``).
  No TensorFlow; a job all the same, because decoding 10,000 images takes a while.
- ``advise_cut``: linear-probe validation accuracy at the recommended cuts of
  ``params["backbone"]`` at ``params["input_size"]`` with ``params["weights"]``
  (``core.evaluate.cut_advisor``); ``params["extra_cuts"]`` adds layers to score. Result:
  ``CutAdvice.to_dict()`` (rows, chosen, default, advice, seconds).

A page finds its job again after a reload with ``find_job`` (the newest job of the kind with
the same parameters), and turns a finished duplicates result back into pairs with
``pairs_from_result`` to write the deduplicated version.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from core.config.data import DataConfig
from core.data.near_duplicates import DuplicatePair
from core.errors import StudioError
from core.jobs.context import JobContext
from core.jobs.request import JobRequest

if TYPE_CHECKING:
    from core.jobs.snapshot import JobStatus
    from core.store.runs import RunStore

HASH_CHUNK = 64  # images per progress report while hashing
MAX_JOBS_SEARCHED = 20  # newest job folders of a kind that ``find_job`` reads


@contextlib.contextmanager
def _plain_errors() -> Iterator[None]:
    """Turns the engine's ``ValueError`` sentences into ``StudioError`` (shown as written).

    The engine raises ``ValueError`` with a sentence for the user (no validation images, an
    unknown layer); the worker would otherwise call it an unexpected failure.
    """
    try:
        yield
    except StudioError:
        raise
    except ValueError as error:
        raise StudioError(str(error)) from error


def _data_spec(params: dict[str, Any]) -> DataConfig:
    """The job's dataset settings; a missing or invalid one is a plain refusal."""
    data = params.get("data")
    if not isinstance(data, dict):
        raise StudioError("This job names no dataset; load one on the Data page.")
    with _plain_errors():
        return DataConfig.from_dict(data)


def run_dataset_duplicates(context: JobContext) -> dict[str, Any]:
    """Finds near-duplicate pairs and leaks of the job's dataset; see the module docstring."""
    from core.data.near_duplicates import find_near_duplicates, perceptual_hashes
    from core.data.scan import scan_dataset
    from core.data.splits import split_dataset

    spec = _data_spec(context.params)
    context.report(0.02, "Reading the dataset.")
    with _plain_errors():
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


def run_advise_cut(context: JobContext) -> dict[str, Any]:
    """Scores the recommended cuts of the job's backbone on its dataset (module docstring)."""
    from core.evaluate.cut_advisor import advise_cut

    params = context.params
    spec = _data_spec(params)
    backbone = str(params.get("backbone") or "")
    extra = tuple(str(cut) for cut in params.get("extra_cuts") or ())
    context.report(0.05, "Passing the images through the backbone once, at every cut.")
    with _plain_errors():
        advice = advise_cut(
            spec, backbone, input_size=params.get("input_size"),
            weights=str(params.get("weights") or "imagenet"), extra_cuts=extra,
            settings=context.settings,
        )  # fmt: skip
    context.report(1.0, advice.sentence())
    return advice.to_dict()


def pairs_from_result(result: dict[str, Any]) -> list[DuplicatePair]:
    """The pairs of a finished ``dataset_duplicates`` job (its ``flagged`` rows).

    Raises:
        StudioError: the result is not one of a duplicates job.
    """
    fields = DuplicatePair.__dataclass_fields__
    try:
        return [
            DuplicatePair(**{name: row[name] for name in fields})
            for row in result.get("flagged") or []
        ]
    except (KeyError, TypeError) as error:
        raise StudioError("This duplicates check has no readable result; check again.") from error


class _JobFinder(Protocol):
    """What ``find_job`` needs of ``core.jobs.runner.JobRunner`` (which imports this module)."""

    def latest_job(
        self,
        store: RunStore,
        run_id: str | None,
        kind: str,
        where: Callable[[JobRequest], bool] | None = None,
        limit: int | None = None,
    ) -> JobStatus | None:
        """The newest job of ``kind`` whose request passes ``where``."""
        ...


def find_job(
    runner: _JobFinder, store: RunStore, kind: str, params: dict[str, Any]
) -> JobStatus | None:
    """The newest workspace job of ``kind`` submitted with exactly ``params``, or None.

    Lets a page re-attach to its job after a reload, and tell a result of the current
    dataset (and model) from one of an earlier choice. Reads at most ``MAX_JOBS_SEARCHED``
    job folders.
    """
    wanted = json.loads(json.dumps(params))  # as request.json holds them (tuples -> lists)
    return runner.latest_job(
        store, None, kind, where=lambda request: request.kind == kind and request.params == wanted,
        limit=MAX_JOBS_SEARCHED,
    )  # fmt: skip
