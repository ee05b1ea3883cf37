"""Per-browser-session state of the studio, and the state kept in the URL.

Two kinds of state live here:

* The URL (``st.query_params``) holds what must survive a browser reload or a bookmark: the
  workspace's owner token (``ws``) or its read-only token (``view``), and the run being watched
  (``run``). Streamlit clears query parameters when the user switches pages, so ``sync_url``
  (called by ``app.py`` on every script run) copies them back from the session. Who may do what
  with which link: ``core.store.access`` (``workspace_access``/``is_owner`` here).
* ``st.session_state`` holds the choices made on the Data, Model and Train pages, through the
  typed accessors below (never through raw keys from a page).
* The owner's dataset choice is also recorded in the workspace on the server
  (``core.store.datasets``) by ``set_data``, and ``get_data`` re-attaches it when a session (a
  reload, another device with the same ``?ws=`` link) starts without one. A read-only link
  never sees the owner's dataset.

Engine modules are imported inside the functions so that importing this module (the Home page
does) never imports TensorFlow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:
    from core.config.data import DataConfig
    from core.config.model import ModelConfig
    from core.config.settings import Settings
    from core.config.train import TrainConfig
    from core.data.report import DatasetReport, SkippedFile
    from core.data.splits import SplitData
    from core.store.access import WorkspaceAccess
    from core.store.runs import RunStore

WS_PARAM = "ws"
VIEW_PARAM = "view"
RUN_PARAM = "run"
# Environment variable: the default backbone weights, "imagenet" or "none" (tests use "none").
DEFAULT_WEIGHTS_ENV = "STUDIO_DEFAULT_WEIGHTS"

_KEY_WS = "studio.ws"
_KEY_WS_CHECKED = "studio.ws_checked"
_KEY_VIEW = "studio.view"
_KEY_RUN = "studio.run"
_KEY_DATA = "studio.data"
_KEY_DATA_CHECKED = "studio.data_checked"  # the workspace whose stored dataset was looked for
_KEY_MODEL = "studio.model_spec"
_KEY_MODEL_CONFIRMED = "studio.model_confirmed"
_KEY_TRAIN = "studio.train_config"
_KEY_RUN_NAME = "studio.run_name"


class WorkspaceRefusedError(ValueError):
    """The workspace (or read-only) token in the URL is malformed or unknown; said plainly."""


@dataclass(frozen=True)
class DataState:
    """The dataset chosen on the Data page.

    Attributes:
        spec: Where the images are and how they are split and augmented.
        report: What the scan found (classes, images, skipped files, warnings).
        split: The train/validation/test lists built from ``report`` with ``spec``'s ratios.
        source: A short description of where the data came from (for status panels).
    """

    spec: DataConfig
    report: DatasetReport
    split: SplitData
    source: str


def get_settings() -> Settings:
    """Returns the deployment settings read from the environment (``STUDIO_*`` variables)."""
    from core.config.settings import Settings

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
    from core.store import workspace

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
    from core.store.workspace import resolve_workspace

    view = view_token_in_url()
    token = None if view else workspace_token()
    try:
        access = resolve_workspace(get_settings(), token=token or None, view=view)
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
    for key in (_KEY_WS, _KEY_WS_CHECKED, _KEY_VIEW, _KEY_RUN, _KEY_DATA, _KEY_MODEL):
        st.session_state.pop(key, None)
    for key in (_KEY_MODEL_CONFIRMED, _KEY_TRAIN, _KEY_RUN_NAME, _KEY_DATA_CHECKED):
        st.session_state.pop(key, None)
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


# ---------------------------------------------------------------- choices of the steps


def make_data_state(
    spec: DataConfig, source: str, skipped: list[SkippedFile] | None = None
) -> DataState:
    """Scans ``spec.path`` and splits it with ``spec``'s settings (stores nothing).

    Args:
        spec: Where the images are and how to split, resize and augment them.
        source: Short description for the status panels.
        skipped: files refused before they reached the folder (listed as skipped too).

    Raises:
        DataError: if the folder holds no usable dataset (message for the user).
    """
    from pathlib import Path

    from core.data.checks import dataset_warnings
    from core.data.scan import scan_dataset
    from core.data.splits import split_dataset

    report = scan_dataset(Path(spec.path))
    if skipped:
        report.skipped = [*skipped, *report.skipped]
        report.warnings = dataset_warnings(report)  # they count in "N files were skipped"
    split = split_dataset(report, spec.val_ratio, spec.test_ratio, spec.seed)
    return DataState(spec=spec, report=report, split=split, source=source)


def get_data() -> DataState | None:
    """Returns the chosen dataset, re-attaching the workspace's stored one in a new session."""
    value = st.session_state.get(_KEY_DATA)
    if isinstance(value, DataState):
        return value
    return _reattach_data()


def _reattach_data() -> DataState | None:
    """The owner's dataset recorded in the workspace, scanned again (once per workspace).

    Only for an owner whose token is already known (a new visitor has nothing to find, and a
    read-only link never gets the owner's data). A folder that is gone or no longer scans is
    simply not re-attached: the Data page asks for data as for a new visitor.
    """
    from core.store.datasets import stored_dataset

    settings = get_settings()
    token = workspace_token_if_any()
    if view_token_in_url() or not (token or settings.shared_workspace):
        return None
    checked = str(token or "")
    if st.session_state.get(_KEY_DATA_CHECKED) == checked:
        return None
    try:
        access = workspace_access()
    except WorkspaceRefusedError:  # the page says so (common.workspace_or_stop)
        return None
    st.session_state[_KEY_DATA_CHECKED] = checked
    stored = stored_dataset(settings, access.store) if access.is_owner else None
    if stored is None:
        return None
    try:
        state = make_data_state(stored.spec, stored.source)
    except (ValueError, OSError):  # emptied or damaged since: load data again
        return None
    st.session_state[_KEY_DATA] = state
    return state


def set_data(state: DataState | None) -> None:
    """Stores (or clears) the chosen dataset, and records it in the owner's workspace.

    The record (``core.store.datasets``) lets a reload or another device with the same link
    find the dataset again. A read-only link records nothing.
    """
    if state is None:
        st.session_state.pop(_KEY_DATA, None)
    else:
        st.session_state[_KEY_DATA] = state
    _record_data(state)


def _record_data(state: DataState | None) -> None:
    """Writes (or removes) the workspace's dataset record for an owner; never fails the page."""
    import logging

    from core.errors import StudioError
    from core.store.datasets import clear_dataset, save_dataset

    try:
        access = workspace_access()
        if not access.is_owner:
            return
        st.session_state[_KEY_DATA_CHECKED] = str(workspace_token_if_any() or "")
        if state is None:
            clear_dataset(access.store)
        else:
            save_dataset(get_settings(), access.store, state.spec, state.source)
    except (StudioError, OSError) as error:  # the dataset works in this session regardless
        logging.getLogger(__name__).warning("Could not record the dataset: %s", error)


def workspace_token_if_any() -> str | None:
    """The owner token of this session if it has one already (creates nothing)."""
    value = st.query_params.get(WS_PARAM) or st.session_state.get(_KEY_WS)
    return str(value) if value else None


def default_weights() -> str:
    """Returns the default backbone weights: ``$STUDIO_DEFAULT_WEIGHTS`` or ``"imagenet"``."""
    value = os.environ.get(DEFAULT_WEIGHTS_ENV, "imagenet").strip().lower()
    return value if value in ("imagenet", "none") else "imagenet"


def get_model_spec() -> ModelConfig:
    """Returns the model chosen on the Model page, or the default (MobileNetV2)."""
    from core.config.model import ModelConfig

    value = st.session_state.get(_KEY_MODEL)
    if isinstance(value, ModelConfig):
        return value
    return ModelConfig(weights=default_weights())


def set_model_spec(spec: ModelConfig) -> None:
    """Stores the model chosen on the Model page and marks the step as done."""
    st.session_state[_KEY_MODEL] = spec
    st.session_state[_KEY_MODEL_CONFIRMED] = True


def model_confirmed() -> bool:
    """Returns True once the visitor pressed "Use this model" on the Model page."""
    return bool(st.session_state.get(_KEY_MODEL_CONFIRMED))


def get_train_config() -> TrainConfig:
    """Returns the training settings chosen on the Train page, or the defaults."""
    from core.config.train import TrainConfig

    value = st.session_state.get(_KEY_TRAIN)
    return value if isinstance(value, TrainConfig) else TrainConfig()


def set_train_config(config: TrainConfig) -> None:
    """Stores the training settings chosen on the Train page."""
    st.session_state[_KEY_TRAIN] = config


def get_run_name() -> str:
    """Returns the run name last used on the Train page (or loaded by a re-run), else ""."""
    return str(st.session_state.get(_KEY_RUN_NAME) or "")


def set_run_name(name: str) -> None:
    """Stores the run name, the Train page's default for the next run."""
    st.session_state[_KEY_RUN_NAME] = name


def status_summary() -> dict[str, Any]:
    """Returns what this session has done so far, without importing any engine module.

    Returns:
        A dict with ``data`` (source text or None), ``classes`` (int), ``images`` (int),
        ``model`` (backbone id or None when not confirmed), ``run`` (run id or None).
    """
    data = get_data()
    model = st.session_state.get(_KEY_MODEL) if model_confirmed() else None
    return {
        "data": data.source if data else None,
        "classes": len(data.report.classes) if data else 0,
        "images": len(data.report.records) if data else 0,
        "model": getattr(model, "backbone", None),
        "run": current_run_id(),
    }
