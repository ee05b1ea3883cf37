"""The run picker of the Evaluate and Predict pages: the workspace's runs with a trained model."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.store.runs import RunSummary
from ui import common, session
from ui.model_cache import MODEL_FILE


def finished_runs() -> list[RunSummary]:
    """Summaries of this workspace's runs that have a trained model, newest first."""
    store = session.get_run_store()
    return [s for s in store.list_runs() if (store.root / s.run_id / MODEL_FILE).is_file()]


def pick_finished_run(key: str) -> Path | None:
    """A picker of the workspace's trained runs, preselecting the run being watched.

    Args:
        key: The widget key (one per page).

    Returns:
        The chosen run's folder, or None (after saying how to get one) when there is none.
    """
    runs = finished_runs()
    if not runs:
        st.info("There is no trained model in this workspace yet.", icon=":material/info:")
        common.page_link("train", label="Go to Train")
        return None
    ids = [summary.run_id for summary in runs]
    labels = {s.run_id: f"{s.name or s.run_id} · {s.backbone} · {s.status}" for s in runs}
    current = session.current_run_id()
    run_id = st.selectbox(
        "Run",
        ids,
        index=ids.index(current) if current in ids else 0,
        format_func=labels.__getitem__,  # option labels are shown as plain text
        key=key,
    )
    return session.get_run_store().path(str(run_id))
