"""Train: settings, Start, live curves and progress, Stop, and the result card.

Training runs in a job of the process-wide manager (``core.jobs.manager.get_manager()``), never in
this script: a widget click or a page switch reruns the script, not the job. The run id is kept in
the URL (``?run=``), so a reload re-attaches to the job while it runs, and to the run store's files
once it is over. The live part is a fragment that reruns every second on its own."""

from __future__ import annotations

import streamlit as st

from ui import common, session, train_view, train_widgets

common.workspace_or_stop()
common.page_header(
    "3. Train",
    "Trains the head on your images (and optionally fine-tunes the top of the backbone). "
    "You can click around or leave the page: training goes on in the background.",
)


def attached_view() -> train_view.RunView | None:
    """Returns the run named in the URL/session if it belongs to this workspace."""
    run_id = session.current_run_id()
    if not run_id:
        return None
    try:
        return train_view.load_view(run_id, session.get_run_store())
    except ValueError as error:  # unknown, malformed or another workspace's run id
        common.show_error(error)
        session.set_current_run(None)
        return None


def start_run(train_config: object, name: str) -> None:
    """Submits a run of the session's data and model to the job manager and watches it."""
    from core.jobs.manager import get_manager
    from core.spec.run import RunConfig

    data = session.get_data()
    assert data is not None  # the page stops earlier without data
    try:
        with st.spinner("Starting the run..."):
            config = RunConfig(
                data=data.spec,
                model=session.get_model_spec(),
                train=train_config,  # type: ignore[arg-type]
                name=name,
            )
            job = get_manager().submit(config, session.get_run_store())
    except Exception as error:
        common.show_error(error, "starting the run")
        return
    session.set_current_run(job.run_id)
    st.rerun()


@st.fragment(run_every=1.0)
def live_panel(run_id: str) -> None:
    """Polls the job every second: progress, chart, log and Stop (reruns only this part)."""
    store = session.get_run_store()
    try:
        view = train_view.load_view(run_id, store)
    except ValueError as error:
        common.show_error(error)
        return
    if not view.active:
        st.rerun(scope="app")  # over: the whole page switches to the result card
    train_widgets.show_progress(view)
    job = train_view.live_job(run_id, store)
    if job is not None and st.button("Stop", key="train_stop", icon=":material/stop:"):
        job.stop()
        st.toast("Stopping after the current batch...")
    train_widgets.show_chart(view)
    train_widgets.show_log(view)


def model_line() -> None:
    """Says which model will be trained, with a link to change it."""
    spec = session.get_model_spec()
    size = spec.input_size or "default"
    note = "" if session.model_confirmed() else " (default; not confirmed on the Model page)"
    st.markdown(f"Model: **{spec.backbone}**, input size {size}, weights **{spec.weights}**{note}.")
    common.page_link("model", label="Change the model", icon=":material/edit:")


view = attached_view()
has_data = common.require("data")
if view is None and not has_data:
    st.stop()
if view is not None:
    st.subheader(f"Run {view.run_id}")
    if view.active:
        live_panel(view.run_id)
    else:
        train_widgets.show_result(view)
        train_widgets.show_chart(view)
        train_widgets.show_log(view)
if has_data:
    with st.expander("Settings for a new run", expanded=view is None or not view.active):
        model_line()
        choice = train_widgets.settings_form(
            session.get_train_config(),
            session.get_model_spec(),
            disabled=view is not None and view.active,
        )
        if view is not None and view.active:
            st.caption("A run is in progress; Start is available again when it is over.")
    if choice is not None:
        start_run(*choice)
