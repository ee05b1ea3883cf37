"""Memory guard: the estimate, shrinking the batch, refusing a run that cannot fit, the budget."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from core.config.settings import Settings
from core.errors import TrainingError
from core.train.memory import (
    MB,
    ModelFootprint,
    cgroup_memory,
    estimate_memory,
    fit_batch_size,
    measure_footprint,
    memory_budget,
    process_memory_mb,
)

# Roughly MobileNetV2 at 224: 2.3 M weights, ~7 M activation floats per image, 7x7x1280 cut.
MOBILENET_224 = ModelFootprint(
    params=2_260_000, trainable_params=2_600, activation_floats=7_000_000,
    feature_floats=62_720, input_size=224,
)  # fmt: skip


def test_estimate_grows_with_batch_cache_and_backprop() -> None:
    small = estimate_memory(MOBILENET_224, 8, cached_images=0, backprop_backbone=False)
    big = estimate_memory(MOBILENET_224, 64, cached_images=0, backprop_backbone=False)
    cached = estimate_memory(MOBILENET_224, 8, cached_images=400, backprop_backbone=False)
    tuned = estimate_memory(MOBILENET_224, 8, cached_images=0, backprop_backbone=True)
    assert small.total_mb < big.total_mb and small.total_mb < cached.total_mb < small.total_mb + 100
    assert tuned.parts_mb["activations"] == 2 * small.parts_mb["activations"]
    assert cached.parts_mb["feature cache"] == pytest.approx(400 * 62_720 * 4 / 2**20, abs=0.1)


def test_pooled_cache_counts_pooled_vectors_plus_one_float16_part() -> None:
    pooled = estimate_memory(
        MOBILENET_224, 8, cached_images=15_000, backprop_backbone=False,
        cached_floats=1280, staging_images=5000,
    )  # fmt: skip
    expected = (15_000 * 1280 * 4 + 5000 * 62_720 * 2) / 2**20
    assert pooled.parts_mb["feature cache"] == pytest.approx(expected, abs=0.1)
    # 15 000 full 7x7x1280 float32 maps would be 3.5 GB: the run would be refused.
    full = estimate_memory(MOBILENET_224, 8, cached_images=15_000, backprop_backbone=False)
    assert full.parts_mb["feature cache"] > 3000 > 4 * pooled.parts_mb["feature cache"]


def test_batch_size_is_lowered_with_an_explanation() -> None:
    estimate, note = fit_batch_size(
        MOBILENET_224, 128, budget_mb=2700, used_mb=1500, cached_images=0, backprop_backbone=True
    )
    assert estimate.batch_size < 128 and estimate.total_mb <= 1200
    assert note is not None and "lowered from 128" in note


def test_fitting_batch_is_kept() -> None:
    estimate, note = fit_batch_size(
        MOBILENET_224, 16, budget_mb=2700, used_mb=500, cached_images=400, backprop_backbone=False
    )
    assert estimate.batch_size == 16 and note is None


def test_run_that_cannot_fit_is_refused_with_the_reason() -> None:
    with pytest.raises(TrainingError, match="feature cache"):
        fit_batch_size(
            MOBILENET_224,
            32,
            budget_mb=2700,
            used_mb=600,
            cached_images=100_000,
            backprop_backbone=False,
        )


def test_footprint_of_a_built_model() -> None:
    from core.config.model import ModelConfig
    from core.model.builder import build_model

    built = build_model(ModelConfig(backbone="mobilenet_v2", input_size=32, weights="none"), 2)
    footprint = measure_footprint(built)
    assert footprint.input_size == 32 and footprint.feature_floats == 1280
    assert footprint.params == built.model.count_params()
    assert 0 < footprint.trainable_params < footprint.params
    assert footprint.activation_floats > 32 * 32 * 3


def _fake_cgroup(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_budget_is_the_cgroup_v2_limit_minus_the_working_set(tmp_path: Path) -> None:
    root = _fake_cgroup(
        tmp_path,
        {
            "memory.max": f"{1024 * MB}\n",
            "memory.current": f"{600 * MB}\n",
            "memory.stat": f"anon 1\ninactive_file {100 * MB}\nactive_file 5\n",
        },
    )
    assert cgroup_memory(root) == (1024 * MB, 500 * MB)  # dropped page cache is not "used"
    budget = memory_budget(cgroup_root=root)
    assert budget.source == "the container's memory limit"
    assert budget.total_mb == 1024
    assert budget.left_mb == pytest.approx(min(524, psutil.virtual_memory().available / MB), abs=1)


def test_budget_reads_cgroup_v1_and_ignores_unlimited_groups(tmp_path: Path) -> None:
    v1 = _fake_cgroup(
        tmp_path / "v1",
        {
            "memory/memory.limit_in_bytes": str(2048 * MB),
            "memory/memory.usage_in_bytes": str(1000 * MB),
            "memory/memory.stat": f"total_inactive_file {200 * MB}\n",
        },
    )
    assert cgroup_memory(v1) == (2048 * MB, 800 * MB)
    unlimited_v1 = _fake_cgroup(
        tmp_path / "u1",
        {
            "memory/memory.limit_in_bytes": "9223372036854771712",
            "memory/memory.usage_in_bytes": "5",
        },
    )
    unlimited_v2 = _fake_cgroup(tmp_path / "u2", {"memory.max": "max", "memory.current": "5"})
    for root in (unlimited_v1, unlimited_v2, tmp_path / "missing"):
        assert cgroup_memory(root) is None
        budget = memory_budget(cgroup_root=root)
        assert budget.source == "this machine"
        assert budget.total_mb == pytest.approx(psutil.virtual_memory().total / MB)


def test_the_environment_override_wins_and_the_refusal_says_what_to_change(
    tmp_path: Path,
) -> None:
    settings = Settings.from_env({"STUDIO_MEMORY_BUDGET_MB": "750"})
    assert settings.memory_budget_mb == 750 and Settings.from_env({}).memory_budget_mb is None
    root = _fake_cgroup(tmp_path, {"memory.max": str(10 * MB), "memory.current": str(9 * MB)})
    budget = memory_budget(settings.memory_budget_mb, cgroup_root=root)  # the cgroup is ignored
    assert (budget.total_mb, budget.source) == (750, "STUDIO_MEMORY_BUDGET_MB")
    assert budget.left_mb == pytest.approx(max(0.0, 750 - process_memory_mb()), abs=50)
    with pytest.raises(TrainingError) as refused:
        fit_batch_size(
            MOBILENET_224, 32, budget_mb=750, used_mb=700, cached_images=0,
            backprop_backbone=True, source=budget.source,
        )  # fmt: skip
    message = str(refused.value)
    assert "only 50 MB of memory is free for it (limit 750 MB from STUDIO_MEMORY_BUDGET_MB)" in (
        message
    )
    assert "To make it fit: use a smaller input size" in message
    assert "raise STUDIO_MEMORY_BUDGET_MB" in message
