"""The TFLite model the web process predicts with (``core.predict.lite``), made and checked here.

Worker side (uses TensorFlow): the model is exported as a SavedModel, converted to a float32
TFLite file (as the export's TFLite artifact is, ``saved_model_to_tflite``), reloaded with LiteRT
and compared with the Keras model on the run's parity images (``core.export.parity``). A file
whose largest probability difference misses ``FLOAT_PARITY_GOAL`` is deleted and the job fails
with a sentence: the page then says quick predictions are not available for this model.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from core.atomic import write_json_atomic
from core.errors import ModelFileError
from core.export.parity import FLOAT_PARITY_GOAL, parity_batch, run_tflite
from core.model.release import release_memory
from core.predict.lite import keras_mtime, lite_files
from core.predict.predictor import Predictor


def saved_model_to_tflite(saved_model: Path, path: Path, quantise: bool = False) -> Path:
    """Converts a SavedModel folder into a ``.tflite`` file at ``path`` (written atomically).

    Args:
        saved_model: a folder written by ``model.export(..., format="tf_saved_model")``.
        path: the file to write.
        quantise: dynamic-range quantisation (int8 weights, float activations; ~4x smaller).
    """
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    if quantise:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    temp = path.with_suffix(".tmp")
    temp.write_bytes(converter.convert())
    os.replace(temp, path)
    return path


def prepare_lite_model(folder: str | Path, predictor: Predictor | None = None) -> dict[str, Any]:
    """Converts a model to ``<folder>/lite/model.tflite`` and checks it against Keras.

    Args:
        folder: a run folder, or (with ``predictor``) a job folder holding the ``labels.json``
            of an uploaded file or an ImageNet network (and the upload's ``model.keras``).
        predictor: the model to convert; default the run's (``Predictor.from_run``).

    Returns:
        The facts written to ``lite/model.json``: input size, output kind, units, source,
        parity (largest probability difference) and the images it was measured on.

    Raises:
        ModelFileError: the TFLite model misses the float parity goal (the file is removed).
    """
    folder = Path(folder)
    predictor = predictor or Predictor.from_run(folder)
    mtime = keras_mtime(folder)
    batch = parity_batch(folder, predictor, None)
    reference = predictor.predict_arrays(batch.images)
    model_path, facts_path = lite_files(folder)
    model_path.parent.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="studio_lite_") as work:
        saved = Path(work) / "saved_model"
        predictor.model.export(str(saved), format="tf_saved_model", verbose=False)
        saved_model_to_tflite(saved, model_path)
    release_memory()  # the converter's graph copies go before LiteRT loads the file
    parity = float(np.abs(predictor.to_probabilities(run_tflite(model_path, batch.images))
                          - reference).max())  # fmt: skip
    if not parity <= FLOAT_PARITY_GOAL:  # NaN fails too
        model_path.unlink(missing_ok=True)
        raise ModelFileError(
            f"Quick predictions are not available for this model: its TFLite version differs "
            f"from it by up to {parity:.2g} in probability (the goal is {FLOAT_PARITY_GOAL:g}). "
            "Classify a zip of images instead: that runs the full model in a worker."
        )
    facts = {
        "input_size": predictor.input_size,
        "output_kind": predictor.output_kind,
        "units": int(predictor.model.outputs[0].shape[1]),
        "source": predictor.source,
        "parity": parity,
        "parity_images": len(batch.images),
        "parity_source": batch.source,
        "keras_mtime": mtime,
    }
    write_json_atomic(facts_path, facts)
    return facts
