"""The Train page's view of a run: attach to it, start it, follow it live, show its result.

Training runs in a worker process started by the job runner (``core.jobs.runner``), never in
the page's script nor in the web server: a widget click or a page switch reruns the script, not
the job. The live part is a fragment that reads the run's snapshot every second on its own.
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from core.config.run import RunConfig
from core.config.train import TrainConfig
from core.data.checks import check_validation_split
from core.data.names import public_dataset_name
from core.jobs.registry import QueueBusyError
from core.jobs.snapshot import RunSnapshot
from core.store.access import is_read_only, require_owner
from core.store.recipe_record import read_recipe
from core.store.runs import RunStore
from core.text import percent
from core.train.charts import training_figures
from ui import choices, common, run_picker, session
from ui.train.recipe import recipe_caption
from ui.train.snapshot import (
    RESULT_METRICS,
    chart_signature,
    epoch_points,
    format_eta,
    last_known_snapshot,
    load_snapshot,
    log_lines,
    result_values,
    runner,
    scores_source,
    stored_config,
)

POLL_S = 1.0
QUEUE_BUSY = "The job queue is busy right now; this shows the run's last known state."
CHART_REFRESH_S = 3.0
_FIGURE_KEY = "train.figure_cache"
PHASE_LABELS = {
    "extract": "computing the backbone's features",
    "head": "training the head",
    "fine_tune": "fine-tuning the backbone",
}


def attached_view() -> RunSnapshot | None:
    """Returns the run named in the URL/session if it belongs to this workspace, else the
    workspace's newest run (a new tab, another device, a read-only link), or None."""
    run_id = run_picker.shown_run_id()
    if not run_id:
        return None
    try:
        return read_snapshot(run_id, session.get_run_store())
    except ValueError as error:  # unknown, malformed or another workspace's run id
        common.show_error(error)
        session.set_current_run(None)
        return None


def read_snapshot(run_id: str, store: RunStore) -> RunSnapshot:
    """The run's snapshot; while another process holds the queue, its last saved state (said)."""
    try:
        return load_snapshot(run_id, store, session.get_settings())
    except QueueBusyError:  # waited PAGE_LOCK_TIMEOUT_S: the page goes on, its URL kept
        st.info(QUEUE_BUSY, icon=":material/hourglass_top:")
        return last_known_snapshot(run_id, store, session.get_settings())


def run_heading(snapshot: RunSnapshot) -> None:
    """The run's heading (its id: links and tests find it by it), its name and its dataset."""
    st.subheader(f"Run {snapshot.run_id}")
    config = stored_config(session.get_run_store(), snapshot.run_id)
    if config is None:
        return
    name = f"{config.name} · " if config.name else ""
    dataset = public_dataset_name(config.data.path)
    st.caption(common.escape_markdown(f"{name}dataset {dataset}"))


def start_run(train_config: TrainConfig, name: str) -> None:
    """Submits a run of the session's data and model to the job runner and watches it."""
    data = choices.get_data()
    if data is None:  # the page offers Start only with data
        return
    try:
        # Owner link only and a validation split that is not empty; the runner refuses a run
        # when the disk cap leaves no room (before anything is created).
        require_owner(session.get_run_store(), "starting a run")
        check_validation_split(data.report, data.split, data.spec.val_ratio)
        config = RunConfig(
            data=data.spec, model=choices.get_model_spec(), train=train_config, name=name
        )
        run_id = runner(session.get_settings()).submit_training(session.get_run_store(), config)
    except Exception as error:
        common.show_error(error, "starting the run")
        return
    session.set_current_run(run_id)
    st.rerun()


@st.fragment(run_every=POLL_S)
def live_panel(run_id: str) -> None:
    """Polls the run every second: progress, notices, chart, log and Stop (only this part)."""
    store = session.get_run_store()
    try:
        snapshot = read_snapshot(run_id, store)
    except ValueError as error:
        common.show_error(error)
        return
    if not snapshot.active:
        st.rerun(scope="app")  # over: the whole page switches to the result card
    show_progress(snapshot)
    show_notices(snapshot)
    owner = not is_read_only(store)  # a read-only link only watches
    if owner and st.button("Stop", key="train_stop", icon=":material/stop:"):
        stop(run_id)
    show_chart(snapshot)
    show_log(snapshot)


def stop(run_id: str) -> None:
    """Asks the run's worker to stop after the current batch (or drops it from the queue)."""
    try:
        runner(session.get_settings()).stop(session.get_run_store(), run_id)
    except Exception as error:
        common.show_error(error, "stopping the run")
        return
    st.toast("Stopping after the current batch...")


def show_finished(snapshot: RunSnapshot) -> None:
    """A run that is over: the result card, its notices, curves and event log."""
    show_result(snapshot)
    show_notices(snapshot)
    show_chart(snapshot)
    show_log(snapshot)


def show_progress(snapshot: RunSnapshot) -> None:
    """Progress bar with phase and ETA, or the queue position while waiting."""
    if snapshot.status == "queued":
        position = snapshot.queue_position
        if position is None:  # its worker process is starting (loading TensorFlow)
            st.info("Starting the training process...", icon=":material/hourglass_top:")
            return
        max_jobs = session.get_settings().max_jobs
        st.info(
            f"Queued: position {position} in the queue. The server runs {max_jobs} heavy "
            "job(s) at a time (training, export, evaluation, batch prediction); this run starts "
            "by itself when a slot frees up. You can leave this page.",
            icon=":material/hourglass_top:",
        )
        return
    phase = PHASE_LABELS.get(snapshot.phase or "", snapshot.phase or snapshot.status)
    text = f"{snapshot.status}: {phase}"
    if snapshot.phase != "extract":  # the extraction's estimate is images/s, not epochs
        text += f" — epoch {snapshot.epoch}/{snapshot.epochs}"
    if snapshot.active:
        text += f" — about {format_eta(snapshot.eta_s)} left"
    st.progress(min(max(snapshot.progress, 0.0), 1.0), text=text)


def show_notices(snapshot: RunSnapshot) -> None:
    """Settings the run changed on its own (e.g. a lowered batch size), as visible warnings."""
    for notice in snapshot.notices:
        st.warning(common.escape_markdown(notice), icon=":material/tune:")


def chart_figure(snapshot: RunSnapshot) -> Any:
    """Returns the run's (loss, accuracy) figures, rebuilt only when they changed.

    The fragment polls every second. Building a Plotly figure costs tens of milliseconds of
    Python; the web process serves every visitor, so sessions rebuilding identical figures every
    second would slow all pages. A new epoch always rebuilds them; new per-batch points at
    most every ``CHART_REFRESH_S`` seconds.
    """
    cached = st.session_state.get(_FIGURE_KEY)
    signature = chart_signature(snapshot)
    now = time.monotonic()
    if cached is not None and cached["signature"] == signature:
        unchanged = cached["batches"] == len(snapshot.batch_history)
        if unchanged or now - cached["time"] < CHART_REFRESH_S:
            return cached["figure"]
    figure = training_figures(snapshot.history, snapshot.batch_history)
    st.session_state[_FIGURE_KEY] = {
        "signature": signature,
        "batches": len(snapshot.batch_history),
        "time": now,
        "figure": figure,
    }
    return figure


def show_chart(snapshot: RunSnapshot) -> None:
    """The loss and accuracy curves, with a stable key so updates do not flicker."""
    if not snapshot.history and not snapshot.batch_history:
        st.caption("The curves appear once the first training batches are done.")
        return
    st.caption(f"Epochs on the chart: {epoch_points(snapshot)}")
    loss, accuracy = chart_figure(snapshot)
    # Two columns: side by side on a wide screen, stacked on a phone (Streamlit's own layout).
    left, right = st.columns(2)
    left.plotly_chart(loss, key="train_chart_loss", width="stretch")
    right.plotly_chart(accuracy, key="train_chart_accuracy", width="stretch")


def show_log(snapshot: RunSnapshot) -> None:
    """The events of the run (newest last)."""
    with st.expander("Event log", expanded=False):
        # Wrapped: a long line must not make a phone scroll sideways.
        text = "\n".join(log_lines(snapshot)) or "No events yet."
        st.code(text, language=None, wrap_lines=True)


def show_status_line(snapshot: RunSnapshot) -> None:
    """How the run ended, as one plain sentence."""
    if snapshot.status == "finished":
        st.success("Training finished.", icon=":material/check_circle:")
    elif snapshot.status == "stopped":
        st.warning("Training was stopped; the model of the last epoch was kept.")
    elif snapshot.status == "interrupted":
        reason = snapshot.error or "The training process stopped."
        st.warning(
            common.escape_markdown(
                f"This run was interrupted. {reason} Its last good epoch ({snapshot.epoch}) "
                "is kept: resume it below, or delete it on the Runs page."
            )
        )
    else:
        st.error(
            common.escape_markdown(snapshot.error or "Training failed."), icon=":material/error:"
        )


def show_result(snapshot: RunSnapshot) -> None:
    """The result card of a run that is over: metrics and where to go next."""
    with st.container(border=True):
        show_status_line(snapshot)
        config = show_recipe(snapshot.run_id)
        restore_best = config is None or config.train.restore_best_weights
        st.caption(scores_source(snapshot, restore_best))
        values = result_values(snapshot)
        columns = st.columns(len(RESULT_METRICS) + 1)
        columns[0].metric("Epochs done", snapshot.epoch)
        for column, (key, label) in zip(columns[1:], RESULT_METRICS, strict=True):
            value = values[key]
            if value is None:
                shown = "—"
            else:  # one accuracy format on every page: 97.4%
                shown = percent(value) if key.endswith("accuracy") else f"{value:.3f}"
            column.metric(label, shown)
        owner = not is_read_only(session.get_run_store())
        if (
            owner
            and snapshot.status in ("interrupted", "stopped")
            and st.button("Resume this run", key="train_resume", icon=":material/replay:")
        ):
            resume(snapshot.run_id)
        links = st.columns(3)
        with links[0]:
            common.page_link("evaluate", label="Evaluate this model")
        with links[1]:
            common.page_link("predict", label="Try it on new images")
        with links[2]:
            common.page_link("runs", label="All runs")


def show_recipe(run_id: str) -> RunConfig | None:
    """Which recipe the run trained with, read from its own ``config.json``; returns it."""
    config = stored_config(session.get_run_store(), run_id)
    if config is not None:  # an unreadable config: the card shows the metrics anyway
        st.caption(recipe_caption(config))
    chosen = read_recipe(session.get_run_store().path(run_id))
    if chosen is not None:  # the automatic recipe's choice, its score and the runners-up
        st.caption(common.escape_markdown(chosen.sentence()))
    return config


def resume(run_id: str) -> None:
    """Continues an interrupted or stopped run from its last checkpoint, then watches it.

    Two clicks (or two tabs) start one job: the runner returns the run's queued job.
    """
    try:
        runner(session.get_settings()).resume(session.get_run_store(), run_id)
    except Exception as error:  # shown as a plain sentence
        common.show_error(error, "resuming the run")
        return
    session.set_current_run(run_id)
    st.rerun()
