"""The model card (``MODEL_CARD.md``) shipped in every export bundle.

A short Markdown page in the spirit of Mitchell et al., "Model Cards for Model Reporting"
(2019): what the model is, the data and split it learned from, how it scored per class on the
test images, how well calibrated it is where that was measured, how closely each exported file
matches the app (the parity table), what it is meant for and where it fails, and the licence of
the backbone it is built on. Every section is read from the run folder (``config.json``,
``split.json``, ``metrics.json``); a missing file leaves its section saying so instead of
failing the export.

Class and folder names come from users: table cells are escaped so a name cannot break the
table. Show the card as text or a download, never through Streamlit's markdown rendering.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

from core.config.backbones import get_backbone
from core.data.stored_split import SPLIT_FILE, SPLIT_NAMES, read_stored_split
from core.errors import DataError, StudioError
from core.evaluate.metrics import evaluate_run
from core.export.parity import FLOAT_PARITY_GOAL
from core.export.report import ExportReport
from core.store.run_config import read_run_config

MODEL_CARD_FILE = "MODEL_CARD.md"
_SPLIT_TITLES = {"train": "train", "val": "validation", "test": "test"}
_RESIZE = {"stretch": "stretched", "crop": "centre-cropped", "pad": "padded with black"}


def write_model_card(run_dir: Path, out: Path, predictor: Any, report: ExportReport) -> str:
    """Writes ``MODEL_CARD.md`` into ``out``; returns its file name."""
    (out / MODEL_CARD_FILE).write_text(model_card(run_dir, predictor, report), encoding="utf-8")
    return MODEL_CARD_FILE


def model_card(run_dir: Path, predictor: Any, report: ExportReport) -> str:
    """The model card of a run's export as Markdown."""
    metrics = _read_json(run_dir / "metrics.json")
    sections = [
        f"# Model card: image classifier `{_cell(run_dir.name)}`\n\n"
        f"Exported by Transfer-Learning Studio on {datetime.now(UTC):%Y-%m-%d}.",
        _model_section(run_dir, predictor, metrics),
        _data_section(run_dir),
        _test_section(_held_out_scores(run_dir, predictor, metrics)),
        _calibration_section(metrics),
        _parity_section(report),
        _use_section(predictor),
        _licence_section(run_dir),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def _cell(text: Any) -> str:
    """Text safe inside a Markdown table cell or inline code (pipes, backticks, newlines)."""
    return " ".join(str(text).split()).replace("|", "\\|").replace("`", "'")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _run_config(run_dir: Path) -> Any:
    """The run's ``RunConfig``, or None when config.json is missing or damaged."""
    try:
        return read_run_config(run_dir / "config.json")
    except StudioError:
        return None


def _model_section(run_dir: Path, predictor: Any, metrics: dict[str, Any]) -> str:
    size, classes = predictor.input_size, predictor.classes
    lines = [
        "## Model",
        f"- Input: RGB images, float32 values 0..255, {size}x{size} pixels "
        f"({_RESIZE.get(predictor.resize_mode, predictor.resize_mode)}); the preprocessing is "
        "inside the model.",
        f"- Output: probabilities over {len(classes)} classes: "
        + ", ".join(f"`{_cell(name)}`" for name in classes)
        + ".",
    ]
    config = _run_config(run_dir)
    if config is not None:
        model, train = config.model, config.train
        backbone = get_backbone(model.backbone)
        weights = "ImageNet-pretrained" if model.weights == "imagenet" else "randomly initialised"
        cut = f", cut after layer `{_cell(model.cut_layer)}`" if model.cut_layer else ""
        lines.append(f"- Backbone: {backbone.keras_name} ({weights} weights{cut}).")
        head = model.head
        dense = f"{len(head.dense)} hidden dense layer(s)" if head.dense else "no hidden layer"
        lines.append(
            f"- Head: {head.pooling} pooling, {dense}, dropout {head.dropout:g}, "
            f"{head.output} output."
        )
        fine_tune = "head only" if train.fine_tune is None else "head, then fine-tuned"
        epochs = metrics.get("epochs_run", train.total_epochs)
        lines.append(
            f"- Training: {epochs} of {train.total_epochs} planned epochs ({fine_tune}), "
            f"{train.optimizer} at learning rate {train.learning_rate:g}, batch size "
            f"{train.batch_size}, seed {train.seed}. Every setting is in `config.json`."
        )
    return "\n".join(lines)


def _data_section(run_dir: Path) -> str:
    try:
        stored = read_stored_split(run_dir / SPLIT_FILE)
    except DataError:
        stored = None
    if stored is None:
        return "## Data\nThe run has no readable stored split (`split.json`), so no counts."
    header = "| class | " + " | ".join(_SPLIT_TITLES[name] for name in SPLIT_NAMES) + " |"
    rows = [header, "|---|" + "---:|" * len(SPLIT_NAMES)]
    totals = dict.fromkeys(SPLIT_NAMES, 0)
    for name in stored.classes:
        counts = {s: sum(1 for i in stored.splits[s] if i.label == name) for s in SPLIT_NAMES}
        rows.append(f"| {_cell(name)} | " + " | ".join(str(counts[s]) for s in SPLIT_NAMES) + " |")
        totals = {s: totals[s] + counts[s] for s in SPLIT_NAMES}
    rows.append("| **total** | " + " | ".join(str(totals[s]) for s in SPLIT_NAMES) + " |")
    folder = PurePath(stored.root).name or "(unnamed)"  # the folder's name only, no server path
    return (
        f"## Data\nImages from the dataset folder `{_cell(folder)}`, split once before "
        "training (the split is stored with the run, so no held-out image was trained on):\n\n"
        + "\n".join(rows)
    )


def _held_out_scores(run_dir: Path, predictor: Any, metrics: dict[str, Any]) -> dict[str, Any]:
    """Per-class scores on the test split: from ``metrics.json`` when training measured them,
    else from an evaluation now (on validation when the run has no test split)."""
    per_class = metrics.get("per_class")
    if isinstance(per_class, dict) and per_class:
        count = metrics.get("test_count") or sum(r.get("support", 0) for r in per_class.values())
        return {"split": "test", "count": int(count), "accuracy": metrics.get("test_accuracy"),
                "per_class": per_class}  # fmt: skip
    try:
        result = evaluate_run(run_dir, predictor=predictor)
    except (StudioError, ValueError):  # the dataset is gone: nothing to score on
        return {}
    rows = {row["class"]: row for row in result.metrics.per_class}
    return {"split": result.split, "count": len(result.paths),
            "accuracy": result.metrics.accuracy, "per_class": rows}  # fmt: skip


def _test_section(scores: dict[str, Any]) -> str:
    if not scores.get("per_class"):
        return "## Test results\nThe run's held-out images could not be read, so no scores."
    lines = ["## Test results"]
    if scores["split"] != "test":
        lines.append(
            "The run has no test split, so these scores are on the validation images. Those "
            "also picked the best epoch, so expect the scores to be a little optimistic.\n"
        )
    count, accuracy = scores["count"], scores.get("accuracy")
    if isinstance(accuracy, int | float) and count:
        low, high = _wilson_interval(float(accuracy), count)
        lines.append(
            f"Accuracy {accuracy:.3f} on {count} {scores['split']} images (95% interval "
            f"{low:.2f} to {high:.2f}: with few images the score itself is uncertain).\n"
        )
    lines += ["| class | precision | recall | F1 | images |", "|---|---:|---:|---:|---:|"]
    for name, row in scores["per_class"].items():
        lines.append(
            f"| {_cell(name)} | {row.get('precision', 0):.3f} | {row.get('recall', 0):.3f} | "
            f"{row.get('f1', 0):.3f} | {row.get('support', 0)} |"
        )
    return "\n".join(lines)


def _wilson_interval(accuracy: float, count: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of an accuracy measured on ``count`` images."""
    centre = (accuracy + z * z / (2 * count)) / (1 + z * z / count)
    spread = z * math.sqrt(accuracy * (1 - accuracy) / count + z * z / (4 * count * count))
    spread /= 1 + z * z / count
    return max(0.0, centre - spread), min(1.0, centre + spread)


def _calibration_section(metrics: dict[str, Any]) -> str:
    """Calibration numbers when the run has them (``metrics.json`` "calibration"); else none."""
    calibration = metrics.get("calibration")
    if not isinstance(calibration, dict) or not calibration:
        return ""
    rows = [
        f"| {_cell(key)} | {value:.4g} |"
        for key, value in calibration.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]
    if not rows:
        return ""
    return "## Calibration\n| measure | value |\n|---|---:|\n" + "\n".join(rows)


def _parity_section(report: ExportReport) -> str:
    lines = [
        "## Export check (parity)",
        f"Each model file was reloaded from disk and run on {report.parity_images} "
        f"{report.parity_source}; largest difference in probability to the studio's own "
        f"prediction (goal: below {FLOAT_PARITY_GOAL:g}):\n",
        "| format | max \\|Δp\\| | within goal |",
        "|---|---:|---|",
    ]
    for name, diff in report.parity.items():
        lines.append(f"| {name} | {diff:.2e} | {'yes' if diff < FLOAT_PARITY_GOAL else 'NO'} |")
    if not report.parity:
        lines.append("| (no model file exported) | | |")
    quantised = report.quantised
    if quantised:
        agreement = quantised.get("top1_agreement", 0.0)
        lines.append(
            f"\nThe 8-bit `{quantised.get('file')}` differs by up to "
            f"{quantised.get('max_abs_diff', 0.0):.2e} (top-1 agreement {agreement:.3f}); "
            "quantised models are not held to the float goal."
        )
    return "\n".join(lines)


def _use_section(predictor: Any) -> str:
    classes = ", ".join(f"`{_cell(name)}`" for name in predictor.classes)
    return f"""## Intended use
Sorting photos into {classes}, for images like the ones it was trained on (similar subjects,
cameras, framing and lighting), as an aid whose answers a person can check. Keep a confidence
threshold and send low-confidence images to a person.

## Limits
- It always answers one of its {len(predictor.classes)} classes, even for an image that shows
  none of them: it has no "unknown" class.
- It learned from a small, particular set of images. Expect lower accuracy on other cameras,
  backgrounds, lighting or image sizes, and re-test it on your own images before relying on it.
- Whatever bias the training images carry (how each class was photographed, which examples
  were collected) carries over to its answers. It was not tested for fairness across people or
  groups: do not use it for decisions about people, or for medical, legal or safety decisions.
- The probabilities are the network's scores, not measured certainties; a score of 0.9 is not
  right nine times out of ten unless a calibration check above shows so.
- The test scores above come from the images listed under Data; they say little about data
  that differs from them."""


def _licence_section(run_dir: Path) -> str:
    config = _run_config(run_dir)
    lines = []
    if config is None:
        lines.append("The run's settings are missing, so the backbone and its licence are unknown.")
    else:
        backbone = get_backbone(config.model.backbone)
        if config.model.weights == "imagenet":
            lines.append(f"{backbone.keras_name}: {backbone.licence}")
        else:  # no pretrained weights: only the architecture's code is used
            lines.append(
                f"{backbone.keras_name}, randomly initialised (no pretrained weights): Keras "
                "Applications code under the Apache License 2.0."
            )
    lines.append(
        "The trained weights also reflect your training images: their own terms (copyright, "
        "consent of people shown) apply to how you share and use this model."
    )
    return "## Licence\n" + "\n\n".join(lines)
