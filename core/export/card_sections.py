"""The sections of a model card that are built from plain numbers (``core.export.model_card``).

Held-out scores with their uncertainty, calibration, the export's parity table, intended use and
limits. Class names come from users: ``table_cell`` keeps one from breaking a table or code span.
"""

from __future__ import annotations

import math
from typing import Any

from core.export.parity import FLOAT_PARITY_GOAL, parity_verdict
from core.export.report import ExportReport
from core.store.run_metrics import RunMetrics


def table_cell(text: Any) -> str:
    """Text safe inside a Markdown table cell or inline code (pipes, backticks, newlines)."""
    return " ".join(str(text).split()).replace("|", "\\|").replace("`", "'")


def test_section(scores: dict[str, Any]) -> str:
    if not scores.get("per_class"):
        return (
            "## Test results\nNo held-out scores yet: the run has not been evaluated, or its "
            "held-out images could not be read."
        )
    lines = ["## Test results"]
    if scores["split"] != "test":
        lines.append(
            "The run has no test split, so these scores are on the validation images. Those "
            "also picked the best epoch, so expect the scores to be a little optimistic.\n"
        )
    count, accuracy = scores["count"], scores.get("accuracy")
    if isinstance(accuracy, int | float) and count:
        low, high = wilson_interval(float(accuracy), count)
        lines.append(
            f"Accuracy {accuracy:.3f} on {count} {scores['split']} images (95% interval "
            f"{low:.2f} to {high:.2f}: with few images the score itself is uncertain).\n"
        )
    lines += ["| class | precision | recall | F1 | images |", "|---|---:|---:|---:|---:|"]
    for name, row in scores["per_class"].items():
        lines.append(
            f"| {table_cell(name)} | {row.get('precision', 0):.3f} | {row.get('recall', 0):.3f} | "
            f"{row.get('f1', 0):.3f} | {row.get('support', 0)} |"
        )
    return "\n".join(lines)


def wilson_interval(accuracy: float, count: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of an accuracy measured on ``count`` images."""
    centre = (accuracy + z * z / (2 * count)) / (1 + z * z / count)
    spread = z * math.sqrt(accuracy * (1 - accuracy) / count + z * z / (4 * count * count))
    spread /= 1 + z * z / count
    return max(0.0, centre - spread), min(1.0, centre + spread)


def calibration_section(metrics: RunMetrics) -> str:
    """Calibration numbers when the run has them (``metrics.json`` "calibration"); else none."""
    rows = [f"| {table_cell(key)} | {value:.4g} |" for key, value in metrics.calibration.items()]
    if not rows:
        return ""
    return "## Calibration\n| measure | value |\n|---|---:|\n" + "\n".join(rows)


def parity_section(report: ExportReport | None) -> str:
    if report is None:
        return (
            "## Export check (parity)\nNot exported yet: exporting checks every model file "
            "against the studio's own predictions and adds the table here."
        )
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
    lines.append(f"\n**Verdict:** {parity_verdict(report.parity)[1]}")
    quantised = report.quantised
    if quantised:
        agreement = quantised.get("top1_agreement", 0.0)
        lines.append(
            f"\nThe 8-bit `{quantised.get('file')}` differs by up to "
            f"{quantised.get('max_abs_diff', 0.0):.2e} (top-1 agreement {agreement:.3f}); "
            "quantised models are not held to the float goal."
        )
    return "\n".join(lines)


def use_section(predictor: Any) -> str:
    classes = ", ".join(f"`{table_cell(name)}`" for name in predictor.classes)
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
