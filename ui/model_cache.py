"""The web process's bounded model cache (the Predict page's single-image prediction).

Single-image prediction runs in the web process on LiteRT, without TensorFlow: each model is
the TFLite file a short ``predict_model`` job made and checked once (``core.predict.lite``).
Until it is there, the page shows that job's progress and stops (``ensure_quick_model``); the
poll reruns it when the file is ready. A read-only link starts no job: the owner's link
prepares the newest runs when it is made (``prepare_run``), and until then a viewer reads
``NOT_PREPARED``. The loaded models are bounded: ``ModelCache`` holds at
most ``Settings.max_cached_models`` models and at most ``Settings.max_cached_model_mb`` MB (each
counted at its file's size), dropping the least recently used first. A run's model is cached
once per version of its files (the TFLite file and labels.json) and shared by every session; a
session keeps only the cache key, never the model, so a dropped model really leaves memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import streamlit as st

from core.errors import ModelFileError
from core.jobs.request import JobRequest
from core.jobs.snapshot import JobStatus
from core.predict.lite import LitePredictor, lite_files, lite_model_ready
from ui import jobs, session

MODEL_FILE = "model.keras"
QUICK_KIND = "predict_model"
QUICK_KEPT_STATES = ("queued", "running", "finished", "failed")  # not asked again by itself
NOT_PREPARED = (
    "This model is not ready for quick predictions yet. The workspace's owner prepares it by "
    "making the read-only link on the Runs page or by trying the model on the Predict page."
)


def model_mb(predictor: Any) -> float:
    """What a cached model costs: its TFLite file's size in MB (about its weights' memory)."""
    return float(predictor.size_mb)


class ModelCache:
    """A least-recently-used cache of loaded models, bounded by count and parameter memory.

    The model just loaded is always kept (even when it alone is above the memory bound), so
    the page that asked for it gets it; everything older makes room for it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[Any, float]] = OrderedDict()

    def get(
        self,
        key: Hashable,
        load: Callable[[], Any],
        *,
        max_models: int,
        max_mb: float,
        size_mb: Callable[[Any], float] = model_mb,
    ) -> Any:
        """The cached model of ``key``, or ``load()``'s (then cached, evicting the oldest)."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key][0]
        model = load()  # outside the lock: other sessions keep using cached models meanwhile
        with self._lock:
            if key not in self._entries:
                self._entries[key] = (model, size_mb(model))
            self._entries.move_to_end(key)
            self._evict(max_models, max_mb)
            return self._entries[key][0]

    def _evict(self, max_models: int, max_mb: float) -> None:
        """Drops the least recently used models until both bounds hold (the newest stays)."""
        while len(self._entries) > 1 and (
            len(self._entries) > max_models or self.total_mb() > max_mb
        ):
            self._entries.popitem(last=False)

    def total_mb(self) -> float:
        """Parameter memory of the cached models, in MB."""
        return sum(size for _, size in self._entries.values())

    def keys(self) -> list[Hashable]:
        """Cache keys, least recently used first."""
        with self._lock:
            return list(self._entries)


@st.cache_resource
def model_cache() -> ModelCache:
    """The web process's one model cache (kept across script reruns and module reloads)."""
    return ModelCache()


def cached_model(key: Hashable, load: Callable[[], Any]) -> Any:
    """``load()``'s model through the bounded cache, with the spinner of a first load."""
    settings = session.get_settings()

    def load_with_spinner() -> Any:
        with st.spinner("Loading the model..."):
            return load()

    return model_cache().get(
        key,
        load_with_spinner,
        max_models=settings.max_cached_models,
        max_mb=settings.max_cached_model_mb,
    )


def ensure_quick_model(
    folder: Path | None, job: JobStatus | None, submit: Callable[[], str], label: str
) -> Path:
    """``folder`` once it holds a ready quick-prediction model; else waits for its job.

    No job yet (or one stopped or lost): ``submit()`` queues one. While it is queued or
    running, its progress is shown and the page stops; the poll reruns the page when it ended.

    Args:
        folder: where the model is (a run folder, or the job's folder: None until a job ran).
        job: the newest ``predict_model`` job of this model, or None.
        submit: queues a new job; returns its id.
        label: what the job does, for its progress line.

    Raises:
        ModelFileError: the last job failed (its sentence: safe mode refused the file, the
            weights are offline, the TFLite model missed the parity goal...).
    """
    if folder is not None and lite_model_ready(folder):
        return folder
    if job is not None and job.state == "failed":
        raise ModelFileError(job.error or f"{label} failed.")
    job_id = job.job_id if job is not None and not job.done else submit()
    jobs.watch(job_id, job.run_id if job is not None else None, label, "predict_quick", False)
    st.stop()


def run_predictor(run_dir: Path) -> LitePredictor:
    """The (cached) quick predictor of a finished run: its TFLite model on LiteRT.

    Raises:
        ModelFileError: the run's model could not be converted, or its files are damaged, or
            (a read-only link, which starts no job) it has not been prepared yet.
    """
    run_dir = ensure_quick_model(
        run_dir,
        quick_job(run_dir),
        lambda: _submit_for_run(run_dir.name),
        "Preparing this run for quick predictions (once)",
    )
    # labels.json is part of the key: storing a calibration temperature changes predictions.
    mtimes = tuple(
        path.stat().st_mtime if path.is_file() else 0.0
        for path in (lite_files(run_dir)[0], run_dir / "labels.json")
    )
    predictor: LitePredictor = cached_model(
        ("run", str(run_dir.resolve()), mtimes), lambda: LitePredictor(run_dir)
    )
    return predictor


def quick_job(run_dir: Path) -> JobStatus | None:
    """The run's newest ``predict_model`` job that still counts for its current model."""
    latest = jobs.latest(run_dir.name, QUICK_KIND)
    if latest is not None and latest.done and not lite_model_ready(run_dir):
        latest = _newer_than_model(latest, run_dir)
    return latest


def prepare_run(run_dir: Path) -> None:
    """Queues the run's quick-prediction model unless it is ready, on its way or failed (the
    owner's, for the viewers of a read-only link, who start no job).

    Raises:
        StudioError: the job could not be queued (a plain sentence).
    """
    if lite_model_ready(run_dir):
        return
    job = quick_job(run_dir)
    if job is None or job.state not in QUICK_KEPT_STATES:
        jobs.submit(QUICK_KIND, run_dir.name)


def _submit_for_run(run_id: str) -> str:
    """Queues a run's ``predict_model`` job (owner only: a viewer gets ``NOT_PREPARED``).

    Raises:
        ModelFileError: a read-only link. StudioError: the job could not be queued.
    """
    if not session.is_owner():
        raise ModelFileError(NOT_PREPARED)
    return jobs.submit(QUICK_KIND, run_id)


def _newer_than_model(job: JobStatus, run_dir: Path) -> JobStatus | None:
    """``job`` when it was submitted after the run's model was saved; None for an older model's.

    A resumed run saves a new ``model.keras``: the conversion that failed for the old one says
    nothing about it.
    """
    model = run_dir / MODEL_FILE
    submitted = JobRequest.load(job.folder).submitted
    return job if not model.is_file() or submitted >= model.stat().st_mtime else None
