"""The evaluation of a run on the Evaluate page: its metrics, mistakes and Grad-CAM.

The evaluation is an ``evaluate`` job in a worker process (``ui.jobs``): the held-out split's
predictions, metrics and Grad-CAM heatmaps of a few images (the most confident mistakes first)
are computed there and saved in the job folder; this page reads them back
(``core.jobs.kinds.evaluate.load_evaluation``, the heatmaps' PNG files) and never loads the model
itself. A run is evaluated once per model file; a reload re-attaches to the newest job.
Evaluating stores the run's scores in its ``metrics.json``, so only the workspace's owner
evaluates; a read-only link sees the scores the owner's evaluation stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from core.errors import StudioError
from core.evaluate.charts import confusion_figure, pr_figure, roc_figure
from core.evaluate.metrics import EvalResult
from core.jobs.kinds.evaluate import EvaluateResult, load_evaluation
from core.jobs.request import REQUEST_FILE
from core.jobs.snapshot import JobStatus
from core.text import percent
from ui import common, jobs, session
from ui.evaluate import confusion

GALLERY_SIZE = 24
GALLERY_COLUMNS = 4
LABEL = "Evaluation"


def _outdated(job: JobStatus, run_dir: Path) -> bool:
    """True when the run's model was saved after the job was submitted (e.g. a resumed run)."""
    model = run_dir / "model.keras"
    request = job.folder / REQUEST_FILE
    try:
        return model.stat().st_mtime > request.stat().st_mtime
    except OSError:
        return False


def evaluation_job(run_dir: Path, again: bool = False) -> JobStatus | None:
    """The run's evaluation job: the newest one, or a new one when none is current.

    A failed job is not started again on its own (the page offers a button, ``again``).

    Raises:
        StudioError: the job could not be queued (a plain sentence).
    """
    run_id = run_dir.name
    job = jobs.latest(run_id, "evaluate")
    if again or job is None or (job.state == "finished" and _outdated(job, run_dir)):
        return jobs.status(jobs.submit("evaluate", run_id), run_id)
    return job


def finished_evaluation(run_dir: Path) -> JobStatus | None:
    """The run's newest finished evaluation that is current (nothing is started), or None."""
    job = jobs.latest(run_dir.name, "evaluate", where=None)
    if job is None or job.state != "finished" or _outdated(job, run_dir):
        return None
    return job


def load_result(job: JobStatus) -> EvalResult | None:
    """The evaluation a finished job saved (None when its file is unreadable)."""
    try:
        return load_evaluation(job.folder)
    except StudioError:
        return None


def show_job(run_dir: Path, job: JobStatus) -> EvalResult | None:
    """The job while it works or when it did not finish; its result once it did."""
    if not job.done:
        st.caption(
            "The held-out images are predicted by a separate process; the results appear "
            "here by themselves."
        )
        jobs.watch(job.job_id, run_dir.name, LABEL, "eval")
        return None
    if job.state != "finished":
        jobs.show_ended(job, "The evaluation")
        if session.is_owner() and st.button(
            "Evaluate again", key="eval_again", icon=":material/replay:"
        ):
            evaluation_job(run_dir, again=True)
            st.rerun()
        return None
    return load_evaluation(job.folder)


def show_metrics(result: EvalResult) -> None:
    """Headline numbers, per-class table, confusion matrices (counts: clickable), binary curves."""
    metrics = result.metrics
    if result.split != "test":
        st.warning("This run has no test split: these numbers are on the VALIDATION split.")
    for note in result.notes:  # e.g. the dataset folder changed since training
        st.warning(common.escape_markdown(note), icon=":material/warning:")
    left, middle, right = st.columns(3)
    left.metric("Accuracy", percent(metrics.accuracy))
    middle.metric("Macro F1", f"{metrics.macro_f1:.3f}")
    right.metric(f"Images ({result.split})", len(result.paths))
    st.dataframe(metrics.per_class, hide_index=True, key="eval_table")
    counts, shares = st.tabs(["Confusion matrix (counts)", "Confusion matrix (row %)"])
    clicked = counts.plotly_chart(
        confusion.clickable_figure(metrics.confusion, metrics.classes),
        key="eval_cm",
        on_select="rerun",
        selection_mode="points",
    )
    shares.plotly_chart(
        confusion_figure(metrics.confusion_normalised, metrics.classes, normalised=True),
        key="eval_cm_norm",
    )
    confusion.show_cell(result, clicked)
    if metrics.roc is not None and metrics.pr is not None:
        roc, pr = st.columns(2)
        roc.plotly_chart(roc_figure(metrics.roc, metrics.classes[1]), key="eval_roc")
        pr.plotly_chart(pr_figure(metrics.pr, metrics.classes[1]), key="eval_pr")


def show_gallery(result: EvalResult) -> None:
    """Misclassified images, most confident mistakes first."""
    wrong = result.misclassified()
    st.subheader(f"Mistakes ({len(wrong)})")
    if not wrong:
        st.success("Every held-out image was classified correctly.")
        return
    columns = st.columns(GALLERY_COLUMNS)
    for index, row in enumerate(wrong[:GALLERY_SIZE]):
        # Class names are the user's folder names, and image captions render Markdown.
        true, predicted = (common.escape_markdown(row[key]) for key in ("true", "predicted"))
        columns[index % GALLERY_COLUMNS].image(
            row["path"],
            caption=f"true {true} → {predicted} ({row['confidence']:.0%})",
            width="stretch",
        )
    if len(wrong) > GALLERY_SIZE:
        st.caption(f"Showing the {GALLERY_SIZE} most confident of {len(wrong)} mistakes.")


def gradcam_label(row: dict[str, Any]) -> str:
    """A Grad-CAM picker option: the file name, its true and predicted class (plain text)."""
    verdict = "correct" if row["true"] == row["predicted"] else f"predicted {row['predicted']}"
    return f"{Path(row['path']).name} · true {row['true']} · {verdict}"


def show_gradcam(job: JobStatus) -> None:
    """Grad-CAM overlays the evaluation computed: the most confident mistakes, then correct."""
    st.subheader("Where does the model look? (Grad-CAM)")
    result = EvaluateResult.from_dict(job.result)
    for warning in result.warnings or ():
        st.info(common.escape_markdown(warning), icon=":material/info:")
    rows = list(result.gradcam or ())
    if not rows:
        return
    st.caption(
        f"Heatmaps of {len(rows)} held-out images, mistakes first, then correct answers: "
        "bright areas pushed the model towards the class it predicted."
    )
    index = st.selectbox(
        "Image",
        range(len(rows)),
        format_func=lambda i: gradcam_label(rows[i]),  # options are plain text
        key="eval_cam_image",
    )
    row = rows[int(index)]
    original, blended = st.columns(2)
    original.image(str(job.folder / row["input"]), caption="Input (as the model sees it)")
    caption = (
        f"Grad-CAM of {common.escape_markdown(row['predicted'])} "
        f"({row['confidence']:.0%}) on layer '{common.escape_markdown(row['layer'])}'"
    )
    blended.image(str(job.folder / row["overlay"]), caption=caption)


def show_stored_evaluation(run_dir: Path) -> None:
    """A read-only link's view: the scores the owner's evaluation stored (nothing computed)."""
    stored = session.get_run_store().load(run_dir.name).metrics.evaluation
    if stored is None:
        st.info(
            "This run has not been evaluated yet. Evaluating stores its results in the run, so "
            "only the workspace's owner can start it (making a read-only link does); the "
            "per-class table, confusion matrix, mistakes and Grad-CAM appear here afterwards.",
            icon=":material/info:",
        )
        return
    split = stored.split or "test"
    if split != "test":
        st.warning("This run has no test split: these numbers are on the VALIDATION split.")
    for note in stored.notes or ():
        st.warning(common.escape_markdown(note), icon=":material/warning:")
    left, middle, right = st.columns(3)
    accuracy, macro_f1 = stored.accuracy, stored.macro_f1
    left.metric("Accuracy", percent(accuracy) if accuracy is not None else "—")
    middle.metric("Macro F1", f"{macro_f1:.3f}" if macro_f1 is not None else "—")
    images = stored.images if stored.images is not None else "—"
    right.metric(f"Images ({common.escape_markdown(split)})", images)
    st.caption(
        "The details of this evaluation are no longer stored (the run was evaluated again, or "
        "the disk was tidied); they appear here once the owner's link opens this page."
    )
