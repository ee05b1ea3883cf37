"""The Predict page's model choice: a run of the workspace, an uploaded file, or ImageNet.

Single images are answered in the web process by LiteRT (``core.predict.lite``), from a TFLite
file a short ``predict_model`` job made once per model and checked against the Keras model; this
process never imports TensorFlow. A run's model is loaded from the bounded cache of
``ui.model_cache`` only when an image is given (its classes and input size come from its
``labels.json``). An uploaded ``.keras`` file is checked against the model caps from the archive
alone (``check_keras_archive``) before anything builds it; the job then loads it with
``safe_mode=True`` in a worker. It is found again by the hash of its bytes, so only someone
with the very same file reaches it. An ImageNet network whose weights cannot be had (offline)
is refused here at once, with the same sentence. A calibrated run (a ``temperature`` in
``labels.json``) and per-class thresholds are said on the page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from core.config.backbones import list_backbones
from core.jobs.find import find_job
from core.predict.imagenet import check_imagenet_weights
from core.predict.lite import LitePredictor
from core.predict.model_file import check_keras_archive, read_labels
from ui import common, jobs, model_cache, run_picker, session

SOURCES = ("A run of this workspace", "Upload a .keras file", "ImageNet (stock network)")
_IMAGENET_FAILED_KEY = "predict.imagenet_failed"


@dataclass
class ModelChoice:
    """The chosen model: what the page shows about it, how to load it, how a batch job names it.

    Attributes:
        source: where it comes from (run id, file name, "ImageNet ..."), shown as text.
        classes, input_size, resize_mode: the model's facts (from ``labels.json`` for a run).
        load: returns the (cached) predictor; single images only.
        key: identifies the model (cache and batch job keys).
        run_id: the run, for a run's model. params, files: the batch job's model part.
        temperature: the calibration temperature (1.0: not calibrated).
        class_thresholds: per class, its own least probability to be answered.
    """

    source: str
    classes: list[str]
    input_size: int
    resize_mode: str
    load: Callable[[], LitePredictor]
    key: tuple[Any, ...]
    run_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    temperature: float = 1.0
    class_thresholds: dict[str, float] = field(default_factory=dict)


def _from_predictor(predictor: LitePredictor, key: tuple[Any, ...], **batch: Any) -> ModelChoice:
    return ModelChoice(
        predictor.source, list(predictor.classes), predictor.input_size, predictor.resize_mode,
        lambda: predictor, key, temperature=predictor.temperature,
        class_thresholds=dict(predictor.class_thresholds), **batch,
    )  # fmt: skip


def choose_model(source: str) -> ModelChoice | None:
    """The model of the chosen source, or None (after saying why) when there is none yet."""
    if source == SOURCES[0]:
        run_dir = run_picker.pick_finished_run("predict_run")
        return None if run_dir is None else run_model(run_dir)
    if source == SOURCES[1]:
        return uploaded_model()
    return imagenet_model()


def run_model(run_dir: Any) -> ModelChoice:
    """A finished run's model: its facts from ``labels.json``, loaded on first use.

    Raises:
        ModelFileError: the run's labels file is missing or damaged.
    """
    labels = read_labels(run_dir / "labels.json")
    return ModelChoice(
        source=run_dir.name,
        classes=list(labels["classes"]),
        input_size=int(labels.get("input_size") or 0),
        resize_mode=str(labels.get("resize_mode", "stretch")),
        load=lambda: model_cache.run_predictor(run_dir),
        key=("run", run_dir.name),
        run_id=run_dir.name,
        temperature=_number(labels.get("temperature"), 1.0),
        class_thresholds=_class_thresholds(labels.get("class_thresholds")),
    )


def _number(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _class_thresholds(value: Any) -> dict[str, float]:
    """The per-class thresholds of a ``labels.json`` (what the predictor will apply)."""
    if not isinstance(value, dict):
        return {}
    return {str(name): _number(p, 0.0) for name, p in value.items()}


def uploaded_model() -> ModelChoice | None:
    """A user's .keras file (caps checked first, then safe_mode=True), with optional labels."""
    settings = session.get_settings()
    model_file = st.file_uploader("Model file (.keras)", type=["keras"], key="predict_model_file")
    labels_file = st.file_uploader(
        "Class names (labels.json, optional)", type=["json"], key="predict_labels_file"
    )
    if model_file is None:
        st.caption(
            "Files are loaded in safe mode: models containing Python code are refused. "
            f"Inputs up to {settings.max_model_input} pixels a side and "
            f"{settings.max_model_params:,} parameters."
        )
        return None
    data = model_file.getvalue()
    classes: list[str] | None = None
    if labels_file is not None:
        try:
            classes = read_labels(labels_file.getvalue())["classes"]
        except ValueError:
            st.warning("labels.json could not be read; classes are numbered instead.")
    # Refused from the archive alone: a huge declared input never reaches Keras.
    check_keras_archive(data, settings.max_model_input, settings.max_model_params)
    sha256 = hashlib.sha256(data).hexdigest()
    key = ("upload", sha256, tuple(classes or ()))
    params = {"model": {"file": "model.keras", "classes": classes}}
    files = {"model.keras": data}
    predictor = _quick_predictor(
        key, {**params, "sha256": sha256}, files, "Checking the uploaded model (safe mode)"
    )
    return _from_predictor(predictor, key, params=params, files=files)


def _quick_predictor(
    key: tuple[Any, ...], params: dict[str, Any], files: dict[str, bytes], label: str
) -> LitePredictor:
    """The quick predictor of a model without a run, made by its ``predict_model`` job once.

    Raises:
        ModelFileError: the job failed (safe mode refused the file, the weights are offline).
    """
    store = session.get_run_store()
    job = find_job(jobs.runner(), store, model_cache.QUICK_KIND, params)
    uploads: dict[str, Any] = dict(files)

    def submit() -> str:
        return jobs.runner().submit(model_cache.QUICK_KIND, store, None, params, uploads)

    finished = job.folder if job is not None and job.state == "finished" else None
    folder = model_cache.ensure_quick_model(finished, job, submit, label)
    predictor: LitePredictor = model_cache.cached_model(
        ("quick", *key), lambda: LitePredictor(folder)
    )
    return predictor


def imagenet_model() -> ModelChoice | None:
    """The stock ImageNet classifier of a backbone, or a plain message when unavailable."""
    options = [info.id for info in list_backbones()]
    backbone = str(
        st.selectbox(
            "Network",
            options,
            index=options.index("mobilenet_v2") if "mobilenet_v2" in options else 0,
            key="predict_imagenet_backbone",
        )
    )
    failures = st.session_state.setdefault(_IMAGENET_FAILED_KEY, {})
    if backbone not in failures:  # offline: do not retry the download on every rerun
        key = ("imagenet", backbone)
        params = {"model": {"imagenet": backbone}}
        try:
            check_imagenet_weights(backbone)  # offline: the sentence at once, no job
            predictor = _quick_predictor(key, params, {}, f"Preparing ImageNet {backbone}")
            return _from_predictor(predictor, key, params=params)
        except ValueError as error:
            failures[backbone] = str(error)
    st.warning(common.escape_markdown(failures[backbone]), icon=":material/cloud_off:")
    return None


def describe(choice: ModelChoice) -> None:
    """One line about the model (source, classes, input), and whether it is calibrated."""
    st.caption(
        f"{common.escape_markdown(choice.source)}: {len(choice.classes)} classes, "
        f"input {choice.input_size}x{choice.input_size} "
        f"({common.escape_markdown(choice.resize_mode)})."
    )
    if choice.temperature != 1.0:
        st.caption(
            f"Calibrated (temperature {choice.temperature:.2f}, fitted on the validation "
            "images): the percentages are calibrated probabilities, so 'not sure' below 80% "
            "means the model is right about 80% of the time or less at that confidence."
        )
    own = {name: p for name, p in choice.class_thresholds.items() if p > 0}
    if own:
        listed = ", ".join(f"{common.escape_markdown(n)} {p:.0%}" for n, p in sorted(own.items()))
        st.caption(
            f"Classes with their own 'not sure' threshold (the higher one counts): {listed}."
        )


def answer_options(choice: ModelChoice) -> tuple[int, float]:
    """How many classes to show per image, and the 'not sure' threshold."""
    left, right = st.columns(2)
    count = max(len(choice.classes), 2)  # one sigmoid unit still answers two classes
    k = left.slider("Top classes shown", 1, min(10, count), min(3, count), key="predict_k")
    threshold = right.slider("Say 'not sure' below", 0.0, 1.0, 0.5, 0.05, key="predict_threshold")
    return int(k), float(threshold)
