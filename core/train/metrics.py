"""Final metrics of a run: best/final epochs, held-out loss and accuracy, per-class scores."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from core.atomic import write_via_temp
from core.model.forward import forward_in_batches
from core.train.phase_data import PhaseData
from core.train.state import RunState


def summarize_history(history: list[dict[str, Any]]) -> dict[str, Any]:
    """Final (last epoch) and best (lowest validation loss) rows of the history."""
    keys = ("loss", "accuracy", "val_loss", "val_accuracy")
    monitor = "val_loss" if "val_loss" in history[-1] else "loss"
    best = min(history, key=lambda row: row.get(monitor, float("inf")))
    return {
        "final": {k: history[-1][k] for k in keys if k in history[-1]},
        "best": {"epoch": best["epoch"], **{k: best[k] for k in keys if k in best}},
    }


# A held-out split's (probabilities, targets).
Predictions = tuple[np.ndarray, np.ndarray]


def _predict(model: Any, data: Any, arrays: bool) -> Predictions:
    """Probabilities and targets of a held-out split (arrays or a dataset)."""

    # ``predict`` (not ``predict_on_batch``): under a mirrored strategy on 2 replicas
    # ``predict_on_batch`` returned twice as many rows as images (test_mirrored_strategy_...).
    def forward(batch: np.ndarray) -> Any:
        return model.predict(batch, batch_size=len(batch), verbose=0)

    if arrays:
        x, y = data
        return forward_in_batches(forward, x), np.asarray(y)
    probs, targets = [], []
    for images, labels in data:  # the pipeline's batches, each run in bounded slices
        probs.append(forward_in_batches(forward, np.asarray(images)))
        targets.append(np.asarray(labels))
    return np.concatenate(probs), np.concatenate(targets)


def _indices(values: np.ndarray, outputs: int) -> np.ndarray:
    if outputs == 1:
        return (values.reshape(-1) >= 0.5).astype(int)
    return values.argmax(axis=-1)


def per_class_metrics(truth: np.ndarray, pred: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """Precision, recall, F1 and support per class, plus the confusion matrix."""
    matrix = np.zeros((len(classes), len(classes)), dtype=int)
    for t, p in zip(truth, pred, strict=True):
        matrix[t, p] += 1
    rows = {}
    for index, name in enumerate(classes):
        tp = matrix[index, index]
        precision = tp / matrix[:, index].sum() if matrix[:, index].sum() else 0.0
        recall = tp / matrix[index].sum() if matrix[index].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows[name] = {
            "precision": round(float(precision), 4),
            "recall": round(float(recall), 4),
            "f1": round(float(f1), 4),
            "support": int(matrix[index].sum()),
        }
    return {"per_class": rows, "confusion_matrix": matrix.tolist()}


def held_out_predictions(model: Any, data: PhaseData) -> dict[str, Predictions]:
    """Probabilities and targets of the validation and test splits the run has."""
    splits = {"val": data.validation, "test": data.test}
    return {
        name: _predict(model, split, data.arrays)
        for name, split in splits.items()
        if split is not None
    }


def evaluate_final(
    model: Any, predictions: dict[str, Predictions], classes: list[str], outputs: int
) -> dict[str, Any]:
    """Loss and accuracy of the final weights on validation and test (per class on test)."""
    loss_fn = model.loss
    result: dict[str, Any] = {}
    for name, (probs, targets) in predictions.items():
        pred, truth = _indices(probs, outputs), _indices(targets, outputs)
        result[f"{name}_accuracy"] = float((pred == truth).mean())
        result[f"{name}_loss"] = float(keras.ops.convert_to_numpy(loss_fn(targets, probs)))
        result[f"{name}_count"] = len(truth)
        if name == "test":
            result.update(per_class_metrics(truth, pred, classes))
    return result


def run_metrics(
    state: RunState,
    model: Any,
    data: PhaseData,
    classes: list[str],
    outputs: int,
    batch_size: int,
    predictions: dict[str, Predictions],
) -> dict[str, Any]:
    """Everything ``metrics.json`` holds about a run that trained at least one epoch.

    Args:
        state: the run's history, phase timings and images seen per phase.
        model: the model of the last phase (head or whole network), compiled.
        data: the last phase's data (cached arrays or streamed datasets).
        classes: class names in output order.
        outputs: output units of the full model.
        batch_size: the batch size the run used (after the memory guard).
        predictions: ``held_out_predictions`` of ``model`` on ``data``.
    """
    metrics = summarize_history(state.history)
    metrics.update(evaluate_final(model, predictions, classes, outputs))
    metrics.update(
        classes=classes,
        batch_size=batch_size,
        cached_features=bool(data.arrays),
        features_from_cache=bool(data.from_cache),
        phase_seconds={k: round(v, 3) for k, v in state.phase_seconds.items()},
        images_per_second={
            k: round(state.images_seen.get(k, 0) / v, 1)
            for k, v in state.phase_seconds.items()
            if v > 0
        },
    )
    return metrics


def save_model_atomic(model: Any, path: Any) -> None:
    """Saves a ``.keras`` file through a temp name and a rename (never half a file)."""
    write_via_temp(path, model.save)
