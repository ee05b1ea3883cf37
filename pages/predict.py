"""Predict: classify your own images with a run, an uploaded ``.keras`` file, or ImageNet.

Images are decoded by the same function as in training (``core.data.images.load_image_array``).
Uploaded model files are loaded with ``safe_mode=True`` only (a file carrying Python code is
refused). Loaded run models are cached per file version (path + mtime) and shared read-only.
"""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any

import streamlit as st

from ui import common, session

common.workspace_or_stop()
common.page_header(
    "5. Predict",
    "Try a model on your own photos: one or many images, the camera, or a zip of images.",
)

SOURCES = ("A run of this workspace", "Upload a .keras file", "ImageNet (stock network)")
IMAGE_TYPES = ["jpg", "jpeg", "png", "bmp", "gif", "webp", "tif", "tiff"]


@st.cache_resource(show_spinner="Loading the model...", max_entries=4)
def load_run_predictor(run_dir: str, mtime: float) -> Any:
    """Loads a run's model once per file version (read-only, shared by sessions)."""
    from core.predict.predictor import Predictor

    return Predictor.from_run(run_dir)


@st.cache_resource(show_spinner="Loading the ImageNet network...", max_entries=2)
def load_imagenet(backbone_id: str) -> Any:
    """The stock ImageNet classifier (read-only, shared by sessions)."""
    from core.predict.imagenet import imagenet_predictor

    return imagenet_predictor(backbone_id)


def run_model() -> Any:
    """Lets the user pick one of the workspace's trained runs."""
    store = session.get_run_store()
    runs = [s for s in store.list_runs() if (store.root / s.run_id / "model.keras").is_file()]
    if not runs:
        st.info("There is no trained model in this workspace yet.", icon=":material/info:")
        common.page_link("train", label="Go to Train")
        return None
    ids = [s.run_id for s in runs]
    labels = {s.run_id: f"{s.name or s.run_id} · {s.backbone} · {s.status}" for s in runs}
    current = session.current_run_id()
    run_id = st.selectbox(
        "Run",
        ids,
        index=ids.index(current) if current in ids else 0,
        format_func=lambda run_id: labels[run_id],
        key="predict_run",
    )
    run_dir = store.path(str(run_id))
    return load_run_predictor(str(run_dir), (run_dir / "model.keras").stat().st_mtime)


def uploaded_model() -> Any:
    """A user's .keras file (safe_mode=True), with optional class names from labels.json."""
    import json

    from core.predict.predictor import Predictor

    model_file = st.file_uploader("Model file (.keras)", type=["keras"], key="predict_model_file")
    labels_file = st.file_uploader(
        "Class names (labels.json, optional)", type=["json"], key="predict_labels_file"
    )
    if model_file is None:
        st.caption("Files are loaded in safe mode: models containing Python code are refused.")
        return None
    data = model_file.getvalue()
    classes = None
    if labels_file is not None:
        try:
            classes = json.loads(labels_file.getvalue()).get("classes")
        except (ValueError, AttributeError):
            st.warning("labels.json could not be read; classes are numbered instead.")
    key = (hashlib.sha256(data).hexdigest(), tuple(classes or ()))
    # Kept in this session only: someone else's uploaded model is never shared.
    if st.session_state.get("predict.uploaded_key") != key:
        st.session_state.pop("predict.uploaded", None)
        with st.spinner("Checking the model file..."):
            st.session_state["predict.uploaded"] = Predictor.from_model_bytes(data, classes)
        st.session_state["predict.uploaded_key"] = key
    return st.session_state["predict.uploaded"]


def imagenet_model() -> Any:
    """The stock ImageNet classifier of a backbone, or a plain message when unavailable."""
    from core.model.backbones import list_backbones

    options = [info.id for info in list_backbones()]
    backbone = st.selectbox(
        "Network",
        options,
        index=options.index("mobilenet_v2") if "mobilenet_v2" in options else 0,
        key="predict_imagenet_backbone",
    )
    failures = st.session_state.setdefault("predict.imagenet_failed", {})
    if backbone in failures:  # offline: do not retry the download on every rerun
        st.warning(failures[backbone], icon=":material/cloud_off:")
        return None
    try:
        return load_imagenet(str(backbone))
    except ValueError as error:
        failures[backbone] = str(error)
        st.warning(str(error), icon=":material/cloud_off:")
        return None


def show_single(predictor: Any, files: list[Any], k: int, threshold: float) -> None:
    """One card per image: the picture, the answer, and a top-k bar chart."""
    from core.data.images import load_image
    from core.evaluate.charts import top_k_figure

    for index, file in enumerate(files):
        with st.container(border=True):
            picture, chart = st.columns([1, 2])
            try:
                # The studio's decoder first: it refuses non-images and pixel bombs with a reason.
                shown = load_image(file.getvalue())
                probabilities = predictor.predict_arrays(predictor.load_images([file.getvalue()]))
            except ValueError as error:
                chart.error(f"{file.name}: {error}")
                continue
            shown.thumbnail((320, 320))
            picture.image(shown, caption=file.name, width="stretch")
            top = predictor.top_k(probabilities, k)[0]
            best_name, best_p = top[0]
            if best_p < threshold:
                chart.warning(f"Not sure: the best guess, {best_name}, is only {best_p:.0%}.")
            else:
                chart.success(f"**{best_name}** ({best_p:.1%})")
            chart.plotly_chart(top_k_figure(top, threshold), key=f"predict_bar_{index}")


def show_batch(predictor: Any, k: int, threshold: float) -> None:
    """A zip of images -> a table -> a CSV download."""
    from core.predict.batch import predict_zip

    archive = st.file_uploader("Zip of images", type=["zip"], key="predict_zip")
    if archive is None:
        return
    with st.spinner("Classifying the images in the zip..."):
        rows = predict_zip(predictor, archive, k, threshold)
    st.dataframe(rows, hide_index=True, key="predict_batch_table")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    st.download_button(
        "Download predictions (CSV)",
        buffer.getvalue(),
        "predictions.csv",
        "text/csv",
        key="predict_csv",
    )


def main() -> None:
    source = st.radio("Model", SOURCES, horizontal=True, key="predict_source")
    try:
        if source == SOURCES[0]:
            predictor = run_model()
        elif source == SOURCES[1]:
            predictor = uploaded_model()
        else:
            predictor = imagenet_model()
    except Exception as error:
        common.show_error(error, "loading the model")
        return
    if predictor is None:
        return
    st.caption(
        f"{predictor.source}: {predictor.num_classes} classes, "
        f"input {predictor.input_size}x{predictor.input_size} ({predictor.resize_mode})."
    )
    left, right = st.columns(2)
    k = left.slider(
        "Top classes shown",
        1,
        min(10, predictor.num_classes),
        min(3, predictor.num_classes),
        key="predict_k",
    )
    threshold = right.slider("Say 'not sure' below", 0.0, 1.0, 0.5, 0.05, key="predict_threshold")
    upload, camera, batch = st.tabs(["Upload images", "Camera", "Batch (zip)"])
    try:
        with upload:
            files = st.file_uploader(
                "Images", type=IMAGE_TYPES, accept_multiple_files=True, key="predict_files"
            )
            if files:
                show_single(predictor, list(files)[:24], k, threshold)
        with camera:
            shot = st.camera_input("Take a picture", key="predict_camera")
            if shot is not None:
                show_single(predictor, [shot], k, threshold)
        with batch:
            show_batch(predictor, k, threshold)
    except Exception as error:
        common.show_error(error, "predicting")


main()
