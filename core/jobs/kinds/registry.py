"""The job kinds a worker can run: a registry ``kind name -> JobKind`` (adding a kind = one entry).

Each kind is a module of ``core.jobs.kinds`` named as the kind, with ``run(context)`` (in the
worker) and, for some, ``check(folder, params, settings)`` (in the web process, at submission):

- ``train``: train or resume a run; one per run; drives the run's status.
- ``export``: export and parity check; one per run.
- ``evaluate``: metrics, mistakes, Grad-CAM; one per run.
- ``analyse``: label issues, learning curve or calibration of a run; one per run.
- ``predict_batch``: a zip of images to a CSV; a run is optional (the model may be an uploaded
  file or ImageNet); a new one for the same zip and model replaces the older ones.
- ``dataset_duplicates``, ``advise_cut``: near-duplicates and leaks of the Data page's dataset,
  and linear-probe accuracy per cut; no run, any number.
- ``model_facts``, ``augment_preview``: a page's question about a model or the augmentation,
  answered once and stored for every visitor (``core.store.answers``); no run, short.
- ``predict_model``: the TFLite model single-image Predict runs on LiteRT in the web process;
  one per run (queued by itself after a training finished), or for an uploaded file or an
  ImageNet network; short.

The web process never imports TensorFlow: everything that needs a built model is a kind here.
"Short" kinds run in the queue's short lane (``core.jobs.scheduler``): a page's question never
waits behind a training run while memory allows.

"One per run": submitting the kind again for a run while one is queued or running returns the
existing job (two Resume clicks start one job). A kind's ``check`` must be cheap and never
import TensorFlow. Importing this module imports no TensorFlow: a kind module imports the
engine modules that load Keras at import (the training run) inside ``run``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config.settings import Settings
from core.errors import StudioError
from core.jobs.context import JobContext
from core.jobs.kinds import (
    advise_cut,
    analyse,
    augment_preview,
    dataset_duplicates,
    evaluate,
    export,
    model_facts,
    predict_batch,
    predict_model,
    train,
)


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
        input_key: for a kind whose new job replaces the older ones of the same input
            (``core.jobs.replacement``): ``input_key(job_folder, run_id, params)`` names the
            input, its options left out.
        short: a page's question that ends within seconds to a minute; it runs in the
            queue's short lane (``core.jobs.scheduler``), never behind a training run.
        own_memory_guard: the kind checks its memory itself in the worker, finer than the
            queue's plan (training lowers its batch size), so the queue never refuses it at
            submission (``core.jobs.memory_plan``).
        then: a kind to queue for the same run once a job of this kind finished.
    """

    run: Callable[[JobContext], dict[str, Any]]
    label: str
    needs_run: bool = True
    one_per_run: bool = True
    owns_run_status: bool = False
    check: Callable[[Path, dict[str, Any], Settings], None] | None = None
    disk_action: str | None = None
    input_key: Callable[[Path, str | None, dict[str, Any]], str] | None = None
    short: bool = False
    own_memory_guard: bool = False
    then: str | None = None


KINDS: dict[str, JobKind] = {
    "train": JobKind(
        train.run, "training", owns_run_status=True, disk_action="training",
        own_memory_guard=True, then="predict_model",
    ),
    "export": JobKind(export.run, "export", disk_action="this export"),
    "evaluate": JobKind(evaluate.run, "evaluation"),
    "analyse": JobKind(analyse.run, "analysis", check=analyse.check),
    "predict_batch": JobKind(
        predict_batch.run, "batch prediction", needs_run=False, one_per_run=False,
        check=predict_batch.check, disk_action="this batch prediction",
        input_key=predict_batch.input_key,
    ),
    "dataset_duplicates": JobKind(
        dataset_duplicates.run, "duplicates check", needs_run=False, one_per_run=False
    ),
    "advise_cut": JobKind(
        advise_cut.run, "cut-point comparison", needs_run=False, one_per_run=False
    ),
    "model_facts": JobKind(
        model_facts.run, "model check", needs_run=False, one_per_run=False, short=True
    ),
    "augment_preview": JobKind(
        augment_preview.run, "augmentation preview", needs_run=False, one_per_run=False,
        short=True,
    ),
    "predict_model": JobKind(
        predict_model.run, "quick-prediction model", needs_run=False, check=predict_model.check,
        short=True,
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
