"""The ``evaluate`` job kind: metrics, mistakes and Grad-CAM of a finished run, saved as files.

Parameters (optional): ``data_path`` (another dataset folder with the same classes) and
``gradcam_images`` (how many held-out images get a Grad-CAM heatmap, default 8: up to half
of them the most confident mistakes, the rest the most confident correct answers, so the
Evaluate and Presentation pages can show both). Files in the job folder:

- ``evaluation.json``: the whole ``EvalResult`` (split, paths, true labels, probabilities,
  metrics); ``load_evaluation(folder)`` rebuilds it, so the page can call ``misclassified()``
  and the chart builders as before;
- ``gradcam/<i>_input.png`` (the image as the model sees it), ``gradcam/<i>_overlay.png`` and
  ``gradcam/<i>_heatmap.npy`` (0..1, the feature map's size).

The result (``result.json``): ``summary`` (split, images, accuracy, macro_f1),
``mistake_count``, ``mistakes`` (the ``MAX_MISTAKES`` most confident: path, true, predicted,
confidence), ``gradcam`` (per image: path, true, predicted, class_index, confidence, layer,
and the three file names relative to the job folder), ``warnings``: an ``EvaluateResult``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from core.atomic import write_json_atomic
from core.errors import StudioError
from core.evaluate.gradcam import grad_cam, overlay
from core.evaluate.metrics import Curve, EvalMetrics, EvalResult, evaluate_run
from core.jobs.context import JobContext
from core.predict.predictor import Predictor
from core.store.json_record import (
    JsonFileRecord,
    JsonObject,
    Reader,
    integer,
    objects,
    text,
    texts,
)

EVALUATION_FILE = "evaluation.json"
GRADCAM_FOLDER = "gradcam"
MAX_MISTAKES = 24
DEFAULT_GRADCAM_IMAGES = 8


def run(context: JobContext) -> dict[str, Any]:
    """Evaluates the job's run on its held-out split; see the module docstring."""
    context.report(0.05, "Loading the model.")
    predictor = Predictor.from_run(context.run_dir())
    context.report(0.1, "Predicting the held-out images.")
    result = evaluate_run(
        context.run_dir(), data_path=context.params.get("data_path"), predictor=predictor
    )
    save_evaluation(context.folder, result)
    mistakes = result.misclassified()
    count = int(context.params.get("gradcam_images", DEFAULT_GRADCAM_IMAGES))
    context.report(0.7, "Computing Grad-CAM heatmaps.")
    heatmaps, warnings = _gradcam_images(context, predictor, result, mistakes, count)
    context.report(1.0, f"Evaluated {len(result.paths)} {result.split} images.")
    return EvaluateResult(
        summary=result.summary(),
        mistake_count=len(mistakes),
        mistakes=tuple(mistakes[:MAX_MISTAKES]),
        gradcam=tuple(heatmaps),
        warnings=tuple(warnings),
        evaluation_file=EVALUATION_FILE,
    ).to_dict()


def _object(value: Any) -> JsonObject | None:
    """A JSON object; else None."""
    return dict(value) if isinstance(value, dict) else None


_READERS: dict[str, Reader] = {
    "summary": _object,
    "mistake_count": integer,
    **dict.fromkeys(("mistakes", "gradcam"), objects),
    "warnings": texts,
    "evaluation_file": text,
}


@dataclass(frozen=True)
class EvaluateResult(JsonFileRecord):
    """A finished ``evaluate`` job's ``result.json``, typed (see the module docstring).

    Attributes:
        summary: split, images, accuracy, macro_f1.
        mistake_count: mistakes in all; mistakes: the ``MAX_MISTAKES`` most confident.
        gradcam: one row per Grad-CAM image (path, true, predicted, ... and its files).
        warnings: plain sentences for the page (e.g. Grad-CAM not available).
        evaluation_file: the job folder's ``EvalResult`` file.
        extra: any other key, kept as stored.
    """

    summary: JsonObject | None = None
    mistake_count: int | None = None
    mistakes: tuple[JsonObject, ...] | None = None
    gradcam: tuple[JsonObject, ...] | None = None
    warnings: tuple[str, ...] | None = None
    evaluation_file: str | None = None
    extra: JsonObject = field(default_factory=dict)
    keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)
    READERS: ClassVar[Mapping[str, Reader]] = _READERS


def save_evaluation(folder: Path, result: EvalResult) -> None:
    """Writes ``evaluation.json`` (the whole result, JSON types)."""
    write_json_atomic(
        folder / EVALUATION_FILE,
        {
            "split": result.split,
            "paths": result.paths,
            "y_true": result.y_true,
            "probabilities": result.probabilities,
            "metrics": result.metrics.to_dict(),
            "notes": list(result.notes),
        },
    )


def load_evaluation(folder: str | Path) -> EvalResult:
    """Rebuilds the ``EvalResult`` an evaluate job saved in ``folder``.

    Raises:
        StudioError: the job has not written its evaluation (yet), or the file is damaged.
    """
    path = Path(folder) / EVALUATION_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        metrics = dict(data["metrics"])
        for name in ("roc", "pr"):
            metrics[name] = Curve(**metrics[name]) if metrics.get(name) else None
        return EvalResult(
            data["split"], data["paths"], data["y_true"], data["probabilities"],
            EvalMetrics(**metrics), list(data.get("notes") or []),
        )  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise StudioError("This evaluation has no readable result (yet).") from error


def _chosen_images(result: EvalResult, mistakes: list[dict[str, Any]], count: int) -> list[int]:
    """Indices of the images to explain: up to half of ``count`` the most confident mistakes,
    then the most confident correct answers, then more mistakes if correct ones ran out."""
    index = {path: i for i, path in enumerate(result.paths)}
    wrong = [index[row["path"]] for row in mistakes]
    wrong_set = set(wrong)
    right = sorted(
        (i for i in range(len(result.paths)) if i not in wrong_set),
        key=lambda i: -max(result.probabilities[i]),
    )
    first = wrong[: max(count // 2, count - len(right))]  # all of them when correct ones are few
    return first + right[: count - len(first)]


def _gradcam_images(
    context: JobContext,
    predictor: Any,
    result: EvalResult,
    mistakes: list[dict[str, Any]],
    count: int,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Computes and saves Grad-CAM for the chosen images; returns their rows and warnings."""
    from PIL import Image

    folder = context.folder / GRADCAM_FOLDER
    folder.mkdir(exist_ok=True)
    rows: list[dict[str, Any]] = []
    chosen = _chosen_images(result, mistakes, count)
    classes = result.metrics.classes
    for number, position in enumerate(chosen):
        path, probabilities = result.paths[position], result.probabilities[position]
        predicted = int(np.argmax(probabilities))
        try:
            image = predictor.load_images([path])[0]
            heatmap, layer = grad_cam(predictor.model, image, predicted)
        except StudioError as error:  # e.g. no convolutional feature map: say so once
            return rows, [f"Grad-CAM is not available for this model: {error}"]
        files = {key: f"{GRADCAM_FOLDER}/{number}_{key}" for key in ("input", "overlay")}
        Image.fromarray(image.astype(np.uint8)).save(context.folder / f"{files['input']}.png")
        Image.fromarray(overlay(image, heatmap)).save(context.folder / f"{files['overlay']}.png")
        np.save(folder / f"{number}_heatmap.npy", heatmap)
        rows.append(
            {
                "path": path,
                "true": classes[result.y_true[position]],
                "predicted": classes[predicted],
                "class_index": predicted,
                "confidence": float(probabilities[predicted]),
                "layer": layer,
                "input": f"{files['input']}.png",
                "overlay": f"{files['overlay']}.png",
                "heatmap": f"{GRADCAM_FOLDER}/{number}_heatmap.npy",
            }
        )
        context.report(0.7 + 0.3 * (number + 1) / max(len(chosen), 1))
    return rows, []
