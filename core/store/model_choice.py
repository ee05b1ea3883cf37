"""A workspace's confirmed model choice, recorded on the server so a new session finds it.

Like the dataset record (``core.store.datasets``): a reload or another device with the same
``?ws=`` link starts with an empty session, so the model the owner confirmed on the Model page
("Use this model") is kept in the workspace folder (``.model.json``, written atomically) and
the UI re-attaches it. A record that no longer validates (an older format, a backbone that left
the registry) is simply not re-attached. Only the owner writes it; a read-only link never
reads it (a viewer sees the models of the runs).
"""

from __future__ import annotations

import json

from core.atomic import read_json_object, write_json_atomic
from core.config.model import ModelConfig
from core.store.access import is_read_only, require_owner
from core.store.runs import RunStore
from core.store.workspace import mark_written

MODEL_RECORD = ".model.json"
RECORD_VERSION = 1


def save_model_choice(store: RunStore, spec: ModelConfig) -> None:
    """Records ``spec`` as the workspace's confirmed model (only when it changed).

    Raises:
        ReadOnlyError: ``store`` belongs to a read-only link.
    """
    require_owner(store, "choosing a model")
    record = {"version": RECORD_VERSION, "model": spec.to_dict()}
    path = store.root / MODEL_RECORD
    if read_json_object(path) != json.loads(json.dumps(record)):  # as it would read back
        mark_written(store.root)
        write_json_atomic(path, record)


def stored_model_choice(store: RunStore) -> ModelConfig | None:
    """The workspace's confirmed model, or None (none recorded, unreadable, a viewer's store)."""
    if is_read_only(store):
        return None
    record = read_json_object(store.root / MODEL_RECORD)
    if record is None or record.get("version") != RECORD_VERSION:
        return None
    try:
        return ModelConfig.from_dict(record["model"])
    except (KeyError, TypeError, ValueError):  # a record that no longer validates
        return None
