"""The ``predict_model`` job kind: the quick-prediction model of the Predict page (once per model).

Single-image Predict runs in the web process on LiteRT (``core.predict.lite``), without
TensorFlow. This job makes the float32 TFLite file it runs and checks it against the Keras
model (``core.export.lite_model.prepare_lite_model``: a file that differs by more than
``FLOAT_PARITY_GOAL`` is refused with a sentence). It runs once per model:

- for a run: into ``<run>/lite/``; queued by itself when a training run finished
  (``core.jobs.kinds.registry``: the train kind's ``then``), and by the Predict page when it
  is still missing (an older run, a retrained one);
- without a run, ``params["model"]`` names an uploaded ``.keras`` file (saved in the job folder,
  loaded with ``safe_mode``) or an ImageNet network, as ``core.predict.choice`` describes; the
  file and a ``labels.json`` go into the job folder, which the page then loads.

The result: the facts of ``lite/model.json`` (input size, output kind, parity...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.atomic import write_json_atomic
from core.config.settings import Settings
from core.export.lite_model import prepare_lite_model
from core.jobs.context import JobContext
from core.predict.choice import check_model_choice, load_model_choice


def check(folder: Path, params: dict[str, Any], settings: Settings) -> None:
    """Refuses an uploaded model file above the caps before it is queued (no TensorFlow)."""
    check_model_choice(folder, params.get("model"), settings)


def run(context: JobContext) -> dict[str, Any]:
    """Makes and checks the TFLite model; see the module docstring."""
    context.report(0.1, "Converting the model for quick predictions (once per model).")
    if context.request.run_id is not None:
        return prepare_lite_model(context.run_dir())
    predictor = load_model_choice(context.folder, context.params.get("model"))
    labels = {
        "classes": list(predictor.classes),
        "input_size": predictor.input_size,
        "resize_mode": predictor.resize_mode,
    }
    write_json_atomic(context.folder / "labels.json", labels)
    return prepare_lite_model(context.folder, predictor)
