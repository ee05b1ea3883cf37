"""Per-browser-session state kept in the URL: the workspace link and the run being watched.

The URL (``st.query_params``) holds what must survive a browser reload or a bookmark: the
workspace's owner token (``ws``) or its read-only token (``view``), and the run being watched
(``run``). Streamlit clears query parameters when the user switches pages, so ``sync_url``
(called by ``app.py`` on every script run) copies them back from the session. Who may do what
with which link: ``core.store.access`` (``workspace_access``/``is_owner`` here). The choices
made on the Data, Model and Train pages are in ``ui.choices``.
"""

from __future__ import annotations

import streamlit as st

from core.config.settings import Settings
from core.store import workspace
from core.store.access import WorkspaceAccess
from core.store.runs import RunStore

WS_PARAM = "ws"
VIEW_PARAM = "view"
RUN_PARAM = "run"
KEY_PREFIX = "studio."  # every key of this session's state (here and in ``ui.choices``)

_KEY_WS = "studio.ws"
_KEY_WS_CHECKED = "studio.ws_checked"
_KEY_VIEW = "studio.view"
_KEY_RUN = "studio.run"


class WorkspaceRefusedError(ValueError):
    """The workspace (or read-only) token in the URL is malformed or unknown; said plainly."""


def get_settings() -> Settings:
    """Returns the deployment settings read from the environment (``STUDIO_*`` variables)."""
    return Settings.from_env()


# ---------------------------------------------------------------- URL state (ws/view, run)

_URL_STATE = ((WS_PARAM, _KEY_WS), (VIEW_PARAM, _KEY_VIEW), (RUN_PARAM, _KEY_RUN))
# A new link of one kind replaces the other kind: the session is either an owner's or a viewer's.
_OTHER_LINK = {_KEY_WS: (_KEY_VIEW,), _KEY_VIEW: (_KEY_WS, _KEY_WS_CHECKED)}


def sync_url() -> None:
    """Keeps ``ws``/``view`` and ``run`` in the URL across page switches (once per script run).

    A value in the URL (a reload, a bookmark, a shared link) wins over the session; when a page
    switch has cleared the URL, the session's values are written back. A read-only link
    (``view``) in the URL decides over an owner token, which is then dropped from the URL.
    """
    for param, key in _URL_STATE:
        in_url = st.query_params.get(param)
        if in_url:
            if st.session_state.get(key) != in_url:
                st.session_state[key] = in_url
                if key != _KEY_RUN:  # another workspace: earlier choices belong to the old one
                    st.session_state.pop(_KEY_RUN, None)
                    for other in _OTHER_LINK[key]:
                        st.session_state.pop(other, None)
        elif st.session_state.get(key):
            st.query_params[param] = st.session_state[key]
    if st.session_state.get(_KEY_VIEW):
        st.query_params.pop(WS_PARAM, None)


def url_params() -> dict[str, str]:
    """Returns the query parameters to carry to another page (``st.page_link``/``switch_page``)."""
    params = {}
    viewing = view_token_in_url()
    for param, key in _URL_STATE:
        if param == WS_PARAM and viewing:
            continue  # a viewer's links carry the read-only token only
        value = st.session_state.get(key) or st.query_params.get(param)
        if value:
            params[param] = str(value)
    return params


def view_token_in_url() -> str | None:
    """The read-only token this session was opened with (``?view=``), or None for an owner."""
    value = st.query_params.get(VIEW_PARAM) or st.session_state.get(_KEY_VIEW)
    return str(value) if value else None


def workspace_token() -> str:
    """Returns this visitor's OWNER token, making a new workspace token on the first visit.

    Making a token writes nothing: the workspace folder appears on its first write (a run, an
    upload). With the shared-workspace setting on (``STUDIO_SHARED_WORKSPACE=1``), everyone uses
    the single shared workspace: the token is ``""`` and none appears in the URL. Not for a
    session opened with a read-only link (see ``workspace_access``).

    Raises:
        WorkspaceRefusedError: if the URL carries a malformed or unknown token.
    """
    settings = get_settings()
    if settings.shared_workspace:
        return ""
    token = st.query_params.get(WS_PARAM) or st.session_state.get(_KEY_WS)
    if not token:
        token = workspace.create_workspace(settings)
    elif st.session_state.get(_KEY_WS_CHECKED) != token:
        try:
            workspace.workspace_store(settings, token)  # refuses malformed and unknown tokens
        except ValueError as error:
            raise WorkspaceRefusedError(str(error)) from error
    st.session_state[_KEY_WS_CHECKED] = token
    st.session_state[_KEY_WS] = token
    if st.query_params.get(WS_PARAM) != token:
        st.query_params[WS_PARAM] = token
    return token


def workspace_access() -> WorkspaceAccess:
    """Returns this session's workspace and role: owner (``?ws=``) or viewer (``?view=``).

    A read-only link never creates a workspace nor puts ``ws`` in the URL; an owner's first
    visit gets a new workspace token (``workspace_token``).

    Raises:
        WorkspaceRefusedError: the token in the URL (of either kind) is malformed or unknown,
            e.g. a read-only link whose owner renewed it.
    """
    view = view_token_in_url()
    token = None if view else workspace_token()
    try:
        access = workspace.resolve_workspace(get_settings(), token=token or None, view=view)
    except ValueError as error:
        raise WorkspaceRefusedError(str(error)) from error
    if view:
        st.session_state[_KEY_VIEW] = view
        if st.query_params.get(VIEW_PARAM) != view:
            st.query_params[VIEW_PARAM] = view
    return access


def is_owner() -> bool:
    """True when this session holds the workspace's owner link (False for a read-only link)."""
    return workspace_access().is_owner


def workspace_folder_name() -> str:
    """Returns a folder name for this workspace that does not reveal its token."""
    return workspace_access().folder_name


def start_fresh_workspace() -> str:
    """Drops the current token and choices, creates a new workspace and puts it in the URL."""
    for key in [key for key in st.session_state if str(key).startswith(KEY_PREFIX)]:
        st.session_state.pop(key, None)  # the URL state here and the choices (``ui.choices``)
    st.query_params.clear()
    return workspace_token()


def get_run_store() -> RunStore:
    """Returns the run store of this session's workspace (read-only for a ``?view=`` link)."""
    return workspace_access().store


def current_run_id() -> str | None:
    """Returns the run being watched (from the URL after a reload), or None."""
    value = st.query_params.get(RUN_PARAM) or st.session_state.get(_KEY_RUN)
    return str(value) if value else None


def set_current_run(run_id: str | None) -> None:
    """Sets (or clears, with None) the run being watched, in the session and in the URL."""
    if run_id:
        st.session_state[_KEY_RUN] = run_id
        st.query_params[RUN_PARAM] = run_id
    else:
        st.session_state.pop(_KEY_RUN, None)
        st.query_params.pop(RUN_PARAM, None)


def workspace_token_if_any() -> str | None:
    """The owner token of this session if it has one already (creates nothing)."""
    value = st.query_params.get(WS_PARAM) or st.session_state.get(_KEY_WS)
    return str(value) if value else None
