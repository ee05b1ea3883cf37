"""The queue's launch rule, without workers: lanes, the memory plan and the order of long jobs."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from core.config.backbones import get_backbone
from core.config.settings import Settings
from core.errors import StudioError
from core.jobs.memory_plan import (
    MARGIN,
    MEASURED_PEAK_MB,
    WEB_PROCESS_MB,
    check_fits_alone,
    planned_peak_mb,
)
from core.jobs.registry import LONG_LANE, SHORT_LANE, JobEntry, JobRegistry
from core.jobs.runner import JobRunner
from core.jobs.scheduler import settle
from core.store.runs import RunStore
from tests.helpers.training import tiny_config

CLOUD_BOX_MB = 2700.0  # Streamlit Community Cloud: the web process and the jobs together


class RecordingExecutor:
    """Launches nothing: records the job folders it was asked to start; every worker lives."""

    def __init__(self, name: str = "local") -> None:
        self.name = name
        self.launched: list[str] = []

    def launch(self, job_dir: Path) -> dict[str, Any]:
        self.launched.append(Path(job_dir).name)
        return {"pid": 0}

    def is_alive(self, handle: dict[str, Any]) -> bool:
        return True

    def kill(self, handle: dict[str, Any]) -> None:
        return None


def _settle(tmp_path: Path, jobs: Sequence[tuple[str, ...]], **settings: Any) -> list[str]:
    """Queues (id, kind, lane[, workspace]) entries planned from the table, settles; returns
    what started."""
    executor = RecordingExecutor()
    registry = JobRegistry(tmp_path)
    config = Settings(runs_dir=str(tmp_path), **{"memory_budget_mb": CLOUD_BOX_MB, **settings})
    with registry.locked() as state:
        for job_id, kind, lane, *workspace in jobs:
            planned = planned_peak_mb(kind, {"analysis": "calibrate"})
            entry = JobEntry(job_id, kind, "".join(workspace), None, str(tmp_path / job_id),
                             planned_mb=planned, lane=lane, submitted=time.time())  # fmt: skip
            state.add(entry)
        settle(state, executor, config)
    return executor.launched


def test_on_the_cloud_box_a_models_question_runs_beside_a_training_run(tmp_path: Path) -> None:
    started = _settle(
        tmp_path,
        [("train-1", "train", LONG_LANE), ("export-2", "export", LONG_LANE),
         ("model_facts-3", "model_facts", SHORT_LANE)],
    )  # fmt: skip
    # One slot for long jobs (STUDIO_MAX_JOBS=1): the export waits; the question does not.
    assert started == ["train-1", "model_facts-3"]


def test_a_short_job_that_does_not_fit_next_to_the_running_ones_waits(tmp_path: Path) -> None:
    started = _settle(
        tmp_path,
        [("train-1", "train", LONG_LANE), ("predict_model-2", "predict_model", SHORT_LANE)],
    )
    planned = planned_peak_mb("train", {}) + planned_peak_mb("predict_model", {})
    assert planned > CLOUD_BOX_MB - WEB_PROCESS_MB  # 1485 + 1183 MB: not both at once
    assert started == ["train-1"]


def test_a_long_job_waiting_for_memory_is_not_overtaken_by_a_later_long_job(
    tmp_path: Path,
) -> None:
    jobs = [("evaluate-1", "evaluate", LONG_LANE), ("export-2", "export", LONG_LANE),
            ("analyse-3", "analyse", LONG_LANE)]  # fmt: skip
    # Two long slots, but the export does not fit next to the evaluation (1045 + 1386 MB) and
    # the calibration after it, which would (1045 + 1023 MB), keeps its place behind it.
    assert _settle(tmp_path, jobs, max_jobs=2) == ["evaluate-1"]
    assert _settle(tmp_path / "more", jobs, max_jobs=2, memory_budget_mb=4000.0) == [
        "evaluate-1", "export-2",
    ]  # fmt: skip


def test_turns_decide_which_job_is_next_and_the_plan_whether_it_fits(tmp_path: Path) -> None:
    """Workspace a queued two exports before b's evaluation: b's goes second (its turn), and
    only when the memory for jobs holds it next to the export."""
    jobs = [("export-1", "export", LONG_LANE, "a"), ("export-2", "export", LONG_LANE, "a"),
            ("evaluate-3", "evaluate", LONG_LANE, "b")]  # fmt: skip
    assert _settle(tmp_path, jobs, max_jobs=2, memory_budget_mb=4000.0) == [
        "export-1", "evaluate-3",
    ]  # fmt: skip
    assert _settle(tmp_path / "cloud", jobs, max_jobs=2) == ["export-1"]  # 1386 + 1045 MB


def test_with_nothing_running_a_job_starts_whatever_its_plan(tmp_path: Path) -> None:
    """A training run planned above the budget still reaches its own finer guard."""
    assert _settle(tmp_path, [("train-1", "train", LONG_LANE)], memory_budget_mb=500.0) == [
        "train-1"
    ]


def test_the_plan_is_the_measured_peak_plus_margin_and_grows_with_the_backbone() -> None:
    assert planned_peak_mb("export", {}) == round(MEASURED_PEAK_MB["export"] * MARGIN)
    assert planned_peak_mb("analyse", {"analysis": "label_issues"}) < 300
    reference = get_backbone("mobilenet_v2").params_no_top
    extra_mb = (25_000_000 - reference) * 8 / 2**20  # float32, held twice
    assert planned_peak_mb("export", {}, backbone_params=25_000_000) == round(
        (MEASURED_PEAK_MB["export"] + extra_mb) * MARGIN
    )


def test_a_job_that_could_never_fit_is_refused_with_a_plain_sentence() -> None:
    settings = Settings(memory_budget_mb=1200.0)
    with pytest.raises(StudioError) as refused:
        check_fits_alone(planned_peak_mb("export", {}), settings, "export")
    assert str(refused.value) == (
        "This export needs about 1.4 GB of memory, but this server has 0.9 GB for jobs. "
        "Use a smaller backbone or input size, or run the studio where it has more memory."
    )


def test_submit_refuses_an_export_that_cannot_fit_but_queues_training(tmp_path: Path) -> None:
    settings = Settings(runs_dir=str(tmp_path / "runs"), memory_budget_mb=1000.0)
    runner = JobRunner(settings, RecordingExecutor())
    store = RunStore(tmp_path / "runs" / "ws")
    run_id = runner.submit_training(store, tiny_config(tmp_path))  # training guards itself
    assert runner.registry.entries()[0].planned_mb == planned_peak_mb("train", {})
    with pytest.raises(StudioError, match=r"needs about 1\.4 GB"):
        runner.submit("export", store, run_id, {"formats": ["keras"]})
    assert not list((store.path(run_id) / "jobs").glob("export-*"))  # nothing left behind
