"""Folding the head's global pooling into the cached features gives the same predictions."""

from __future__ import annotations

import numpy as np

from core.config.model import ModelConfig


def test_folding_the_pooling_into_the_cache_is_exact() -> None:
    from core.model.builder import build_model
    from core.train.feature_folding import fold_features, fold_head_prefix

    spec = ModelConfig(
        backbone="mobilenet_v2", input_size=32, weights="none", cut_layer="Conv1_relu"
    )
    built = build_model(spec, 3)
    prefix, rest = fold_head_prefix(built.head)
    assert [type(layer).__name__ for layer in prefix] == ["GlobalAveragePooling2D"]
    features = np.random.default_rng(0).random((5, 16, 16, 32), dtype=np.float32)
    pooled = fold_features(features, prefix, batch=2)
    assert pooled.shape == (5, 32)
    np.testing.assert_allclose(
        rest.predict(pooled, verbose=0), built.head.predict(features, verbose=0), atol=1e-6
    )
    assert rest.layers[-1] is built.head.layers[-1]  # shared weights
