"""The presentation of one run: the case for a model on one page, for a phone or a projector.

Read from the run's newest evaluation (``core.jobs.kinds.evaluate``: predictions, metrics and
Grad-CAM overlays of the most confident mistakes and correct answers): the big numbers, the
confusion matrix, a few right and wrong examples with where the model looked, and "try it on
your photo" (classified in memory, never stored). A read-only link sees it all and starts
nothing; the owner's visit starts the evaluation when the run has none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from core.evaluate.charts import confusion_figure
from core.evaluate.metrics import EvalResult
from core.jobs.kinds.evaluate import EvaluateResult
from core.jobs.snapshot import JobStatus
from core.store.run_config import read_run_config
from core.text import percent
from ui import common, jobs, session
from ui.evaluate import results
from ui.predict import answers, models

EXAMPLES = 3  # right and wrong examples shown each (a row of three on a wide screen)


def evaluation(run_dir: Path) -> tuple[JobStatus, EvalResult] | None:
    """The run's evaluation and its job; None (after saying why) while there is none.

    The owner's visit queues it when missing; a read-only link only finds the owner's.
    """
    if session.is_owner():
        job = results.evaluation_job(run_dir)
        if job is not None and not job.done:
            st.caption("Evaluating the model on its held-out images; this page fills in by itself.")
            jobs.watch(job.job_id, run_dir.name, results.LABEL, "present_eval")
            return None
    else:
        job = results.finished_evaluation(run_dir)
    result = results.load_result(job) if job is not None and job.state == "finished" else None
    if job is None or result is None:
        st.info(
            "This model has not been evaluated yet, so there is nothing to present. The "
            "workspace's owner evaluates it by opening this page or the Evaluate page.",
            icon=":material/info:",
        )
        return None
    return job, result


def show_title(run_dir: Path, result: EvalResult) -> None:
    """The model's name and what it does, in one sentence a stakeholder reads first."""
    try:
        name = read_run_config(run_dir / "config.json").name
    except ValueError:
        name = ""
    classes = result.metrics.classes
    st.title(common.escape_markdown(name) if name else "Image classifier")
    shown = ", ".join(classes[:8]) + (f" and {len(classes) - 8} more" if len(classes) > 8 else "")
    st.markdown(
        f"Sorts photos into **{len(classes)} classes**: {common.escape_markdown(shown)}. "
        f"Scored on **{len(result.paths)} photos it never saw** while learning."
    )


def show_numbers(result: EvalResult) -> None:
    """The big numbers: accuracy, how many right, and the weakest class's recall."""
    metrics = result.metrics
    right = len(result.paths) - len(result.misclassified())
    weakest = min(metrics.per_class, key=lambda row: row.get("recall", 1.0), default=None)
    split = "test" if result.split == "test" else "validation"
    left, middle, last = st.columns(3)
    left.metric(f"Accuracy ({split})", percent(metrics.accuracy), border=True)
    middle.metric("Right answers", f"{right} of {len(result.paths)}", border=True)
    if weakest is not None:
        last.metric(
            "Hardest class",
            common.escape_markdown(weakest["class"]),
            f"recall {percent(weakest.get('recall'))}",
            delta_color="off",
            border=True,
        )


def show_confusion(result: EvalResult) -> None:
    """Where it goes wrong: the confusion matrix (counts), every class labelled."""
    st.subheader("Where it goes wrong")
    st.caption("Rows are the true class, columns what the model answered; the diagonal is right.")
    figure = confusion_figure(result.metrics.confusion, result.metrics.classes)
    figure.update_layout(title=None)
    st.plotly_chart(figure, key="present_cm", config={"displayModeBar": False})


def show_examples(job: JobStatus) -> None:
    """A few right and wrong answers, each with its Grad-CAM overlay (where the model looked)."""
    rows = list(EvaluateResult.from_dict(job.result).gradcam or ())
    right = [row for row in rows if row["true"] == row["predicted"]][:EXAMPLES]
    wrong = [row for row in rows if row["true"] != row["predicted"]][:EXAMPLES]
    if not rows:
        return
    st.subheader("What it looks at")
    st.caption("Bright areas pushed the model towards its answer (Grad-CAM).")
    for title, chosen in (("Right", right), ("Wrong", wrong)):
        if chosen:
            st.markdown(f"**{title}**")
            _example_row(job, chosen)


def _example_row(job: JobStatus, rows: list[dict[str, Any]]) -> None:
    columns = st.columns(EXAMPLES)
    for column, row in zip(columns, rows, strict=False):
        true, predicted = (common.escape_markdown(row[key]) for key in ("true", "predicted"))
        verdict = f"{true}, answered {predicted}" if row["true"] != row["predicted"] else true
        column.image(
            str(job.folder / row["overlay"]),
            caption=f"{verdict} ({row['confidence']:.0%})",
            width="stretch",
        )


def show_try_it(run_dir: Path) -> None:
    """ "Try it on your photo": one upload, its answer and top classes (nothing is stored)."""
    st.subheader("Try it on your photo")
    st.caption(
        "Your photo is classified in memory and never stored. The model only knows its "
        "classes: a photo of something else still gets one of them."
    )
    photo = st.file_uploader("Your photo", type=common.image_upload_types(), key="present_photo")
    if photo is None:
        return
    try:
        choice = models.run_model(run_dir)
        answers.show_single(choice.load(), [photo], 3, 0.5)
    except Exception as error:
        common.show_error(error, "predicting")
