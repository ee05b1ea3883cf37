"""Settings from environment variables."""

from __future__ import annotations

import os

import pytest

from core.settings import Settings


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.runs_dir == "runs" and settings.max_jobs == 1
    assert settings.shared_workspace is False and settings.folder_source_roots == ()
    assert settings.memory_budget_mb == 2700


def test_environment_overrides() -> None:
    settings = Settings.from_env(
        {
            "STUDIO_RUNS_DIR": "/tmp/r",
            "STUDIO_MAX_JOBS": "3",
            "STUDIO_SHARED_WORKSPACE": "yes",
            "STUDIO_DATA_ROOTS": os.pathsep.join(["/data/a", "/data/b"]),
            "STUDIO_MEMORY_BUDGET_MB": "1500.5",
            "STUDIO_EXTRACT_BATCH_SIZE": "8",
        }
    )
    assert (settings.runs_dir, settings.max_jobs, settings.shared_workspace) == ("/tmp/r", 3, True)
    assert settings.folder_source_roots == ("/data/a", "/data/b")
    assert settings.memory_budget_mb == 1500.5 and settings.extract_batch_size == 8
    assert Settings.from_dict(settings.to_dict()) == settings


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STUDIO_MAX_JOBS": "two"}, "STUDIO_MAX_JOBS must be a number"),
        ({"STUDIO_MAX_JOBS": "0"}, "at least 1"),
        ({"STUDIO_SHARED_WORKSPACE": "maybe"}, "STUDIO_SHARED_WORKSPACE"),
        ({"STUDIO_DISK_CAP_MB": "-1"}, "positive"),
        ({"STUDIO_EXTRACT_BATCH_SIZE": "0"}, "extraction batch size must be at least 1"),
    ],
)
def test_bad_values_raise_plain_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)
