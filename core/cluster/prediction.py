"""Batch prediction across a Ray cluster with Ray Data: many images, one row each.

The same rows as ``core.predict.batch.prediction_rows`` (file, predicted, confidence, top_k,
error), computed by a fixed pool of actors that each load the run's model once
(``Predictor.from_run``); ``map_batches`` sends them batches of image paths and the driver puts
the rows back in the order of the images. Every node must read the run folder and the images
at the same paths (see README, "Scale out").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.cluster.connect import connect, limit_tf_threads
from core.predict.batch import prediction_rows
from core.predict.predictor import Predictor

PURPOSE = "predict on a Ray cluster"
_COLUMNS = ("file", "predicted", "top_k", "error")


class PredictorActor:
    """One actor of the prediction pool: the run's loaded model, rows for batches of paths."""

    def __init__(self, run_dir: str, k: int, threshold: float) -> None:
        limit_tf_threads()
        self.predictor = Predictor.from_run(Path(run_dir))
        self.k, self.threshold = k, threshold

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        sources = [
            (str(name), str(path)) for name, path in zip(batch["file"], batch["path"], strict=True)
        ]
        rows = prediction_rows(self.predictor, sources, self.k, self.threshold)
        result = {
            column: np.array([str(row[column]) for row in rows], dtype=str) for column in _COLUMNS
        }
        result["confidence"] = np.array(
            [math.nan if row["confidence"] is None else row["confidence"] for row in rows]
        )
        result["index"] = batch["index"]
        return result


def predict_rows_ray(
    run_dir: str | Path,
    sources: Sequence[tuple[str, str | Path]],
    *,
    k: int = 3,
    threshold: float = 0.0,
    batch_size: int = 32,
    actors: int = 2,
    num_cpus: float = 1.0,
    address: str | None = None,
) -> list[dict[str, Any]]:
    """``prediction_rows`` of the run's model for (display name, image path) pairs, on Ray.

    Raises:
        StudioError: Ray is missing or the cluster cannot be reached.
    """
    ray = connect(address, PURPOSE)
    items = [
        {"file": name, "path": str(path), "index": index}
        for index, (name, path) in enumerate(sources)
    ]
    dataset = ray.data.from_items(items).map_batches(
        PredictorActor,
        fn_constructor_kwargs={"run_dir": str(run_dir), "k": k, "threshold": threshold},
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=num_cpus,
    )
    rows: list[dict[str, Any]] = [{} for _ in items]
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        for position, index in enumerate(batch["index"]):
            row: dict[str, Any] = {column: str(batch[column][position]) for column in _COLUMNS}
            confidence = float(batch["confidence"][position])
            row["confidence"] = None if math.isnan(confidence) else confidence
            rows[int(index)] = row
    return rows
