"""Per-browser-session state of the studio, and the state kept in the URL.

Two kinds of state live here:

* The URL (``st.query_params``) holds what must survive a browser reload or a bookmark: the
  workspace token (``ws``) and the run being watched (``run``). Streamlit clears query
  parameters when the user switches pages, so ``sync_url`` (called by ``app.py`` on every
  script run) copies them back from the session.
* ``st.session_state`` holds the choices made on the Data, Model and Train pages, through the
  typed accessors below (never through raw keys from a page).

Engine modules are imported inside the functions so that importing this module (the Home page
does) never imports TensorFlow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:
    from core.data.report import DatasetReport
    from core.data.spec import DataSpec
    from core.data.splits import SplitData
    from core.model.spec import ModelSpec
    from core.settings import Settings
    from core.spec.run import TrainConfig
    from core.store.runs import RunStore

WS_PARAM = "ws"
RUN_PARAM = "run"
# Environment variable: the default backbone weights, "imagenet" or "none" (tests use "none").
DEFAULT_WEIGHTS_ENV = "STUDIO_DEFAULT_WEIGHTS"

_KEY_WS = "studio.ws"
_KEY_WS_CHECKED = "studio.ws_checked"
_KEY_RUN = "studio.run"
_KEY_DATA = "studio.data"
_KEY_MODEL = "studio.model_spec"
_KEY_MODEL_CONFIRMED = "studio.model_confirmed"
_KEY_TRAIN = "studio.train_config"


class WorkspaceRefusedError(ValueError):
    """The workspace token in the URL is malformed or unknown; the message says so plainly."""


@dataclass(frozen=True)
class DataState:
    """The dataset chosen on the Data page.

    Attributes:
        spec: Where the images are and how they are split and augmented.
        report: What the scan found (classes, images, skipped files, warnings).
        split: The train/validation/test lists built from ``report`` with ``spec``'s ratios.
        source: A short description of where the data came from (for status panels).
    """

    spec: DataSpec
    report: DatasetReport
    split: SplitData
    source: str


def get_settings() -> Settings:
    """Returns the deployment settings read from the environment (``STUDIO_*`` variables)."""
    from core.settings import Settings

    return Settings.from_env()


# ---------------------------------------------------------------- URL state (ws, run)


def sync_url() -> None:
    """Keeps ``ws`` and ``run`` in the URL across page switches (call once per script run).

    A value in the URL (a reload, a bookmark, a shared link) wins over the session; when a page
    switch has cleared the URL, the session's values are written back.
    """
    for param, key in ((WS_PARAM, _KEY_WS), (RUN_PARAM, _KEY_RUN)):
        in_url = st.query_params.get(param)
        if in_url:
            if st.session_state.get(key) != in_url:
                st.session_state[key] = in_url
                if key == _KEY_WS:  # another workspace: earlier choices belong to the old one
                    st.session_state.pop(_KEY_RUN, None)
        elif st.session_state.get(key):
            st.query_params[param] = st.session_state[key]


def url_params() -> dict[str, str]:
    """Returns the query parameters to carry to another page (``st.page_link``/``switch_page``)."""
    params = {}
    for param, key in ((WS_PARAM, _KEY_WS), (RUN_PARAM, _KEY_RUN)):
        value = st.session_state.get(key) or st.query_params.get(param)
        if value:
            params[param] = str(value)
    return params


def workspace_token() -> str:
    """Returns this visitor's workspace token, creating a workspace on the first visit.

    With the shared-workspace setting on (``STUDIO_SHARED_WORKSPACE=1``), everyone uses the
    single shared workspace: the token is ``""`` and none appears in the URL.

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


def workspace_folder_name() -> str:
    """Returns a folder name for this workspace that does not reveal its token."""
    from core.store.workspace import workspace_dir

    return workspace_dir(get_settings(), workspace_token() or None).name


def start_fresh_workspace() -> str:
    """Drops the current token and choices, creates a new workspace and puts it in the URL."""
    for key in (_KEY_WS, _KEY_WS_CHECKED, _KEY_RUN, _KEY_DATA, _KEY_MODEL, _KEY_MODEL_CONFIRMED):
        st.session_state.pop(key, None)
    for key in (_KEY_TRAIN,):
        st.session_state.pop(key, None)
    st.query_params.clear()
    return workspace_token()


def get_run_store() -> RunStore:
    """Returns the run store of this visitor's workspace (see ``workspace_token``)."""
    from core.store.workspace import workspace_store

    return workspace_store(get_settings(), workspace_token() or None)


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


def get_data() -> DataState | None:
    """Returns the dataset chosen on the Data page, or None."""
    value = st.session_state.get(_KEY_DATA)
    return value if isinstance(value, DataState) else None


def set_data(state: DataState | None) -> None:
    """Stores (or clears) the chosen dataset."""
    if state is None:
        st.session_state.pop(_KEY_DATA, None)
    else:
        st.session_state[_KEY_DATA] = state


def default_weights() -> str:
    """Returns the default backbone weights: ``$STUDIO_DEFAULT_WEIGHTS`` or ``"imagenet"``."""
    value = os.environ.get(DEFAULT_WEIGHTS_ENV, "imagenet").strip().lower()
    return value if value in ("imagenet", "none") else "imagenet"


def get_model_spec() -> ModelSpec:
    """Returns the model chosen on the Model page, or the default (MobileNetV2)."""
    from core.model.spec import ModelSpec

    value = st.session_state.get(_KEY_MODEL)
    if isinstance(value, ModelSpec):
        return value
    return ModelSpec(weights=default_weights())


def set_model_spec(spec: ModelSpec) -> None:
    """Stores the model chosen on the Model page and marks the step as done."""
    st.session_state[_KEY_MODEL] = spec
    st.session_state[_KEY_MODEL_CONFIRMED] = True


def model_confirmed() -> bool:
    """Returns True once the visitor pressed "Use this model" on the Model page."""
    return bool(st.session_state.get(_KEY_MODEL_CONFIRMED))


def get_train_config() -> TrainConfig:
    """Returns the training settings chosen on the Train page, or the defaults."""
    from core.spec.run import TrainConfig

    value = st.session_state.get(_KEY_TRAIN)
    return value if isinstance(value, TrainConfig) else TrainConfig()


def set_train_config(config: TrainConfig) -> None:
    """Stores the training settings chosen on the Train page."""
    st.session_state[_KEY_TRAIN] = config


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
