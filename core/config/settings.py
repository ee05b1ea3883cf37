"""Process-wide settings of the studio, read once from environment variables.

Every value has a default that suits a single-user laptop; a shared deployment (Streamlit
Cloud, a team server) changes them with ``STUDIO_*`` environment variables, listed in
``Settings.from_env``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from core.config.base import ConfigMixin

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name} must be 1/0, true/false, yes/no or on/off, got '{raw}'.")


def _parse_number(name: str, raw: str, kind: type[int] | type[float]) -> float:
    try:
        return kind(raw.strip())
    except ValueError as error:
        raise ValueError(f"{name} must be a number, got '{raw}'.") from error


@dataclass(frozen=True)
class Settings(ConfigMixin):
    """Where the studio keeps its files and which limits it enforces.

    Attributes:
        runs_dir: folder holding one sub-folder per workspace, each with its runs.
        cache_dir: folder for cached backbone features (``features/``) and export bundles
            (``exports/<workspace>/<run>``); both count towards ``disk_cap_mb``.
        data_dir: folder for uploaded/extracted datasets.
        max_jobs: how many long jobs (training, export, evaluation, batch prediction, the
            analyses) run at once, each in its own worker process; the rest wait in a queue
            (``core.jobs.runner``). The pages' short questions (a model's layers or summary,
            an augmentation preview, the quick-prediction model) have a lane of as many slots
            of their own; every start also needs its planned memory (``core.jobs.scheduler``).
        shared_workspace: True lets everyone use one workspace (single-user local use).
        folder_source_roots: server folders a visitor may train from; empty turns the
            "folder path" data source off.
        disk_cap_mb: size limit of ``runs_dir`` plus ``cache_dir``; when it is exceeded the
            least recently used cached features go first, then the oldest finished runs of
            inactive workspaces (see ``core.store.workspace.enforce_disk_cap``).
        memory_budget_mb: the server's memory, in MB, that jobs plan with; None (the default)
            measures it: the container's cgroup limit, else the machine's memory. The queue
            starts a job when the planned peaks of the running jobs and its own fit in it less
            the web process's share (``core.jobs.memory_plan``); a training job then plans its
            batch size with what is really free when it starts (the limit minus what is used,
            ``core.train.memory.memory_budget``).
        max_batch_images: most images one batch prediction (a zip) may hold; a larger zip is
            refused before anything is extracted.
        max_model_input: largest input side (pixels) of a ``.keras`` file uploaded on Predict;
            checked from the file's config before the model is built.
        max_model_params: most parameters such an uploaded model may have (counted from the
            file's config and weights before it is built).
        max_workspace_jobs: most jobs one workspace may have queued or running at once (the
            queue takes turns between workspaces, ``core.jobs.fairness``).
        max_sweep_runs: most runs one sweep may start.
        max_dataset_versions: most saved dataset versions (label fixes, deduplicated copies)
            one workspace may keep.
        max_batch_jobs: most batch predictions one workspace may have queued or running.
        max_cached_models: most loaded models the web process keeps for Predict and Evaluate.
        max_cached_model_mb: most parameter memory (MB) those cached models may hold together;
            the least recently used model is dropped first.
        heartbeat_stale_s: a run whose status was not refreshed for this long, by a process
            other than this one, is considered interrupted.
        workspace_idle_s: a workspace with no activity for this long counts as inactive for
            the disk retention policy.
        extract_batch_size: images per call of a frozen extractor while caching features
            (at most the training batch size). Measured on 2 CPU cores, MobileNetV2 at 224,
            hymenoptera with 3 cached views: peak RSS 1201 MB at 16 (22 s extraction) vs
            1075 MB at 8 (27 s); 32 was no faster than 16. Lower it on a tight server.
        mlflow_tracking_uri: when set, every run is also tracked in MLflow at this URI
            (``core.train.tracking``; needs ``requirements-extra.txt``).
        ray_address: when set (``ray://…``, ``host:port`` or ``auto``), each job runs as a Ray
            task on that cluster instead of a local process (``core.jobs.ray_executor``; needs
            ``requirements-cluster.txt``). Every node must see the same ``runs_dir`` path.
        ray_job_cpus, ray_job_gpus, ray_job_memory_mb: what each job asks the cluster for
            (memory None = no reservation).
        quick_predict_after_training: when a training run finished, queue the conversion of
            its model for single-image Predict (the ``predict_model`` job kind), so the Predict
            page answers at once; off, the page queues it on its first visit.
    """

    runs_dir: str = "runs"
    cache_dir: str = ".studio_cache"
    data_dir: str = ".studio_data"
    max_jobs: int = 1
    shared_workspace: bool = False
    folder_source_roots: tuple[str, ...] = ()
    disk_cap_mb: float = 2048.0
    memory_budget_mb: float | None = None
    heartbeat_stale_s: float = 60.0
    workspace_idle_s: float = 24 * 3600.0
    extract_batch_size: int = 16
    max_batch_images: int = 2000
    max_model_input: int = 1024
    max_model_params: int = 100_000_000
    max_workspace_jobs: int = 40
    max_sweep_runs: int = 36
    max_dataset_versions: int = 10
    max_batch_jobs: int = 4
    max_cached_models: int = 4
    max_cached_model_mb: float = 512.0
    mlflow_tracking_uri: str | None = None
    ray_address: str | None = None
    ray_job_cpus: float = 1.0
    ray_job_gpus: float = 0.0
    ray_job_memory_mb: float | None = None
    quick_predict_after_training: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.max_jobs, int) or self.max_jobs < 1:
            raise ValueError(
                f"The number of concurrent jobs must be at least 1, got {self.max_jobs}."
            )
        if not isinstance(self.extract_batch_size, int) or self.extract_batch_size < 1:
            raise ValueError(
                f"The extraction batch size must be at least 1, got {self.extract_batch_size}."
            )
        for name, label in (
            ("max_batch_images", "batch prediction image cap"),
            ("max_model_input", "model input size cap"),
            ("max_model_params", "model parameter cap"),
            ("max_cached_models", "number of cached models"),
            ("max_workspace_jobs", "number of jobs per workspace"),
            ("max_sweep_runs", "number of runs per sweep"),
            ("max_dataset_versions", "number of dataset versions per workspace"),
            ("max_batch_jobs", "number of batch predictions per workspace"),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"The {label} must be at least 1, got {value}.")
        for name in (
            "disk_cap_mb", "memory_budget_mb", "heartbeat_stale_s", "workspace_idle_s",
            "max_cached_model_mb", "ray_job_cpus", "ray_job_memory_mb",
        ):  # fmt: skip
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"Setting {name} must be positive, got {value}.")
        if self.ray_job_gpus < 0:
            raise ValueError(f"Setting ray_job_gpus must be 0 or more, got {self.ray_job_gpus}.")
        for name in ("runs_dir", "cache_dir", "data_dir"):
            if not str(getattr(self, name)).strip():
                raise ValueError(f"Setting {name} must name a folder.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Reads the settings from environment variables (defaults for missing ones).

        Variables: ``STUDIO_RUNS_DIR``, ``STUDIO_CACHE_DIR``, ``STUDIO_DATA_DIR``,
        ``STUDIO_MAX_JOBS``, ``STUDIO_SHARED_WORKSPACE`` (1/0), ``STUDIO_DATA_ROOTS``
        (folders separated by ``os.pathsep``), ``STUDIO_DISK_CAP_MB``,
        ``STUDIO_MEMORY_BUDGET_MB``, ``STUDIO_HEARTBEAT_STALE_S``, ``STUDIO_WORKSPACE_IDLE_S``,
        ``STUDIO_EXTRACT_BATCH_SIZE``, ``STUDIO_MAX_BATCH_IMAGES``, ``STUDIO_MAX_MODEL_INPUT``,
        ``STUDIO_MAX_MODEL_PARAMS``, ``STUDIO_MAX_WORKSPACE_JOBS``, ``STUDIO_MAX_SWEEP_RUNS``,
        ``STUDIO_MAX_DATASET_VERSIONS``, ``STUDIO_MAX_BATCH_JOBS``, ``STUDIO_MAX_CACHED_MODELS``,
        ``STUDIO_MAX_CACHED_MODEL_MB``, ``STUDIO_MLFLOW_TRACKING_URI``, ``STUDIO_RAY_ADDRESS``,
        ``STUDIO_RAY_JOB_CPUS``, ``STUDIO_RAY_JOB_GPUS``, ``STUDIO_RAY_JOB_MEMORY_MB``,
        ``STUDIO_QUICK_PREDICT_AFTER_TRAINING`` (1/0). An
        unset or empty ``STUDIO_MEMORY_BUDGET_MB`` means "measure what is free" (see
        ``memory_budget_mb``).

        Raises:
            ValueError: when a variable holds a value that cannot be used.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for key, field, kind in (
            ("STUDIO_RUNS_DIR", "runs_dir", str),
            ("STUDIO_CACHE_DIR", "cache_dir", str),
            ("STUDIO_DATA_DIR", "data_dir", str),
            ("STUDIO_MAX_JOBS", "max_jobs", int),
            ("STUDIO_DISK_CAP_MB", "disk_cap_mb", float),
            ("STUDIO_MEMORY_BUDGET_MB", "memory_budget_mb", float),
            ("STUDIO_HEARTBEAT_STALE_S", "heartbeat_stale_s", float),
            ("STUDIO_WORKSPACE_IDLE_S", "workspace_idle_s", float),
            ("STUDIO_EXTRACT_BATCH_SIZE", "extract_batch_size", int),
            ("STUDIO_MAX_BATCH_IMAGES", "max_batch_images", int),
            ("STUDIO_MAX_MODEL_INPUT", "max_model_input", int),
            ("STUDIO_MAX_MODEL_PARAMS", "max_model_params", int),
            ("STUDIO_MAX_WORKSPACE_JOBS", "max_workspace_jobs", int),
            ("STUDIO_MAX_SWEEP_RUNS", "max_sweep_runs", int),
            ("STUDIO_MAX_DATASET_VERSIONS", "max_dataset_versions", int),
            ("STUDIO_MAX_BATCH_JOBS", "max_batch_jobs", int),
            ("STUDIO_MAX_CACHED_MODELS", "max_cached_models", int),
            ("STUDIO_MAX_CACHED_MODEL_MB", "max_cached_model_mb", float),
            ("STUDIO_MLFLOW_TRACKING_URI", "mlflow_tracking_uri", str),
            ("STUDIO_RAY_ADDRESS", "ray_address", str),
            ("STUDIO_RAY_JOB_CPUS", "ray_job_cpus", float),
            ("STUDIO_RAY_JOB_GPUS", "ray_job_gpus", float),
            ("STUDIO_RAY_JOB_MEMORY_MB", "ray_job_memory_mb", float),
        ):
            raw = env.get(key)
            if raw is None or raw.strip() == "":
                continue
            values[field] = raw if kind is str else _parse_number(key, raw, kind)  # type: ignore[arg-type]
        for key, field in (
            ("STUDIO_SHARED_WORKSPACE", "shared_workspace"),
            ("STUDIO_QUICK_PREDICT_AFTER_TRAINING", "quick_predict_after_training"),
        ):
            if env.get(key) is not None:
                values[field] = _parse_bool(key, env[key])
        roots = env.get("STUDIO_DATA_ROOTS", "")
        values["folder_source_roots"] = tuple(p for p in roots.split(os.pathsep) if p.strip())
        return cls(**values)  # type: ignore[arg-type]
