"""The Runs page's share panel: the owner's read-only link and a run's presentation link.

The read-only link (``?view=``) shows the workspace without any action that writes
(``core.store.access``); the presentation link opens one run's presentation page
(``app_pages/present.py``). Making the link also queues the evaluation and the
quick-prediction model (single-image Predict on LiteRT) of the newest runs that have none,
since a viewer cannot start a job.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from core.errors import StudioError
from core.store.runs import RunRecord
from core.store.workspace import read_marker, view_token
from ui import common, model_cache, session
from ui.evaluate.results import evaluation_job
from ui.runs.overview import label_of


def show_share(records: list[RunRecord]) -> None:
    """The owner's read-only link for this workspace (made on demand, renewable), and a
    presentation link of the newest run with a model."""
    access = session.workspace_access()
    if not access.is_owner:
        return
    with st.expander("Share a read-only link", icon=":material/share:"):
        st.write(SHARE_TEXT)
        st.warning(
            "The address in your browser (with ws=) is the owner link: whoever has it can "
            "change and delete everything here. Share the read-only link instead.",
            icon=":material/key:",
        )
        current = read_marker(access.store.root).get("view")
        owner_token = session.workspace_token() or None
        if not isinstance(current, str):
            if st.button("Make a read-only link", key="runs_share_make"):
                view_token(session.get_settings(), owner_token)
                prepare_for_viewers(records)
                st.rerun()
            return
        st.code(share_link(current), language=None, wrap_lines=True)
        shown = next((record for record in records if record.has_model), None)
        if shown is not None:
            st.caption(
                f"Presentation of {common.escape_markdown(label_of(shown))}: one page with its "
                "scores, confusion matrix, examples with Grad-CAM and a photo to try, made "
                "for a phone or a projector."
            )
            st.code(share_link(current, "present", shown.run_id), language=None, wrap_lines=True)
        if st.button(
            "Renew the read-only link",
            key="runs_share_renew",
            help="Makes a new read-only link; the old one stops working.",
        ):
            view_token(session.get_settings(), owner_token, renew=True)
            st.rerun()


SHARE_TEXT = (
    "Whoever opens the read-only link sees this workspace's runs: result cards, curves, the "
    "full evaluation (per-class table, confusion matrix, mistakes, Grad-CAM), model cards and "
    "comparisons, can download the models and model cards, and can try a model on their own "
    "photos (classified in memory, never stored). They cannot train, upload data, re-run, "
    "delete or export. Making the link also "
    "evaluates the newest runs that were not evaluated yet, so the viewer sees the details."
)
PREPARED_RUNS = 5  # runs evaluated for viewers when the link is made (newest first)


def prepare_for_viewers(records: list[RunRecord]) -> None:
    """Queues the evaluation and the quick-prediction model (``ui.model_cache.prepare_run``)
    of the newest runs with a model that have none yet (owner only).

    A viewer cannot start a job (it writes into the run), so the owner's link does it when it
    makes the read-only link. A run whose jobs cannot be queued is skipped.
    """
    for record in [record for record in records if record.has_model][:PREPARED_RUNS]:
        try:
            evaluation_job(record.path)
            model_cache.prepare_run(record.path)
        except StudioError as error:  # a full disk or queue: the viewer sees the scores only
            common.LOGGER.warning("Could not prepare run %s for viewers: %s", record.run_id, error)


def share_link(view: str, page: str = "", run_id: str | None = None) -> str:
    """A read-only link to ``page`` (a URL path, "" for Home) of this app, ``run_id`` in it.

    The app's address is this page's (when the browser told it), without the page's own
    path: ``http://host/runs`` becomes ``http://host/present?view=...``.
    """
    parsed = urlsplit(st.context.url or "")
    parts = parsed.path.rstrip("/").split("/")
    if parts and parts[-1] in common.page_url_paths():
        parts = parts[:-1]
    root = urlunsplit((parsed.scheme, parsed.netloc, "/".join(parts), "", ""))
    params = {session.VIEW_PARAM: view} | ({session.RUN_PARAM: run_id} if run_id else {})
    return f"{root}/{page}?{urlencode(params)}"
