"""Batch prediction: many named images (files, folders, a zip) to one table row each.

Images that cannot be decoded get a row with the reason instead of stopping the batch; an image
that looks like none of the classes (``Predictor.is_unknown``, runs with an ``ood.json``) is
answered "none of the classes", and a top probability under the threshold "not sure".
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.data.images import load_image_array
from core.data.zipsafe import extract_zip
from core.errors import DataError
from core.predict.ood import UNKNOWN
from core.predict.predictor import Predictor

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
NOT_SURE = "not sure"


def prediction_rows(
    predictor: Predictor,
    sources: Sequence[tuple[str, Any]],
    k: int = 3,
    threshold: float = 0.0,
) -> list[dict[str, Any]]:
    """Predicts named images; one row per image, also for images that cannot be decoded.

    Args:
        predictor: the loaded model.
        sources: (display name, path/bytes/file) pairs.
        k: number of top classes listed per image.
        threshold: below this top probability the answer is "not sure" (a class's own
            threshold in ``labels.json`` may raise it: ``Predictor.threshold_for``).

    Returns:
        Rows with file, predicted (a class, ``UNKNOWN`` or ``NOT_SURE``), confidence, top_k
        (text) and error (empty when fine).
    """
    arrays, ok_rows, rows = [], [], []
    for name, source in sources:
        row: dict[str, Any] = {"file": name, "predicted": "", "confidence": None, "top_k": ""}
        try:
            arrays.append(load_image_array(source, predictor.input_size, predictor.resize_mode))
            ok_rows.append(row)
            row["error"] = ""
        except DataError as error:
            row["error"] = str(error)
        rows.append(row)
    if arrays:
        probabilities = predictor.predict_arrays(np.stack(arrays))
        unknown = predictor.is_unknown(probabilities)
        tops = predictor.top_k(probabilities, k)
        for row, top, strange in zip(ok_rows, tops, unknown, strict=True):
            best_name, best_p = top[0]
            sure = best_p >= predictor.threshold_for(best_name, threshold)
            row["predicted"] = UNKNOWN if strange else best_name if sure else NOT_SURE
            row["confidence"] = round(best_p, 6)
            row["top_k"] = "; ".join(f"{name} {p:.3f}" for name, p in top)
    return rows


def image_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expands files and folders (recursively) into image files, sorted within each folder."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES))
        else:
            files.append(path)
    return files


def predict_zip(
    predictor: Predictor, file: Any, k: int = 3, threshold: float = 0.0
) -> list[dict[str, Any]]:
    """Predicts every image in an uploaded zip (extracted safely, then deleted).

    Raises:
        DataError: the zip is unsafe, too large, or holds no image.
    """
    with tempfile.TemporaryDirectory(prefix="studio_batch_") as folder:
        root = extract_zip(file, Path(folder) / "batch")
        files = image_files([root])
        if not files:
            raise DataError("The zip file holds no images (jpg, png, bmp, gif, webp or tiff).")
        named = [(str(path.relative_to(root)), path) for path in files]
        return prediction_rows(predictor, named, k, threshold)
