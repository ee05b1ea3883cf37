"""The run picker of the Evaluate and Predict pages: the workspace's runs with a trained model."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.store.runs import RunSummary
from core.text import percent
from ui import common, session
from ui.model_cache import MODEL_FILE


def finished_runs() -> list[RunSummary]:
    """Summaries of this workspace's runs that have a trained model, newest first."""
    store = session.get_run_store()
    return [s for s in store.list_runs() if (store.root / s.run_id / MODEL_FILE).is_file()]


def run_title(name: str, run_id: str, backbone: str) -> str:
    """A run's name, or for an unnamed run its backbone and start time (never the bare id)."""
    when = f"{run_id[:4]}-{run_id[4:6]}-{run_id[6:8]} {run_id[9:11]}:{run_id[11:13]}"
    return name or f"{backbone}, {when}"


def run_label(name: str, run_id: str, backbone: str, test: float | None, val: float | None) -> str:
    """How every picker names a run: its name (or backbone and date) and its score.

    Plain text: pickers show option labels as typed, so a user's run name needs no escaping.
    """
    title = run_title(name, run_id, backbone)
    if test is not None:
        return f"{title} · test accuracy {percent(test)}"
    if val is not None:
        return f"{title} · validation accuracy {percent(val)}"
    return f"{title} · not scored"


def newest_run_id() -> str | None:
    """The workspace's newest run (any status), or None when it has none."""
    ids = session.get_run_store().run_ids()
    return ids[-1] if ids else None


def shown_run_id() -> str | None:
    """The run the pages show: the one being watched, else the workspace's newest.

    A new tab, another device or a read-only link starts without a run in the URL; the
    workspace's newest run is then attached (and put in the URL), so every page shows the
    same run as the owner's last session did.
    """
    current = session.current_run_id()
    if current:
        return current
    newest = newest_run_id()
    if newest:
        session.set_current_run(newest)
    return newest


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
    labels = {
        s.run_id: run_label(s.name, s.run_id, s.backbone, s.test_accuracy, s.val_accuracy)
        for s in runs
    }
    current = session.current_run_id()
    run_id = st.selectbox(
        "Run",
        ids,
        index=ids.index(current) if current in ids else 0,
        format_func=labels.__getitem__,  # option labels are shown as plain text
        key=key,
    )
    return session.get_run_store().path(str(run_id))
