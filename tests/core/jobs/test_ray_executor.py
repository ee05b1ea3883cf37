"""The Ray executor without a cluster: selection, resources, a missing Ray in one sentence."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core.cluster.connect import require_ray
from core.config.settings import Settings
from core.errors import StudioError
from core.jobs.ray_executor import RayExecutor, resource_options
from core.jobs.worker import WORKER_MODULE, executor_for, executor_named


def test_the_ray_executor_is_picked_only_when_an_address_is_set(tmp_path: Path) -> None:
    assert executor_for(Settings(runs_dir=str(tmp_path))).name == "local"
    ray_executor = executor_for(Settings(runs_dir=str(tmp_path), ray_address="10.0.0.1:6379"))
    assert isinstance(ray_executor, RayExecutor)
    assert ray_executor.name == executor_named("ray").name == "ray"
    with pytest.raises(StudioError, match="'spark' executor"):
        executor_named("spark")


def test_settings_become_ray_resource_requests() -> None:
    env = {"STUDIO_RAY_ADDRESS": "auto", "STUDIO_RAY_JOB_CPUS": "2", "STUDIO_RAY_JOB_GPUS": "1",
           "STUDIO_RAY_JOB_MEMORY_MB": "1536"}  # fmt: skip
    settings = Settings.from_env(env)
    assert settings.ray_address == "auto"
    assert resource_options(settings) == {
        "num_cpus": 2.0, "num_gpus": 1.0, "memory": 1536 * 1024 * 1024,
    }  # fmt: skip
    assert "memory" not in resource_options(Settings())
    with pytest.raises(ValueError, match="ray_job_cpus"):
        Settings(ray_job_cpus=0)


def test_a_missing_ray_is_one_sentence_naming_the_requirements_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` sees without the package
    with pytest.raises(StudioError) as missing:
        require_ray("run jobs on a Ray cluster")
    assert str(missing.value) == (
        "Install requirements-cluster.txt to run jobs on a Ray cluster (Ray is not installed here)."
    )
    # Asking about a job of a cluster that cannot be asked keeps the job rather than losing it.
    assert RayExecutor(WORKER_MODULE, address="auto").is_alive(
        {"name": "train-x", "address": "auto"}
    )
