"""The choices made on the Data, Model and Train pages, kept in ``st.session_state``.

Pages read and write them through the typed accessors below (never through raw keys). The
owner's dataset choice is also recorded in the workspace on the server
(``core.store.datasets``) by ``set_data``, and ``get_data`` re-attaches it when a session (a
reload, another device with the same ``?ws=`` link) starts without one. A read-only link
never sees the owner's dataset.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import streamlit as st

from core.config.model import ModelConfig
from core.config.train import TrainConfig
from core.data.loaded import LoadedDataset, scan_and_split
from core.errors import StudioError
from core.store.access import WorkspaceAccess
from core.store.datasets import clear_dataset, save_dataset, stored_dataset
from core.store.model_choice import save_model_choice, stored_model_choice
from ui.session import (
    WorkspaceRefusedError,
    current_run_id,
    get_settings,
    view_token_in_url,
    workspace_access,
    workspace_token_if_any,
)

# Environment variable: the default backbone weights, "imagenet" or "none" (tests use "none").
DEFAULT_WEIGHTS_ENV = "STUDIO_DEFAULT_WEIGHTS"

_KEY_DATA = "studio.data"
_KEY_DATA_CHECKED = "studio.data_checked"  # the workspace whose stored dataset was looked for
_KEY_MODEL = "studio.model_spec"
_KEY_MODEL_CONFIRMED = "studio.model_confirmed"
_KEY_MODEL_CHECKED = "studio.model_checked"  # the workspace whose stored model was looked for
_KEY_TRAIN = "studio.train_config"
_KEY_RUN_NAME = "studio.run_name"


def get_data() -> LoadedDataset | None:
    """Returns the chosen dataset, re-attaching the workspace's stored one in a new session."""
    value = st.session_state.get(_KEY_DATA)
    if isinstance(value, LoadedDataset):
        return value
    return _reattach_data()


def _reattach_data() -> LoadedDataset | None:
    """The owner's dataset recorded in the workspace, scanned again (once per workspace).

    Only for an owner whose token is already known (a new visitor has nothing to find, and a
    read-only link never gets the owner's data). A folder that is gone or no longer scans is
    simply not re-attached: the Data page asks for data as for a new visitor.
    """
    access = _owner_access_once(_KEY_DATA_CHECKED)
    stored = stored_dataset(get_settings(), access.store) if access is not None else None
    if stored is None:
        return None
    try:
        state = scan_and_split(stored.spec, stored.source)
    except (ValueError, OSError):  # emptied or damaged since: load data again
        return None
    st.session_state[_KEY_DATA] = state
    return state


def _owner_access_once(checked_key: str) -> WorkspaceAccess | None:
    """The owner's workspace the first time ``checked_key`` asks for it in this session.

    None for a read-only link, a new visitor without a workspace, a refused token (the page
    says so: ``common.workspace_or_stop``), a viewer, or when this workspace was already
    looked at under ``checked_key``.
    """
    token = workspace_token_if_any()
    if view_token_in_url() or not (token or get_settings().shared_workspace):
        return None
    checked = str(token or "")
    if st.session_state.get(checked_key) == checked:
        return None
    try:
        access = workspace_access()
    except WorkspaceRefusedError:
        return None
    st.session_state[checked_key] = checked
    return access if access.is_owner else None


def set_data(state: LoadedDataset | None) -> None:
    """Stores (or clears) the chosen dataset, and records it in the owner's workspace.

    The record (``core.store.datasets``) lets a reload or another device with the same link
    find the dataset again. A read-only link records nothing.
    """
    if state is None:
        st.session_state.pop(_KEY_DATA, None)
    else:
        st.session_state[_KEY_DATA] = state
    _record_data(state)


def _record_data(state: LoadedDataset | None) -> None:
    """Writes (or removes) the workspace's dataset record for an owner; never fails the page."""
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


def default_weights() -> str:
    """Returns the default backbone weights: ``$STUDIO_DEFAULT_WEIGHTS`` or ``"imagenet"``."""
    value = os.environ.get(DEFAULT_WEIGHTS_ENV, "imagenet").strip().lower()
    return value if value in ("imagenet", "none") else "imagenet"


def get_model_spec() -> ModelConfig:
    """Returns the model chosen on the Model page (this session's, else the workspace's
    recorded choice), or the default (MobileNetV2)."""
    value = st.session_state.get(_KEY_MODEL)
    if isinstance(value, ModelConfig):
        return value
    stored = _reattach_model()
    return stored if stored is not None else ModelConfig(weights=default_weights())


def _reattach_model() -> ModelConfig | None:
    """The owner's model recorded in the workspace, put in the session (once per workspace)."""
    access = _owner_access_once(_KEY_MODEL_CHECKED)
    stored = stored_model_choice(access.store) if access is not None else None
    if stored is not None:
        st.session_state[_KEY_MODEL] = stored
        st.session_state[_KEY_MODEL_CONFIRMED] = True
    return stored


def set_model_spec(spec: ModelConfig) -> None:
    """Stores the model chosen on the Model page, marks the step as done and records it in
    the owner's workspace (a reload or another device finds it again)."""
    st.session_state[_KEY_MODEL] = spec
    st.session_state[_KEY_MODEL_CONFIRMED] = True
    try:
        access = workspace_access()
        if access.is_owner:
            st.session_state[_KEY_MODEL_CHECKED] = str(workspace_token_if_any() or "")
            save_model_choice(access.store, spec)
    except (StudioError, OSError) as error:  # the choice works in this session regardless
        logging.getLogger(__name__).warning("Could not record the model: %s", error)


def model_confirmed() -> bool:
    """Returns True once the visitor pressed "Use this model" (in this session or before)."""
    if not st.session_state.get(_KEY_MODEL_CONFIRMED):
        _reattach_model()
    return bool(st.session_state.get(_KEY_MODEL_CONFIRMED))


def get_train_config() -> TrainConfig:
    """Returns the training settings chosen on the Train page, or the defaults."""
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
    """Returns what this session has done so far (cheap: reads the session state only).

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
