"""Memory guard: the estimate, shrinking the batch, refusing a run that cannot fit."""

from __future__ import annotations

import pytest

from core.errors import TrainingError
from core.train.memory import ModelFootprint, estimate_memory, fit_batch_size, measure_footprint

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
    from core.model.builder import build_model
    from core.model.spec import ModelSpec

    built = build_model(ModelSpec(backbone="mobilenet_v2", input_size=32, weights="none"), 2)
    footprint = measure_footprint(built)
    assert footprint.input_size == 32 and footprint.feature_floats == 1280
    assert footprint.params == built.model.count_params()
    assert 0 < footprint.trainable_params < footprint.params
    assert footprint.activation_floats > 32 * 32 * 3
