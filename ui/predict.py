"""The Predict page's parts: choosing a model (a run, an uploaded file, ImageNet) and using it.

Single images are classified in the web process with a model from the bounded cache of
``ui.run_picker`` (a run's model is loaded only when an image is given: its classes and input
size come from its ``labels.json``). A zip of images is a ``predict_batch`` job in a worker
process (``ui.jobs``), capped at ``Settings.max_batch_images`` images; its CSV is downloaded
from the job folder. An uploaded ``.keras`` file is checked against the model caps from the
archive alone (``check_keras_archive``) before it is built, then loaded with
``safe_mode=True``; it is cached by the hash of its bytes, so only someone with the very same
file reaches it. Images are decoded by the same function as in training (``core.data.images``).

"Not sure" works in the run's calibrated probabilities (a ``temperature`` in ``labels.json``,
said on the page) and a class's own threshold counts when it is higher than the page's
(``Predictor.threshold_for``), for single images as for the batch job.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import streamlit as st

from ui import common, jobs, run_picker, session

if TYPE_CHECKING:
    from core.jobs.snapshot import JobStatus
    from core.predict.predictor import Predictor

SOURCES = ("A run of this workspace", "Upload a .keras file", "ImageNet (stock network)")
MAX_SHOWN_IMAGES = 24
_IMAGENET_FAILED_KEY = "predict.imagenet_failed"
_BATCH_KEY = "predict.batch_job"


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
    load: Callable[[], Predictor]
    key: tuple[Any, ...]
    run_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    temperature: float = 1.0
    class_thresholds: dict[str, float] = field(default_factory=dict)


def _from_predictor(predictor: Predictor, key: tuple[Any, ...], **batch: Any) -> ModelChoice:
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
    from core.predict.model_file import read_labels

    labels = read_labels(run_dir / "labels.json")
    return ModelChoice(
        source=run_dir.name,
        classes=list(labels["classes"]),
        input_size=int(labels.get("input_size") or 0),
        resize_mode=str(labels.get("resize_mode", "stretch")),
        load=lambda: run_picker.run_predictor(run_dir),
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
    from core.predict.model_file import check_keras_archive, read_labels
    from core.predict.predictor import Predictor

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
    key = ("upload", hashlib.sha256(data).hexdigest(), tuple(classes or ()))
    predictor: Predictor = run_picker.cached_model(
        key, lambda: Predictor.from_model_bytes(data, classes)
    )
    params = {"model": {"file": "model.keras", "classes": classes}}
    return _from_predictor(predictor, key, params=params, files={"model.keras": data})


def imagenet_model() -> ModelChoice | None:
    """The stock ImageNet classifier of a backbone, or a plain message when unavailable."""
    from core.model.backbones import list_backbones
    from core.predict.imagenet import imagenet_predictor

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
        try:
            predictor = run_picker.cached_model(key, lambda: imagenet_predictor(backbone))
            return _from_predictor(predictor, key, params={"model": {"imagenet": backbone}})
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


def input_tabs(choice: ModelChoice, k: int, threshold: float) -> None:
    """The three ways to give images: uploads, the camera, a zip."""
    upload, camera, batch = st.tabs(["Upload images", "Camera", "Batch (zip)"])
    with upload:
        files = st.file_uploader(
            "Images",
            type=common.image_upload_types(),
            accept_multiple_files=True,
            key="predict_files",
        )
        if files:
            show_single(choice.load(), list(files)[:MAX_SHOWN_IMAGES], k, threshold)
    with camera:
        shot = st.camera_input("Take a picture", key="predict_camera")
        if shot is not None:
            show_single(choice.load(), [shot], k, threshold)
    with batch:
        if session.is_owner():
            show_batch(choice, k, threshold)
        else:
            st.info(
                "Classifying a zip of images is for the workspace's owner; with this read-only "
                "link, upload single images or use the camera.",
                icon=":material/lock:",
            )


def show_single(predictor: Predictor, files: list[Any], k: int, threshold: float) -> None:
    """One card per image: the picture, the answer, and a top-k bar chart."""
    from core.data.images import load_image
    from core.evaluate.charts import top_k_figure

    for index, file in enumerate(files):
        with st.container(border=True):
            picture, chart = st.columns([1, 2])
            name = common.escape_markdown(file.name)
            try:
                # The studio's decoder first: it refuses non-images and pixel bombs with a reason.
                shown = load_image(file.getvalue())
                probabilities = predictor.predict_arrays(predictor.load_images([file.getvalue()]))
            except ValueError as error:
                chart.error(f"{name}: {common.escape_markdown(error)}")
                continue
            shown.thumbnail((320, 320))
            picture.image(shown, caption=name, width="stretch")  # captions render Markdown
            top = predictor.top_k(probabilities, k)[0]
            needed = predictor.threshold_for(top[0][0], threshold)  # a class may ask for more
            show_verdict(chart, common.escape_markdown(top[0][0]), top[0][1], needed, threshold)
            chart.plotly_chart(top_k_figure(top, needed), key=f"predict_bar_{index}")


def show_verdict(where: Any, name: str, probability: float, needed: float, asked: float) -> None:
    """The answer, or "not sure" when the best probability is under the class's threshold.

    Args:
        where: the column to write into.
        name: the best class, already escaped.
        probability: its (calibrated) probability.
        needed: the threshold that applies (``Predictor.threshold_for``).
        asked: the page's threshold (to say when a class's own one is higher).
    """
    if probability >= needed:
        where.success(f"**{name}** ({probability:.1%})")
        return
    own = f" (this class needs {needed:.0%})" if needed > asked else ""
    where.warning(f"Not sure: the best guess, {name}, is only {probability:.0%}{own}.")


def batch_job(choice: ModelChoice, archive: Any, k: int, threshold: float) -> str | None:
    """The batch job of this zip, model and options: submitted once, then re-attached.

    A refusal (too many images, not a zip) is remembered too, so it is said once per upload
    instead of submitting again on every rerun.
    """
    key = (archive.file_id, choice.key, k, threshold)
    saved = st.session_state.get(_BATCH_KEY)
    if not saved or saved["key"] != key:
        saved = {"key": key, "job": None, "error": None}
        try:
            params = {**choice.params, "k": k, "threshold": threshold}
            files = {**choice.files, "upload.zip": archive}
            saved["job"] = jobs.submit("predict_batch", choice.run_id, params, files)
        except ValueError as error:
            saved["error"] = error
        st.session_state[_BATCH_KEY] = saved
    if saved["error"] is not None:
        common.show_error(saved["error"])
    job_id: str | None = saved["job"]
    return job_id


def show_batch(choice: ModelChoice, k: int, threshold: float) -> None:
    """A zip of images -> a job in a worker -> a table and the CSV download."""
    cap = session.get_settings().max_batch_images
    archive = st.file_uploader("Zip of images", type=["zip"], key="predict_zip")
    st.caption(
        f"Up to {cap:,} images per zip. They are classified in the background by a separate "
        "process, in chunks; you can leave this page meanwhile."
    )
    if archive is None:
        return
    job_id = batch_job(choice, archive, k, threshold)
    job = jobs.status(job_id, choice.run_id) if job_id else None
    if job is None:
        return
    if not job.done:
        jobs.watch(job.job_id, choice.run_id, "Classifying the zip", "predict_batch")
    elif job.state != "finished" or job.result is None:
        jobs.show_ended(job, "The batch prediction")
    else:
        show_batch_result(job)


def show_batch_result(job: JobStatus) -> None:
    """The first rows of a finished batch as a table, and every row as a CSV download."""
    result = job.result or {}
    rows = list(result.get("rows") or [])
    st.dataframe(rows, hide_index=True, key="predict_batch_table")
    images, errors = int(result.get("images", len(rows))), int(result.get("errors", 0))
    note = f"{images:,} images classified" + (f", {errors} could not be read" if errors else "")
    if images > len(rows):
        note += f"; the table shows the first {len(rows)}, the CSV has them all"
    st.caption(note + ".")
    csv_path = job.folder / str(result.get("csv", ""))
    if csv_path.is_file():
        st.download_button(
            "Download predictions (CSV)",
            csv_path.read_bytes,  # read when clicked
            "predictions.csv",
            "text/csv",
            key="predict_csv",
        )
