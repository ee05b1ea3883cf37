"""Workspaces holding one really trained tiny run, for page tests that check numbers.

A page test compares what the page shows with core's own answer for the same run (the class
``Predictor`` gives, the accuracy ``compute_metrics`` gives on the run's held-out split), so the
run is trained by ``run_training`` on a small colour dataset rather than made up.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tests.helpers.training import tiny_config


def trained_workspace(
    data: Path, *, test_ratio: float | None = None, **train: object
) -> tuple[str, str, Path]:
    """Creates a workspace (settings from the STUDIO_* env) and trains ``tiny_config(data)``.

    Args:
        data: a class-folder dataset (``tests.helpers.analysis.colour_dataset``).
        test_ratio: another test share than ``tiny_config``'s (0 leaves no test split).
        **train: ``TrainConfig`` fields to change.

    Returns:
        (workspace token, run id, run folder).
    """
    from core.config.settings import Settings
    from core.store.workspace import create_workspace, workspace_store
    from core.train.trainer import run_training

    settings = Settings.from_env()
    token = create_workspace(settings)
    store = workspace_store(settings, token)
    config = tiny_config(data, **train)
    if test_ratio is not None:
        config = dataclasses.replace(
            config, data=dataclasses.replace(config.data, test_ratio=test_ratio)
        )
    run_id = store.create(config)
    run_training(config, store, run_id, settings=settings)
    return token, run_id, store.path(run_id)
