"""The one bounded-batch forward helper: slices, decodes lazily, keeps order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from core.model.forward import FORWARD_BATCH, forward_in_batches


def test_every_call_gets_at_most_one_batch_and_order_is_kept() -> None:
    seen: list[int] = []

    def forward(batch: np.ndarray) -> np.ndarray:
        seen.append(len(batch))
        return batch.reshape(len(batch), -1).sum(axis=1, keepdims=True)

    images = np.arange(21 * 2 * 2 * 3, dtype=np.float32).reshape(21, 2, 2, 3)
    out = forward_in_batches(forward, images)
    assert max(seen) == FORWARD_BATCH and sum(seen) == 21
    np.testing.assert_allclose(out[:, 0], images.reshape(21, -1).sum(axis=1))


def test_sources_are_decoded_one_batch_at_a_time() -> None:
    decoded: list[int] = []

    def decode(sources: Sequence[Any]) -> np.ndarray:
        decoded.append(len(sources))
        return np.asarray(sources, np.float32)[:, None]

    out = forward_in_batches(lambda batch: batch * 2, list(range(10)), decode=decode, batch_size=4)
    assert decoded == [4, 4, 2]
    np.testing.assert_allclose(out[:, 0], np.arange(10) * 2)


def test_batch_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        forward_in_batches(lambda batch: batch, np.zeros((2, 1)), batch_size=0)


def test_an_empty_request_is_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="nothing to run"):
        forward_in_batches(lambda batch: batch, np.zeros((0, 2, 2, 3)))
