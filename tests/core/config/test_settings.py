"""Settings from environment variables."""

from __future__ import annotations

import os

import pytest

from core.config.settings import Settings


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.runs_dir == "runs" and settings.max_jobs == 1
    assert settings.shared_workspace is False and settings.folder_source_roots == ()
    assert settings.memory_budget_mb is None  # measured when a job starts
    assert settings.max_batch_images == 2000
    assert (settings.max_model_input, settings.max_model_params) == (1024, 100_000_000)
    assert (settings.max_cached_models, settings.max_cached_model_mb) == (4, 512.0)


def test_environment_overrides() -> None:
    settings = Settings.from_env(
        {
            "STUDIO_RUNS_DIR": "/tmp/r",
            "STUDIO_MAX_JOBS": "3",
            "STUDIO_SHARED_WORKSPACE": "yes",
            "STUDIO_DATA_ROOTS": os.pathsep.join(["/data/a", "/data/b"]),
            "STUDIO_MEMORY_BUDGET_MB": "1500.5",
            "STUDIO_EXTRACT_BATCH_SIZE": "8",
            "STUDIO_MAX_BATCH_IMAGES": "500",
            "STUDIO_MAX_MODEL_INPUT": "512",
            "STUDIO_MAX_MODEL_PARAMS": "1000000",
            "STUDIO_MAX_CACHED_MODELS": "2",
            "STUDIO_MAX_CACHED_MODEL_MB": "64",
        }
    )
    assert (settings.runs_dir, settings.max_jobs, settings.shared_workspace) == ("/tmp/r", 3, True)
    assert settings.folder_source_roots == ("/data/a", "/data/b")
    assert settings.memory_budget_mb == 1500.5 and settings.extract_batch_size == 8
    assert settings.max_batch_images == 500
    assert (settings.max_model_input, settings.max_model_params) == (512, 1_000_000)
    assert (settings.max_cached_models, settings.max_cached_model_mb) == (2, 64.0)
    assert Settings.from_env({"STUDIO_MEMORY_BUDGET_MB": " "}).memory_budget_mb is None
    assert Settings.from_dict(settings.to_dict()) == settings


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STUDIO_MAX_JOBS": "two"}, "STUDIO_MAX_JOBS must be a number"),
        ({"STUDIO_MAX_JOBS": "0"}, "at least 1"),
        ({"STUDIO_SHARED_WORKSPACE": "maybe"}, "STUDIO_SHARED_WORKSPACE"),
        ({"STUDIO_DISK_CAP_MB": "-1"}, "positive"),
        ({"STUDIO_EXTRACT_BATCH_SIZE": "0"}, "extraction batch size must be at least 1"),
        ({"STUDIO_MEMORY_BUDGET_MB": "-5"}, "memory_budget_mb must be positive"),
        ({"STUDIO_MAX_BATCH_IMAGES": "0"}, "image cap must be at least 1"),
        ({"STUDIO_MAX_MODEL_INPUT": "0"}, "input size cap must be at least 1"),
        ({"STUDIO_MAX_MODEL_PARAMS": "-3"}, "parameter cap must be at least 1"),
        ({"STUDIO_MAX_CACHED_MODEL_MB": "0"}, "max_cached_model_mb must be positive"),
    ],
)
def test_bad_values_raise_plain_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)
