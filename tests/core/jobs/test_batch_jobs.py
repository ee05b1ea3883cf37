"""Batch predictions: a new job for the same zip and model replaces the older one, the
workspace's batch quota holds, and the zip limits and disk cap apply before anything is written.

Real worker processes that hold their job (``tests.helpers.held_jobs``), real zips.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from core.errors import DataError
from core.jobs.quotas import QuotaError
from core.store.disk import DiskFullError
from core.store.runs import RunStore
from tests.helpers.held_jobs import held_runner, release_all
from tests.helpers.training import tiny_settings
from tests.helpers.zips import png, repeated_entry_zip, zip_of

MODEL = {"imagenet": "mobilenet_v2"}


def _zip(tmp_path: Path, name: str, count: int) -> bytes:
    entries = {f"img/{i}.png": png((i * 40 % 255, 9, 9)) for i in range(count)}
    return zip_of(tmp_path / name, entries).read_bytes()


def test_the_same_input_replaces_the_older_batch_and_the_quota_holds(tmp_path: Path) -> None:
    settings = dataclasses.replace(tiny_settings(tmp_path), max_jobs=1, max_batch_jobs=2)
    runner = held_runner(settings)
    store = RunStore(tmp_path / "runs" / "ws")
    first, second = _zip(tmp_path, "a.zip", 2), _zip(tmp_path, "b.zip", 3)
    try:
        old = runner.submit("predict_batch", store, None, {"k": 1, "model": MODEL},
                            files={"upload.zip": first})  # fmt: skip
        new = runner.submit("predict_batch", store, None, {"k": 3, "model": MODEL},
                            files={"upload.zip": first})  # fmt: skip
        listed = [entry.job_id for entry in runner.active_jobs()]
        assert listed == [new]  # the older one (k changed only) is gone, folder and all
        with pytest.raises(ValueError, match="no such job"):
            runner.job_status(store, old)
        other = runner.submit("predict_batch", store, None, {"model": MODEL},
                              files={"upload.zip": second})  # fmt: skip
        assert [entry.job_id for entry in runner.active_jobs()] == [new, other]
        with pytest.raises(QuotaError, match=r"already has 2 batch predictions.*at most 2"):
            runner.submit("predict_batch", store, None, {"model": MODEL},
                          files={"upload.zip": _zip(tmp_path, "c.zip", 1)})  # fmt: skip
        assert len(list((store.root / "jobs").iterdir())) == 2
    finally:
        with runner.registry.locked() as state:
            for entry in state.queued():
                state.remove(entry.job_id)
        release_all(settings)


def test_a_batch_zip_breaking_the_data_pages_limits_or_the_cap_writes_nothing(
    tmp_path: Path,
) -> None:
    store = RunStore(tmp_path / "runs" / "ws")
    bomb = repeated_entry_zip(tmp_path / "bomb.zip", 3, b"\0" * 4 * 2**20).read_bytes()
    assert len(bomb) < 64 * 1024
    roomy = held_runner(tiny_settings(tmp_path))
    with pytest.raises(DataError, match="zip bomb"):
        roomy.submit("predict_batch", store, None, {"model": MODEL}, files={"upload.zip": bomb})
    capped = held_runner(dataclasses.replace(tiny_settings(tmp_path), disk_cap_mb=1))
    with pytest.raises(DataError, match=r"would unpack to 12 MiB; the limit is [\d,.]+ KiB"):
        capped.submit("predict_batch", store, None, {"model": MODEL}, files={"upload.zip": bomb})
    big = b"x" * (2 * 2**20)  # 2 MB under a 1 MB cap: refused before it is written
    with pytest.raises(DiskFullError, match="no disk space left for this batch prediction"):
        capped.submit("predict_batch", store, None, {"model": MODEL}, files={"upload.zip": big})
    assert not (store.root / "jobs").exists() or not any((store.root / "jobs").iterdir())
