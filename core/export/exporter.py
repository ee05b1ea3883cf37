"""Export a finished run as files anyone can use, and prove they predict what the app predicts.

Artifacts: ``model.keras`` (preprocessing inside: raw 0..255 RGB in, probabilities out), a zipped
TensorFlow SavedModel, a float32 TFLite model, an ONNX model (when the optional ONNX packages
are installed, see ``core.export.onnx``) and optionally a dynamic-range quantised TFLite model,
plus a model card (``MODEL_CARD.md``), ``labels.json``, ``config.json``, ``train_model.py``
(generated code, when the model engine provides it) and a README. Every model artifact is
reloaded FROM DISK and run on up to 32 validation images; the largest absolute probability
difference to the in-app model is reported and stored in the run's ``metrics.json``. A
difference above the goal becomes a warning.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import StudioError
from core.evaluate.metrics import update_run_metrics
from core.export.bundle import write_side_files, zip_bundle
from core.export.lite_model import saved_model_to_tflite
from core.export.onnx import export_onnx, missing_onnx_packages, run_onnx
from core.export.parity import (
    parity_batch,
    parity_warnings,
    run_tflite,
)
from core.export.report import ExportReport
from core.model.forward import forward_in_batches, traced_forward
from core.model.release import release_memory
from core.predict.model_file import load_keras_file
from core.predict.predictor import Predictor

EXPORT_FORMATS = ("keras", "savedmodel", "tflite", "onnx")


def missing_requirement(format_name: str) -> str | None:
    """One sentence saying how to enable ``format_name``, or None when it can be exported.

    The Runs page shows it next to the format list and ``python -m core export`` prints it.
    """
    if format_name == "onnx":
        return missing_onnx_packages()
    return None


def available_formats() -> tuple[str, ...]:
    """The formats of ``EXPORT_FORMATS`` whose packages are installed."""
    return tuple(name for name in EXPORT_FORMATS if missing_requirement(name) is None)


@dataclasses.dataclass
class _ExportJob:
    """Everything the per-format steps share during one export."""

    run_dir: Path
    work: Path  # temp folder (the SavedModel directory lives here)
    out: Path
    predictor: Any
    images: np.ndarray
    labels: np.ndarray | None
    reference: np.ndarray  # in-app probabilities for ``images``
    report: ExportReport

    def saved_model_dir(self) -> Path:
        """Exports the SavedModel once; TFLite conversion reuses it."""
        saved = self.work / "saved_model"
        if not saved.is_dir():
            self.predictor.model.export(str(saved), format="tf_saved_model", verbose=False)
        return saved

    def keras(self) -> np.ndarray:
        shutil.copy2(self.run_dir / "model.keras", self.out / "model.keras")
        reloaded = load_keras_file(self.out / "model.keras")  # exactly as a user will load it
        # Traced and in bounded batches: an eager call on all 32 images peaked at 3.5 GB.
        forward = traced_forward(reloaded, self.predictor.input_size)
        return self.predictor.to_probabilities(forward_in_batches(forward, self.images))

    def savedmodel(self) -> np.ndarray:
        import tensorflow as tf

        saved = self.saved_model_dir()
        with zipfile.ZipFile(self.out / "saved_model.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(saved.rglob("*")):
                archive.write(file, Path("saved_model") / file.relative_to(saved))
        with tempfile.TemporaryDirectory(prefix="studio_reload_") as folder:
            # Reload from the zip a user downloads, not from the folder it was made from.
            with zipfile.ZipFile(self.out / "saved_model.zip") as archive:
                archive.extractall(folder)
            restored = tf.saved_model.load(str(Path(folder) / "saved_model"))
            raw = forward_in_batches(lambda batch: restored.serve(tf.constant(batch)), self.images)
        return self.predictor.to_probabilities(raw)

    def tflite_file(self, name: str, quantise: bool) -> Path:
        return saved_model_to_tflite(self.saved_model_dir(), self.out / name, quantise)

    def tflite(self) -> np.ndarray:
        path = self.tflite_file("model.tflite", quantise=False)
        return self.predictor.to_probabilities(run_tflite(path, self.images))

    def onnx(self) -> np.ndarray:
        path = export_onnx(self.predictor.model, self.out / "model.onnx", self.images)
        return self.predictor.to_probabilities(run_onnx(path, self.images))

    def quantised(self) -> dict[str, Any]:
        """Accuracy of the quantised model next to the float model's, and their agreement."""
        path = self.tflite_file("model_dynamic_range.tflite", quantise=True)
        probabilities = self.predictor.to_probabilities(run_tflite(path, self.images))
        result: dict[str, Any] = {
            "file": path.name,
            "size_bytes": path.stat().st_size,
            "max_abs_diff": float(np.abs(probabilities - self.reference).max()),
            "top1_agreement": float(np.mean(probabilities.argmax(1) == self.reference.argmax(1))),
            "accuracy": None,
            "float_accuracy": None,
        }
        if self.labels is not None:
            result["accuracy"] = float(np.mean(probabilities.argmax(1) == self.labels))
            result["float_accuracy"] = float(np.mean(self.reference.argmax(1) == self.labels))
        return result


_ARTIFACT_FILES = {
    "keras": "model.keras",
    "savedmodel": "saved_model.zip",
    "tflite": "model.tflite",
    "onnx": "model.onnx",
}


def _run_formats(job: _ExportJob, formats: tuple[str, ...], quantise: bool) -> None:
    """Writes each artifact and records its parity; a failing format becomes a warning."""
    report = job.report
    for name in EXPORT_FORMATS:
        if name not in formats:
            continue
        missing = missing_requirement(name)
        if missing is not None:  # optional packages absent: say how to get them, go on
            report.warnings.append(missing)
            continue
        try:
            probabilities = getattr(job, name)()
        except Exception as error:  # one failing format must not hide the others
            report.warnings.append(f"The {name} export failed: {type(error).__name__}: {error}")
            continue
        finally:  # each format's converter and reloaded model go before the next one starts
            release_memory()
        report.parity[name] = float(np.abs(probabilities - job.reference).max())
        report.files.append(_ARTIFACT_FILES[name])
    if quantise:
        try:
            report.quantised = job.quantised()
            report.files.append(report.quantised["file"])
        except Exception as error:
            report.warnings.append(f"The quantised TFLite export failed: {error}")


def export_run(
    run_dir: str | Path,
    out_dir: str | Path,
    formats: tuple[str, ...] | None = None,
    quantise: bool = False,
    data_path: str | None = None,
    make_bundle: bool = True,
) -> ExportReport:
    """Exports a finished run and checks every model artifact against the in-app model.

    Args:
        run_dir: the run folder (model.keras, labels.json, config.json).
        out_dir: where the files go (created; files with the same names are replaced).
        formats: any of ``EXPORT_FORMATS``; None exports every available one. A format whose
            optional packages are missing is skipped with a warning saying how to add them.
        quantise: also writes a dynamic-range quantised TFLite model and reports its accuracy.
        data_path: dataset folder for the parity images when the run's own has moved.
        make_bundle: also zips everything into ``<run>_export.zip`` in ``out_dir``.

    Returns:
        The report; its parity numbers are also merged into the run's ``metrics.json``.
    """
    run_dir, out = Path(run_dir), Path(out_dir)
    formats = available_formats() if formats is None else tuple(formats)
    _check_formats(formats)
    predictor = Predictor.from_run(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    batch = parity_batch(run_dir, predictor, data_path)
    reference = predictor.predict_arrays(batch.images)
    report = ExportReport(out, [], {}, len(batch.images), batch.source, warnings=list(batch.notes))
    with tempfile.TemporaryDirectory(prefix="studio_export_") as tmp:
        job = _ExportJob(
            run_dir, Path(tmp), out, predictor, batch.images, batch.labels, reference, report
        )
        _run_formats(job, formats, quantise)
    report.files.extend(write_side_files(run_dir, out, predictor, report))
    report.warnings.extend(parity_warnings(report.parity))
    if make_bundle:
        report.bundle = zip_bundle(out, f"{run_dir.name}_export.zip", report.files)
    stored = {key: value for key, value in report.to_dict().items() if key in _STORED_KEYS}
    update_run_metrics(run_dir, {"export": stored})
    return report


_STORED_KEYS = ("parity", "parity_images", "parity_source", "quantised", "warnings")


def _check_formats(formats: tuple[str, ...]) -> None:
    """Raises ``StudioError`` unless ``formats`` is a non-empty subset of ``EXPORT_FORMATS``."""
    unknown = sorted(set(formats) - set(EXPORT_FORMATS))
    if unknown or not formats:
        raise StudioError(f"Unknown export format; choose from {', '.join(EXPORT_FORMATS)}.")
