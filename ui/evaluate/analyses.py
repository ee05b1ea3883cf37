"""The run analyses on the Evaluate page, each an ``analyse`` job in a worker process.

``panel`` is the one pattern: a button queues the analysis (``core.jobs.kinds.analyse``), the page
polls it while it works (``ui.jobs.watch``) and shows its result from ``result.json`` once it
finished, also after a reload (the newest job of that analysis is found on disk). One analysis
of a run runs at a time. The learning curve ("would more images help?") and calibration
(temperature scaling, "Store this temperature") are shown here; the label-error gallery is in
``ui.evaluate.label_fixes``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from core.errors import StudioError
from core.evaluate.calibration import calibration_verdict
from core.evaluate.charts import learning_curve_figure, reliability_figure
from core.evaluate.learning_curve import LearningCurve
from core.jobs.kinds.analyse import CalibrationJobResult
from core.jobs.request import JobRequest, read_json
from core.jobs.snapshot import JobStatus
from ui import common, jobs, session

KIND = "analyse"
LABELS = {
    "label_issues": "Finding likely label errors",
    "learning_curve": "Drawing the learning curve",
    "calibrate": "Calibrating",
}


def analysis_of(folder: Path) -> str | None:
    """The analysis an ``analyse`` job folder runs (None when its request is unreadable)."""
    try:
        name = JobRequest.load(folder).params.get("analysis")
    except StudioError:
        return None
    return name if isinstance(name, str) else None


def latest(run_id: str, analysis: str) -> JobStatus | None:
    """The newest job of ``analysis`` of the run (re-attach after a reload), or None."""
    return jobs.latest(
        run_id, KIND, where=lambda request: request.params.get("analysis") == analysis
    )


def start(run_id: str, analysis: str, **params: Any) -> bool:
    """Queues ``analysis`` of the run; False (with a note) while another analysis runs."""
    job_id = jobs.submit(KIND, run_id, {"analysis": analysis, **params})
    job = jobs.status(job_id, run_id)
    if job is not None and analysis_of(job.folder) != analysis:  # one analysis at a time
        st.info(
            "Another analysis of this run is working; start this one when it has finished.",
            icon=":material/hourglass_top:",
        )
        return False
    return True


def panel(run_id: str, analysis: str, button: str, key: str) -> JobStatus | None:
    """The start button, the running job or why it ended; returns the job once it finished."""
    return jobs.job_panel(
        latest(run_id, analysis), label=LABELS[analysis], button=button, key=key,
        start=lambda: start(run_id, analysis), run_id=run_id, again_when_finished=True,
    )  # fmt: skip


def show_learning_curve(run_dir: Path) -> None:
    """Probe accuracy at 25/50/75/100 % of the training images, and the verdict sentence."""
    st.subheader("Would more images help?")
    st.caption(
        "A simple head is trained on the cached features of 25, 50, 75 and 100 % of the "
        "training images and scored on the validation images: if accuracy still climbs at "
        "the end, more images of the same kind should help."
    )
    job = panel(run_dir.name, "learning_curve", "Draw the learning curve", "eval_curve")
    if job is None or job.result is None:
        return
    curve = LearningCurve.from_dict(job.result)
    figure = learning_curve_figure(curve.to_dict()["points"], curve.scored_on)
    st.plotly_chart(figure, key="eval_curve_chart")
    st.info(common.escape_markdown(curve.verdict), icon=":material/insights:")


def show_calibration(run_dir: Path) -> None:
    """ECE before and after temperature scaling, the reliability chart, "Store" the result."""
    st.subheader("Calibrated confidence")
    st.caption(
        "Is a 90 % answer right 90 % of the time? Temperature scaling, fitted on the "
        "validation images, corrects over-confidence without changing any answer. Stored in "
        'the run, it makes Predict\'s "not sure" threshold and the export use calibrated '
        "probabilities."
    )
    job = panel(run_dir.name, "calibrate", "Measure calibration", "eval_calibrate")
    if job is None or job.result is None:
        return
    result = CalibrationJobResult.from_dict(job.result)
    if result.splits is None or result.temperature is None:
        st.error("This calibration has no readable result; measure again.")
        return
    st.dataframe(
        [
            {"split": name, "images": split.get("images"), "ECE before": split["ece_before"],
             "ECE after": split["ece_after"]}
            for name, split in result.splits.items()
        ],
        hide_index=True,
        key="eval_calibration_table",
    )  # fmt: skip
    temperature = float(result.temperature)
    helped, verdict = calibration_verdict(result.splits)
    if result.stored:
        st.success(f"Temperature {temperature:.2f} is stored in this run. {verdict}")
        return
    _show_reliability(job.folder / (result.probabilities_file or ""), temperature)
    if not helped:  # nothing worth storing: the verdict, and no Store button
        st.warning(verdict, icon=":material/thumb_down:")
        return
    st.info(verdict, icon=":material/thumb_up:")
    if not session.is_owner():
        return
    if st.button(f"Store temperature {temperature:.2f}", key="eval_calibrate_store"):
        try:
            if start(run_dir.name, "calibrate", store=True):
                st.rerun()
        except Exception as error:
            common.show_error(error, "storing the temperature")


def _show_reliability(path: Path, temperature: float) -> None:
    """The reliability chart from the validation probabilities the job saved (if readable)."""
    import numpy as np

    saved = read_json(path, {}) if path.is_file() else {}
    if not isinstance(saved, dict) or not saved.get("labels"):
        return
    figure = reliability_figure(
        np.asarray(saved["probabilities"], dtype=np.float64),
        np.asarray(saved["labels"], dtype=np.int64),
        temperature,
    )
    st.plotly_chart(figure, key="eval_reliability_chart")
