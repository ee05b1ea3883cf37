"""The job kinds a worker can run: a registry ``kind name -> JobKind`` (adding a kind = one entry).

- ``train``: train or resume a run (``core.jobs.training``); one per run; drives the run's
  status.
- ``export``: export and parity check (``core.jobs.exporting``); one per run.
- ``evaluate``: metrics, mistakes, Grad-CAM (``core.jobs.evaluation``); one per run.
- ``predict_batch``: a zip of images to a CSV (``core.jobs.batch_prediction``); a run is
  optional (the model may be an uploaded file or ImageNet) and any number may queue.
- ``dataset_duplicates``, ``advise_cut``: near-duplicates and leaks of the Data page's dataset,
  and linear-probe accuracy per cut (``core.jobs.dataset_jobs``); no run, any number.

"One per run": submitting the kind again for a run while one is queued or running returns the
existing job (two Resume clicks start one job). A kind's ``check`` runs in the web process at
submission (it must be cheap and never import TensorFlow); its ``run`` runs in the worker.
Importing this module imports no TensorFlow: the kinds import it inside ``run``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config.settings import Settings
from core.errors import StudioError
from core.jobs.analysis import check_analysis, run_analysis
from core.jobs.batch_prediction import check_batch, run_predict_batch
from core.jobs.context import JobContext
from core.jobs.dataset_jobs import run_advise_cut, run_dataset_duplicates
from core.jobs.evaluation import run_evaluate
from core.jobs.exporting import run_export
from core.jobs.training import run_train


@dataclass(frozen=True)
class JobKind:
    """One kind of heavy job.

    Attributes:
        run: the work, in the worker: ``run(context) -> result`` (JSON types).
        label: a noun for messages ("The export failed unexpectedly ...").
        needs_run: the job works on a run of the workspace.
        one_per_run: at most one queued or running job of this kind per run.
        owns_run_status: the job drives the run's ``status.json`` (queued, training, ...), so
            the queue marks the run queued and a lost worker marks it interrupted.
        check: optional cheap validation at submission ``check(job_folder, params, settings)``;
            it raises ``StudioError`` to refuse the job before it is queued.
        disk_action: for a kind that writes much, its name in the "no disk space left for
            ..." refusal of ``core.store.disk.check_disk_room`` (checked at submission).
    """

    run: Callable[[JobContext], dict[str, Any]]
    label: str
    needs_run: bool = True
    one_per_run: bool = True
    owns_run_status: bool = False
    check: Callable[[Path, dict[str, Any], Settings], None] | None = None
    disk_action: str | None = None


KINDS: dict[str, JobKind] = {
    "train": JobKind(run_train, "training", owns_run_status=True, disk_action="training"),
    "export": JobKind(run_export, "export", disk_action="this export"),
    "evaluate": JobKind(run_evaluate, "evaluation"),
    "analyse": JobKind(run_analysis, "analysis", check=check_analysis),
    "predict_batch": JobKind(
        run_predict_batch, "batch prediction", needs_run=False, one_per_run=False,
        check=check_batch, disk_action="this batch prediction",
    ),
    "dataset_duplicates": JobKind(
        run_dataset_duplicates, "duplicates check", needs_run=False, one_per_run=False
    ),
    "advise_cut": JobKind(
        run_advise_cut, "cut-point comparison", needs_run=False, one_per_run=False
    ),
}  # fmt: skip


def get_kind(name: str) -> JobKind:
    """The kind called ``name``.

    Raises:
        StudioError: no such kind.
    """
    if name not in KINDS:
        raise StudioError(f"Unknown job kind '{name}'; choose from {', '.join(KINDS)}.")
    return KINDS[name]
