"""The automatic recipe's tapped backbone: the last block's pooled vector is the tail of the
concatenation, so a head chosen on that slice of the cached features predicts the same in the
saved model, which pools the last block alone (weights=None, 32 px)."""

from __future__ import annotations

import numpy as np

from core.config.auto import AUTO_FACTS, AutoRecipeConfig
from core.config.auto_plan import AutoPlan
from core.model.taps import TapNetwork, build_tap_network, classifier, featurizer
from core.train.linear_head import LinearHead, linear_keras_head


def test_the_last_block_alone_is_the_tail_of_all_blocks_and_saves_with_parity() -> None:
    taps = AUTO_FACTS["mobilenet_v2"].taps
    plan = AutoPlan("mobilenet_v2", "none", 32, taps, "crop", AutoRecipeConfig())
    network = build_tap_network(plan)
    images = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype(np.float32)
    every = np.asarray(featurizer(network)(images))
    last_only = TapNetwork(network.base, 32, network.preprocess, network.taps[-1:])
    width = network.tap_widths(network.taps[-1:])[0]
    assert every.shape[1] == network.feature_width > width
    last = np.asarray(featurizer(last_only)(images))
    np.testing.assert_allclose(last, every[:, -width:], atol=1e-5)

    rng = np.random.default_rng(1)
    head = LinearHead(rng.normal(0, 1, (width, 3)).astype(np.float32), np.zeros(3, np.float32))
    model = classifier(featurizer(last_only), linear_keras_head(head), 32)
    expected = head.probabilities(every[:, -width:])
    np.testing.assert_allclose(np.asarray(model(images)), expected, atol=1e-4)
