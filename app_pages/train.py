"""Train: settings, Start, live curves and progress, Stop, and the result card.

Training runs in a worker process started by the job runner, never in this script nor in the
web server. The run id is kept in the URL (``?run=``), so a reload re-attaches to the run: its
folder is the source of truth while it trains and once it is over (see ``ui.train.run_view``).
Without a run in the URL the workspace's newest run is shown; a read-only link sees it (its
result card, curves and log) and nothing that starts or stops a run.
"""

from __future__ import annotations

import streamlit as st

from ui import choices, common
from ui.train import run_view, settings

access = common.workspace_or_stop()
common.page_header(
    "3. Train",
    "Trains the head on your images (and optionally fine-tunes the top of the backbone). "
    "You can click around or leave the page: training goes on in the background.",
)

snapshot = run_view.attached_view()
if not access.is_owner and snapshot is None:
    st.info("This workspace has no runs yet.", icon=":material/info:")
    st.stop()
has_data = access.is_owner and common.require("data")
if snapshot is None and not has_data:
    st.stop()
if snapshot is not None:
    run_view.run_heading(snapshot)
    if snapshot.active:
        run_view.live_panel(snapshot.run_id)
    else:
        run_view.show_finished(snapshot)
if has_data:
    running = snapshot is not None and snapshot.active
    with st.expander("Settings for a new run", expanded=not running):
        settings.data_line()
        settings.model_line()
        choice = settings.settings_form(
            choices.get_train_config(), choices.get_model_spec(), disabled=running
        )
        if running:
            st.caption("A run is in progress; Start is available again when it is over.")
    if choice is not None:
        run_view.start_run(*choice)
