"""Memory plan of the job queue: every job kind's measured peak, so a job starts only if it fits.

Streamlit Community Cloud gives the whole app about 2.7 GB: the web process (``WEB_PROCESS_MB``
reserved; it never imports TensorFlow) plus the jobs running next to it. ``MEASURED_PEAK_MB``
holds each kind's peak RSS, worker and children included, as ``bench/job_memory.py`` measured
it (MobileNetV2 at 224, the larger of hymenoptera and trashnet6); a job is planned at that peak
plus ``MARGIN``. Another backbone adds its extra parameters over MobileNetV2's, float32, held
twice (the built model and the loaded weights).

How the queue uses it (``core.jobs.submission`` and ``core.jobs.scheduler``):

- at submission, a job whose plan exceeds the memory for jobs (the budget less the web
  process's share) is refused with a plain sentence, except a kind with its own finer guard
  in the worker (training: ``core.train.memory`` lowers the batch size or says what to change);
- a queued job starts only while its plan fits next to the plans of the running local jobs,
  or when nothing runs at all (so a guarded job that can never fit still reaches its guard).

The budget is ``core.train.memory.memory_budget``'s total: ``STUDIO_MEMORY_BUDGET_MB``, else the
container's limit, else the machine's memory; reading it needs no TensorFlow.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from core.config.backbones import get_backbone
from core.config.settings import Settings
from core.errors import StudioError
from core.store.runs import RunStore
from core.train.memory import memory_budget

MB = 2**20
MARGIN = 1.10
WEB_PROCESS_MB = 300.0
REFERENCE_BACKBONE = "mobilenet_v2"  # the backbone the table was measured with
BYTES_PER_EXTRA_PARAM = 4 * 2  # float32, held twice: the built model and the loaded weights
# bench/job_memory.py: peak MB (ru_maxrss of the reaped worker and its children), the larger of
# hymenoptera and trashnet6, MobileNetV2 at 224 with the default recipe.
MEASURED_PEAK_MB: dict[str, float] = {
    "train": 1350,  # cold cache: 3 augmented views extracted, then the head (1213..1350)
    "export": 1260,  # every format with parity (keras alone 968, onnx alone 1126)
    "evaluate": 950,  # with 6 Grad-CAM images
    "predict_batch": 1050,  # 2,000 images
    "analyse:label_issues": 240,  # cached features: no TensorFlow
    "analyse:learning_curve": 225,
    "analyse:calibrate": 930,
    "dataset_duplicates": 135,
    "advise_cut": 1140,
    "predict_model": 1075,
    "model_facts": 730,
    "augment_preview": 705,
}


def table_key(kind: str, params: dict[str, Any]) -> str:
    """The row of ``MEASURED_PEAK_MB`` for a job (each analysis has its own row)."""
    return f"analyse:{params.get('analysis')}" if kind == "analyse" else kind


def planned_peak_mb(kind: str, params: dict[str, Any], backbone_params: int | None = None) -> float:
    """The memory to plan for one job of ``kind``, margin included, in MB.

    Args:
        kind: the job kind; one missing from the table is planned as the largest row.
        params: the job's parameters (they pick the analysis row).
        backbone_params: parameters of the job's backbone (None: MobileNetV2's).
    """
    measured = MEASURED_PEAK_MB.get(table_key(kind, params), max(MEASURED_PEAK_MB.values()))
    reference = get_backbone(REFERENCE_BACKBONE).params_no_top
    extra = max(0, (backbone_params or reference) - reference) * BYTES_PER_EXTRA_PARAM / MB
    return float(round((measured + extra) * MARGIN))


def memory_for_jobs_mb(settings: Settings) -> float:
    """What the local jobs together may use: the budget less the web process's share."""
    return memory_budget(settings.memory_budget_mb).total_mb - WEB_PROCESS_MB


def check_fits_alone(planned_mb: float, settings: Settings, label: str) -> None:
    """Refuses, at submission, a job that would not fit even with nothing else running.

    Raises:
        StudioError: with what it needs and what the server has for jobs.
    """
    room = memory_for_jobs_mb(settings)
    if planned_mb > room:
        raise StudioError(
            f"This {label} needs about {planned_mb / 1024:.1f} GB of memory, but this server "
            f"has {max(room, 0) / 1024:.1f} GB for jobs. Use a smaller backbone or input size, "
            "or run the studio where it has more memory."
        )


def can_start(planned_mb: float, running_mb: list[float], room_mb: float) -> bool:
    """True when a job planned at ``planned_mb`` may start next to the running jobs' plans.

    With nothing running a job always may: it passed ``check_fits_alone`` at submission, or
    its kind has its own guard in the worker.
    """
    return not running_mb or sum(running_mb) + planned_mb <= room_mb


def job_backbone_params(
    store: RunStore, run_id: str | None, params: dict[str, Any], folder: Path
) -> int | None:
    """Parameters of the backbone a job builds, when it is known without building it.

    A run's backbone from its config; a model question's from its parameters; an ImageNet
    network's from the registry; an uploaded ``.keras`` file's from its size (float32).
    """
    backbone: Any = None
    if run_id is not None:
        backbone = _run_backbone(store, run_id)
    elif isinstance(params.get("spec"), dict):
        backbone = params["spec"].get("backbone")
    elif isinstance(params.get("model"), dict):
        model = params["model"]
        backbone = model.get("imagenet")
        if backbone is None and isinstance(model.get("file"), str):
            upload = folder / Path(model["file"]).name
            return upload.stat().st_size // 4 if upload.is_file() else None
    else:
        backbone = params.get("backbone")
    try:
        return get_backbone(str(backbone)).params_no_top if backbone else None
    except (KeyError, ValueError):
        return None


def _run_backbone(store: RunStore, run_id: str) -> str | None:
    """The backbone in a run's config (None when the config cannot be read)."""
    with contextlib.suppress(OSError, ValueError, KeyError, AttributeError, TypeError):
        config: Any = store.load(run_id).config
        model = config["model"] if isinstance(config, dict) else config.model
        return str(model["backbone"] if isinstance(model, dict) else model.backbone)
    return None
