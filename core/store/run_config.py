"""Reading a run folder's ``config.json`` as a ``RunConfig``, run folders of older versions too.

A setting added since a run was made takes its default in ``from_dict``; only settings whose
default changed since are filled in here, with the value those runs really used, so an old
run re-runs as it ran.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.config.run import RunConfig
from core.errors import StudioError


def read_run_config(path: Path) -> RunConfig:
    """Reads a run folder's ``config.json`` as a ``RunConfig``, older run folders included.

    Raises:
        StudioError: the file is missing, not JSON, or not a valid run config (plain message).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise StudioError(
            "This run's settings (config.json) cannot be read; the run folder is damaged."
        ) from error
    try:
        return RunConfig.from_dict(_upgrade_config(data))
    except (TypeError, ValueError) as error:
        raise StudioError(f"This run's settings (config.json) are not valid: {error}") from error


def _upgrade_config(data: Any) -> Any:
    """Fills in what run folders written before a setting existed leave out.

    Only settings whose default has changed since are filled here, with the value those runs
    really used; a missing setting whose default never changed takes it from ``from_dict``.
    """
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        section = data["data"]
        if "resize_mode" not in section:  # the default was "stretch" before "crop"
            data = {**data, "data": {**section, "resize_mode": "stretch"}}
    if isinstance(data, dict) and isinstance(data.get("train"), dict):
        train = data["train"]
        # "multi_worker" is refused for new runs (Keras 3 cannot train with it); a run folder
        # from before still opens, as what it can be re-run as.
        if train.get("strategy") == "multi_worker":
            data = {**data, "train": {**train, "strategy": "default"}}
    return data
