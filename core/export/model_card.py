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

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

from core.config.backbones import get_backbone
from core.data.stored_split import SPLIT_FILE, SPLIT_NAMES, read_stored_split
from core.errors import DataError, StudioError
from core.evaluate.metrics import EvalResult, evaluate_run
from core.export.card_sections import (
    calibration_section,
    parity_section,
    table_cell,
    test_section,
    use_section,
)
from core.export.report import ExportReport
from core.predict.model_file import read_labels
from core.store.run_config import read_run_config
from core.store.run_metrics import METRICS_FILE, RunMetrics, read_run_metrics

MODEL_CARD_FILE = "MODEL_CARD.md"
_SPLIT_TITLES = {"train": "train", "val": "validation", "test": "test"}
_RESIZE = {"stretch": "stretched", "crop": "centre-cropped", "pad": "padded with black"}


def write_model_card(run_dir: Path, out: Path, predictor: Any, report: ExportReport) -> str:
    """Writes ``MODEL_CARD.md`` into ``out``; returns its file name."""
    (out / MODEL_CARD_FILE).write_text(model_card(run_dir, predictor, report), encoding="utf-8")
    return MODEL_CARD_FILE


@dataclass(frozen=True)
class ModelFacts:
    """What the card says about the model's input and output, read from ``labels.json``.

    A ``Predictor`` has the same attributes; the web process, which never loads a model,
    uses ``model_facts(run_dir)`` instead.
    """

    classes: list[str]
    input_size: int
    resize_mode: str


def model_facts(run_dir: Path) -> ModelFacts:
    """The facts of a run's model from its ``labels.json`` (no model is loaded).

    Raises:
        ModelFileError: the run has no readable ``labels.json``.
    """
    labels = read_labels(run_dir / "labels.json")
    return ModelFacts(
        [str(name) for name in labels["classes"]],
        int(labels.get("input_size") or 0),
        str(labels.get("resize_mode", "stretch")),
    )


def model_card(
    run_dir: Path,
    predictor: Any,
    report: ExportReport | None,
    scores: dict[str, Any] | None = None,
) -> str:
    """The model card of a run as Markdown.

    Args:
        run_dir: the run folder.
        predictor: the model (or its ``ModelFacts``): classes, input size, resize mode.
        report: the export's parity report; None before the model was exported.
        scores: the held-out scores (``stored_scores``); None: from ``metrics.json``, else
            measured now with ``predictor`` (the export job; never in the web process).
    """
    metrics = read_run_metrics(run_dir / METRICS_FILE)
    if scores is None:
        scores = _held_out_scores(run_dir, predictor, metrics)
    stamp = "Exported" if report is not None else "Written"
    sections = [
        f"# Model card: image classifier `{table_cell(run_dir.name)}`\n\n"
        f"{stamp} by Transfer-Learning Studio on {datetime.now(UTC):%Y-%m-%d}.",
        _model_section(run_dir, predictor, metrics),
        _data_section(run_dir),
        test_section(scores),
        calibration_section(metrics),
        parity_section(report),
        use_section(predictor),
        _licence_section(run_dir),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def _run_config(run_dir: Path) -> Any:
    """The run's ``RunConfig``, or None when config.json is missing or damaged."""
    try:
        return read_run_config(run_dir / "config.json")
    except StudioError:
        return None


def _model_section(run_dir: Path, predictor: Any, metrics: RunMetrics) -> str:
    size, classes = predictor.input_size, predictor.classes
    lines = [
        "## Model",
        f"- Input: RGB images, float32 values 0..255, {size}x{size} pixels "
        f"({_RESIZE.get(predictor.resize_mode, predictor.resize_mode)}); the preprocessing is "
        "inside the model.",
        f"- Output: probabilities over {len(classes)} classes: "
        + ", ".join(f"`{table_cell(name)}`" for name in classes)
        + ".",
    ]
    config = _run_config(run_dir)
    if config is not None:
        model, train = config.model, config.train
        backbone = get_backbone(model.backbone)
        weights = "ImageNet-pretrained" if model.weights == "imagenet" else "randomly initialised"
        cut = f", cut after layer `{table_cell(model.cut_layer)}`" if model.cut_layer else ""
        lines.append(f"- Backbone: {backbone.keras_name} ({weights} weights{cut}).")
        head = model.head
        dense = f"{len(head.dense)} hidden dense layer(s)" if head.dense else "no hidden layer"
        lines.append(
            f"- Head: {head.pooling} pooling, {dense}, dropout {head.dropout:g}, "
            f"{head.output} output."
        )
        fine_tune = "head only" if train.fine_tune is None else "head, then fine-tuned"
        epochs = train.total_epochs if metrics.epochs_run is None else metrics.epochs_run
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
        cells = " | ".join(str(counts[s]) for s in SPLIT_NAMES)
        rows.append(f"| {table_cell(name)} | {cells} |")
        totals = {s: totals[s] + counts[s] for s in SPLIT_NAMES}
    rows.append("| **total** | " + " | ".join(str(totals[s]) for s in SPLIT_NAMES) + " |")
    folder = PurePath(stored.root).name or "(unnamed)"  # the folder's name only, no server path
    return (
        f"## Data\nImages from the dataset folder `{table_cell(folder)}`, split once before "
        "training (the split is stored with the run, so no held-out image was trained on):\n\n"
        + "\n".join(rows)
    )


def stored_scores(metrics: RunMetrics, evaluation: EvalResult | None = None) -> dict[str, Any]:
    """Per-class held-out scores without running the model: from ``metrics.json`` when
    training measured them on the test split, else from a stored evaluation, else ``{}``."""
    per_class = metrics.per_class
    if per_class:
        count = metrics.test_count or sum(row.support or 0 for row in per_class.values())
        rows = {name: row.to_dict() for name, row in per_class.items()}
        return {"split": "test", "count": int(count), "accuracy": metrics.test_accuracy,
                "per_class": rows}  # fmt: skip
    if evaluation is None:
        return {}
    rows = {row["class"]: row for row in evaluation.metrics.per_class}
    return {"split": evaluation.split, "count": len(evaluation.paths),
            "accuracy": evaluation.metrics.accuracy, "per_class": rows}  # fmt: skip


def _held_out_scores(run_dir: Path, predictor: Any, metrics: RunMetrics) -> dict[str, Any]:
    """Per-class scores on the test split: from ``metrics.json`` when training measured them,
    else from an evaluation now (on validation when the run has no test split)."""
    scores = stored_scores(metrics)
    if scores:
        return scores
    try:
        result = evaluate_run(run_dir, predictor=predictor)
    except (StudioError, ValueError):  # the dataset is gone: nothing to score on
        return {}
    rows = {row["class"]: row for row in result.metrics.per_class}
    return {"split": result.split, "count": len(result.paths),
            "accuracy": result.metrics.accuracy, "per_class": rows}  # fmt: skip


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
