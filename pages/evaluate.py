"""Evaluate: honest metrics of a finished run on images it never trained on.

Metrics come from ``core.evaluate.metrics.evaluate_run`` (the run's own test split, or validation
when there is none, rebuilt from its config with the same seed), charts from
``core.evaluate.charts``, Grad-CAM from ``core.evaluate.gradcam``. The loaded model is cached per
run file (path + mtime); the evaluation result is kept in this session only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from ui import common, session

common.workspace_or_stop()
common.page_header(
    "4. Evaluate",
    "How good is the model really? Measured on held-out images that training never saw.",
)


@st.cache_resource(show_spinner="Loading the model...", max_entries=4)
def load_predictor(run_dir: str, mtime: float) -> Any:
    """Loads a run's model once per file version (read-only, shared by sessions)."""
    from core.predict.predictor import Predictor

    return Predictor.from_run(run_dir)


def finished_runs() -> list[Any]:
    """Summaries of this workspace's runs that have a trained model."""
    store = session.get_run_store()
    return [s for s in store.list_runs() if (store.root / s.run_id / "model.keras").is_file()]


def pick_run(runs: list[Any]) -> str:
    """Run picker, preselecting the run being watched."""
    ids = [summary.run_id for summary in runs]
    labels = {s.run_id: f"{s.name or s.run_id} · {s.backbone} · {s.status}" for s in runs}
    current = session.current_run_id()
    index = ids.index(current) if current in ids else 0
    return str(
        st.selectbox(
            "Run", ids, index=index, format_func=lambda run_id: labels[run_id], key="eval_run"
        )
    )


def evaluation_for(run_dir: Path, predictor: Any) -> Any:
    """The run's evaluation, computed once per model file in this session."""
    from core.evaluate.metrics import evaluate_run

    key = (str(run_dir), (run_dir / "model.keras").stat().st_mtime)
    cache = st.session_state.setdefault("eval.results", {})
    if key not in cache:
        with st.spinner("Predicting the held-out images..."):
            cache.clear()  # one evaluation at a time per session keeps memory small
            cache[key] = evaluate_run(run_dir, predictor=predictor)
    return cache[key]


def show_metrics(result: Any) -> None:
    """Headline numbers, per-class table, confusion matrices and binary curves."""
    from core.evaluate.charts import confusion_figure, pr_figure, roc_figure

    metrics = result.metrics
    if result.split != "test":
        st.warning("This run has no test split: these numbers are on the VALIDATION split.")
    left, middle, right = st.columns(3)
    left.metric("Accuracy", f"{metrics.accuracy:.1%}")
    middle.metric("Macro F1", f"{metrics.macro_f1:.3f}")
    right.metric(f"Images ({result.split})", len(result.paths))
    st.dataframe(metrics.per_class, hide_index=True, key="eval_table")
    counts, shares = st.tabs(["Confusion matrix (counts)", "Confusion matrix (row %)"])
    counts.plotly_chart(confusion_figure(metrics.confusion, metrics.classes), key="eval_cm")
    shares.plotly_chart(
        confusion_figure(metrics.confusion_normalised, metrics.classes, normalised=True),
        key="eval_cm_norm",
    )
    if metrics.roc is not None and metrics.pr is not None:
        roc, pr = st.columns(2)
        roc.plotly_chart(roc_figure(metrics.roc, metrics.classes[1]), key="eval_roc")
        pr.plotly_chart(pr_figure(metrics.pr, metrics.classes[1]), key="eval_pr")


def show_gallery(result: Any) -> None:
    """Misclassified images, most confident mistakes first."""
    wrong = result.misclassified()
    st.subheader(f"Mistakes ({len(wrong)})")
    if not wrong:
        st.success("Every held-out image was classified correctly.")
        return
    columns = st.columns(4)
    for index, row in enumerate(wrong[:24]):
        columns[index % 4].image(
            row["path"],
            caption=f"true {row['true']} → {row['predicted']} ({row['confidence']:.0%})",
            width="stretch",
        )
    if len(wrong) > 24:
        st.caption(f"Showing the 24 most confident of {len(wrong)} mistakes.")


def show_gradcam(result: Any, predictor: Any) -> None:
    """Grad-CAM overlay for a chosen held-out image and class."""
    from core.evaluate.gradcam import grad_cam, overlay

    st.subheader("Where does the model look? (Grad-CAM)")
    names = {path: Path(path).name for path in result.paths}
    path = st.selectbox("Image", result.paths, format_func=lambda p: names[p], key="eval_cam_image")
    position = result.paths.index(path)
    predicted = max(range(predictor.num_classes), key=lambda i: result.probabilities[position][i])
    class_index = st.selectbox(
        "Explain the class",
        range(predictor.num_classes),
        index=predicted,
        format_func=lambda i: predictor.classes[i],
        key="eval_cam_class",
    )
    try:
        image = predictor.load_images([path])[0]
        heatmap, layer = grad_cam(predictor.model, image, int(class_index))
    except ValueError as error:
        common.show_error(error)
        return
    original, blended = st.columns(2)
    original.image(image.astype("uint8"), caption="Input (as the model sees it)")
    blended.image(overlay(image, heatmap), caption=f"Grad-CAM on layer '{layer}'")


def main() -> None:
    runs = finished_runs()
    if not runs:
        st.info("There is no trained model in this workspace yet.", icon=":material/info:")
        common.page_link("train", label="Go to Train")
        return
    run_id = pick_run(runs)
    run_dir = session.get_run_store().path(run_id)
    try:
        predictor = load_predictor(str(run_dir), (run_dir / "model.keras").stat().st_mtime)
        result = evaluation_for(run_dir, predictor)
    except Exception as error:  # a moved dataset, a damaged file: a sentence, not a traceback
        common.show_error(error, "evaluating the run")
        common.page_link("data", label="Check the dataset on the Data page")
        return
    show_metrics(result)
    show_gallery(result)
    show_gradcam(result, predictor)
    common.page_link("predict", label="Next: try the model on your own images")
    common.page_link("runs", label="Export or download this model (Runs page)")


main()
