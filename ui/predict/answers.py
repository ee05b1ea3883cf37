"""The Predict page's answers: single images in the web process, a zip of images as a job.

Single images are classified with the chosen model (from the bounded cache of
``ui.model_cache``, on LiteRT); an image that looks like none of the run's classes
(``LitePredictor.is_unknown``) is said so plainly, with why the model cannot answer "none"; "not
sure" uses ``LitePredictor.threshold_for`` (a class's own threshold counts when it is higher
than the page's). A zip is a ``predict_batch`` job in a
worker process (``ui.jobs``), capped at ``Settings.max_batch_images`` images; its CSV is
downloaded from the job folder.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.data.images import load_image
from core.evaluate.charts import top_k_figure
from core.jobs.kinds.predict_batch import BatchResult
from core.jobs.snapshot import JobStatus
from core.predict.lite import LitePredictor
from core.predict.ood import KNOWS_ONLY, unknown_sentence
from ui import common, jobs, session
from ui.predict.models import ModelChoice

MAX_SHOWN_IMAGES = 24


_BATCH_KEY = "predict.batch_job"


def input_tabs(choice: ModelChoice, k: int, threshold: float) -> None:
    """The ways to give images: uploads, the camera, and (for the owner) a zip."""
    owner = session.is_owner()  # a zip runs as a job, which writes into the workspace
    tabs = st.tabs(
        ["Upload images", "Camera", "Batch (zip)"] if owner else ["Upload images", "Camera"]
    )
    upload, camera = tabs[0], tabs[1]
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
    if owner:
        with tabs[2]:
            show_batch(choice, k, threshold)


def show_single(predictor: LitePredictor, files: list[Any], k: int, threshold: float) -> None:
    """One card per image: the picture, the answer, and a top-k bar chart."""
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
            if predictor.is_unknown(probabilities)[0]:
                chart.warning(common.escape_markdown(unknown_sentence(top[0][0], top[0][1])))
                chart.caption(KNOWS_ONLY)
            else:
                show_verdict(chart, common.escape_markdown(top[0][0]), top[0][1], needed, threshold)
            chart.plotly_chart(top_k_figure(top, needed), key=f"predict_bar_{index}")


def show_verdict(where: Any, name: str, probability: float, needed: float, asked: float) -> None:
    """The answer, or "not sure" when the best probability is under the class's threshold.

    Args:
        where: the column to write into.
        name: the best class, already escaped.
        probability: its (calibrated) probability.
        needed: the threshold that applies (``LitePredictor.threshold_for``).
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
    result = BatchResult.from_dict(job.result)
    rows = list(result.rows)
    st.dataframe(rows, hide_index=True, key="predict_batch_table")
    images, errors = result.images, result.errors
    note = f"{images:,} images classified" + (f", {errors} could not be read" if errors else "")
    if images > len(rows):
        note += f"; the table shows the first {len(rows)}, the CSV has them all"
    st.caption(note + ".")
    csv_path = job.folder / result.csv
    if result.csv and csv_path.is_file():
        st.download_button(
            "Download predictions (CSV)",
            csv_path.read_bytes,  # read when clicked
            "predictions.csv",
            "text/csv",
            key="predict_csv",
        )
