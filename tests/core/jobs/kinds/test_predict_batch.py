"""The batch prediction's result read typed: old or damaged results read with defaults."""

from __future__ import annotations

from core.jobs.kinds.predict_batch import BatchResult


def test_a_result_round_trips_and_a_damaged_one_reads_with_defaults() -> None:
    stored = {
        "images": 2,
        "errors": 1,
        "csv": "predictions.csv",
        "rows": [
            {"file": "a.png", "predicted": "ants", "confidence": 0.9, "top_k": "", "error": ""}
        ],
        "model": "20261126-083200-123456-ab12",
    }
    assert BatchResult.from_dict(stored).to_dict() == stored
    damaged = BatchResult.from_dict({"images": "two", "rows": [{"file": "b.png"}, "junk"]})
    assert (damaged.images, damaged.errors, damaged.csv, damaged.model) == (1, 0, "", None)
    assert damaged.rows == ({"file": "b.png"},)
    assert BatchResult.from_dict(None) == BatchResult(images=0)
