"""Export a finished run as files anyone can use, and prove they predict what the app predicts.

Artifacts: ``model.keras`` (preprocessing inside: raw 0..255 RGB in, probabilities out), a zipped
TensorFlow SavedModel, a float32 TFLite model and optionally a dynamic-range quantised TFLite
model, plus ``labels.json``, ``config.json``, ``train_model.py`` (generated code, when the model
engine provides it) and a README. Every model artifact is reloaded FROM DISK and run on up to 32
validation images; the largest absolute probability difference to the in-app model is reported
and stored in the run's ``metrics.json``. A difference above the goal becomes a warning.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import DataError, StudioError

EXPORT_FORMATS = ("keras", "savedmodel", "tflite")
FLOAT_PARITY_GOAL = 1e-4  # float exports should agree with the app to 4 decimals
PARITY_IMAGES = 32


@dataclasses.dataclass
class ExportReport:
    """What an export produced and how closely each artifact matches the in-app model."""

    out_dir: Path
    files: list[str]
    parity: dict[str, float]  # artifact format -> max |Δp| against the in-app model
    parity_images: int
    parity_source: str  # "validation images", "test images" or "random pixel images"
    quantised: dict[str, Any] | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)
    bundle: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (paths as strings)."""
        data = dataclasses.asdict(self)
        data["out_dir"] = str(self.out_dir)
        data["bundle"] = str(self.bundle) if self.bundle else None
        return data


def _parity_batch(
    run_dir: Path, predictor: Any, data_path: str | None
) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Up to 32 validation images (with labels) or, if the data is gone, seeded random pixels."""
    from core.evaluate import held_out_items

    try:
        split, items, data_classes = held_out_items(run_dir, data_path, prefer="validation")
        items = items[:PARITY_IMAGES]
        images = predictor.load_images([path for path, _ in items])
        labels = np.array([predictor.classes.index(data_classes[i]) for _, i in items])
        return images, labels, f"{split} images"
    except (DataError, StudioError, ValueError):
        size = predictor.input_size
        rng = np.random.default_rng(0)
        images = rng.uniform(0, 255, (8, size, size, 3)).astype(np.float32)
        return images, None, "random pixel images"


def _tflite_interpreter(path: Path) -> Any:
    """The LiteRT interpreter when installed, else TensorFlow's (deprecated but working) one."""
    try:
        from ai_edge_litert.interpreter import Interpreter  # type: ignore[import-not-found]

        return Interpreter(model_path=str(path))
    except ImportError:
        import tensorflow as tf

        with warnings.catch_warnings():  # tf.lite.Interpreter warns that it is deprecated
            warnings.simplefilter("ignore")
            return tf.lite.Interpreter(model_path=str(path))


def run_tflite(path: Path, images: np.ndarray) -> np.ndarray:
    """Runs a .tflite file on a batch (input resized to the batch size); returns raw outputs."""
    interpreter = _tflite_interpreter(path)
    input_index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(input_index, list(images.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(input_index, images.astype(np.float32))
    interpreter.invoke()
    return np.array(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))


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
        from core.predictor import load_keras_file

        shutil.copy2(self.run_dir / "model.keras", self.out / "model.keras")
        reloaded = load_keras_file(self.out / "model.keras")  # exactly as a user will load it
        return self.predictor.to_probabilities(np.asarray(reloaded(self.images, training=False)))

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
            raw = np.asarray(restored.serve(tf.constant(self.images)))
        return self.predictor.to_probabilities(raw)

    def tflite_file(self, name: str, quantise: bool) -> Path:
        import tensorflow as tf

        converter = tf.lite.TFLiteConverter.from_saved_model(str(self.saved_model_dir()))
        if quantise:  # dynamic range: int8 weights, float activations; about 4x smaller
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        path = self.out / name
        path.write_bytes(converter.convert())
        return path

    def tflite(self) -> np.ndarray:
        path = self.tflite_file("model.tflite", quantise=False)
        return self.predictor.to_probabilities(run_tflite(path, self.images))

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
}


def _run_formats(job: _ExportJob, formats: tuple[str, ...], quantise: bool) -> None:
    """Writes each artifact and records its parity; a failing format becomes a warning."""
    report = job.report
    for name in EXPORT_FORMATS:
        if name not in formats:
            continue
        try:
            probabilities = getattr(job, name)()
        except Exception as error:  # one failing format must not hide the others
            report.warnings.append(f"The {name} export failed: {type(error).__name__}: {error}")
            continue
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
    formats: tuple[str, ...] = EXPORT_FORMATS,
    quantise: bool = False,
    data_path: str | None = None,
    make_bundle: bool = True,
) -> ExportReport:
    """Exports a finished run and checks every model artifact against the in-app model.

    Args:
        run_dir: the run folder (model.keras, labels.json, config.json).
        out_dir: where the files go (created; files with the same names are replaced).
        formats: any of "keras", "savedmodel", "tflite".
        quantise: also writes a dynamic-range quantised TFLite model and reports its accuracy.
        data_path: dataset folder for the parity images when the run's own has moved.
        make_bundle: also zips everything into ``<run>_export.zip`` in ``out_dir``.

    Returns:
        The report; its parity numbers are also merged into the run's ``metrics.json``.
    """
    from core.evaluate import update_run_metrics
    from core.predictor import Predictor

    run_dir, out = Path(run_dir), Path(out_dir)
    unknown = sorted(set(formats) - set(EXPORT_FORMATS))
    if unknown or not formats:
        raise StudioError(f"Unknown export format; choose from {', '.join(EXPORT_FORMATS)}.")
    predictor = Predictor.from_run(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    images, labels, source = _parity_batch(run_dir, predictor, data_path)
    reference = predictor.predict_arrays(images)
    report = ExportReport(out, [], {}, len(images), source)
    with tempfile.TemporaryDirectory(prefix="studio_export_") as tmp:
        job = _ExportJob(run_dir, Path(tmp), out, predictor, images, labels, reference, report)
        _run_formats(job, formats, quantise)
    report.files.extend(write_side_files(run_dir, out, predictor, report))
    for name, diff in report.parity.items():
        if diff > FLOAT_PARITY_GOAL:
            report.warnings.append(
                f"The {name} export differs from the app by up to {diff:.2g} in probability "
                f"(goal: below {FLOAT_PARITY_GOAL:g}); check it before relying on it."
            )
    if make_bundle:
        report.bundle = zip_bundle(out, f"{run_dir.name}_export.zip", report.files)
    stored = {key: value for key, value in report.to_dict().items() if key in _STORED_KEYS}
    update_run_metrics(run_dir, {"export": stored})
    return report


_STORED_KEYS = ("parity", "parity_images", "parity_source", "quantised", "warnings")


def _generated_code(run_dir: Path, num_classes: int) -> str | None:
    """The model engine's generated Python code for this run's model, if it can be made."""
    try:
        from core.codegen import generate_code
        from core.model_spec import ModelSpec

        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
        return str(generate_code(ModelSpec.from_dict(config["model"]), num_classes))
    except Exception:  # codegen missing or the config predates it: the bundle goes without
        return None


def write_side_files(run_dir: Path, out: Path, predictor: Any, report: ExportReport) -> list[str]:
    """Writes labels.json, config.json, train_model.py and README.md; returns their names."""
    written = []
    for name in ("labels.json", "config.json"):
        if (run_dir / name).is_file():
            shutil.copy2(run_dir / name, out / name)
            written.append(name)
    code = _generated_code(run_dir, predictor.num_classes)
    if code is not None:
        (out / "train_model.py").write_text(code, encoding="utf-8")
        written.append("train_model.py")
    else:
        report.warnings.append("The Python code to retrain this model could not be generated.")
    (out / "README.md").write_text(bundle_readme(predictor, report), encoding="utf-8")
    written.append("README.md")
    return written


def bundle_readme(predictor: Any, report: ExportReport) -> str:
    """A short README telling what goes in and comes out of the exported model."""
    size, classes = predictor.input_size, predictor.classes
    parity = "\n".join(f"| {name} | {diff:.2e} |" for name, diff in sorted(report.parity.items()))
    resize = {"stretch": "stretched", "crop": "centre-cropped", "pad": "padded with black"}
    return f"""# Exported image classifier ({predictor.source})

## Input
RGB images as float32 values 0..255, shape `(batch, {size}, {size}, 3)`. Images were
{resize.get(predictor.resize_mode, predictor.resize_mode)} to {size}x{size} pixels in training.
Do NOT scale or normalise the pixels: the preprocessing is inside the model.

## Output
Probabilities, shape `(batch, {len(classes)})`, in the order of `labels.json`:
{", ".join(f"`{name}`" for name in classes)}.

## Files
- `model.keras`: `keras.saving.load_model("model.keras")` (built-in layers only, safe_mode works).
- `saved_model.zip`: unzip, then `tf.saved_model.load("saved_model").serve(images)`.
- `model.tflite`: TFLite float32 for phones and edge devices (LiteRT interpreter).
- `model_dynamic_range.tflite` (if present): weights quantised to 8 bits, about 4x smaller.
- `labels.json`, `config.json`: class names and every training setting.
- `train_model.py` (if present): Python code that builds the same model to retrain it.

## Check at export
Each model file was reloaded from disk and run on {report.parity_images} {report.parity_source};
largest difference in probability to the studio's own prediction:

| format | max abs difference |
|---|---|
{parity}

```python
import keras, numpy as np
from PIL import Image
model = keras.saving.load_model("model.keras")
image = Image.open("photo.jpg").convert("RGB").resize(({size}, {size}))
probabilities = model(np.asarray(image, "float32")[None])[0]
```
"""


def zip_bundle(out: Path, name: str, files: list[str]) -> Path:
    """Zips the exported files (stored flat) into ``out/name``."""
    bundle = out / name
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.write(out / file, file)
    return bundle
