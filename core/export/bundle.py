"""The files shipped next to an exported model: labels, config, retraining code, README, zip."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

from core.config.model import ModelConfig
from core.data.images import PAD_COLOR
from core.data.names import public_dataset_name
from core.export.model_card import write_model_card
from core.export.report import ExportReport
from core.model.codegen import generate_code


def _generated_code(run_dir: Path, num_classes: int) -> str | None:
    """The model engine's generated Python code for this run's model, if it can be made."""
    try:
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
        return str(generate_code(ModelConfig.from_dict(config["model"]), num_classes))
    except Exception:  # codegen missing or the config predates it: the bundle goes without
        return None


def _write_public_config(run_dir: Path, out: Path) -> bool:
    """Writes the run's ``config.json`` with the dataset named relative to its root's parent
    (its folder name: ``--data hymenoptera_data``), never the server's path; False if absent."""
    try:
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    data = config.get("data") if isinstance(config, dict) else None
    if isinstance(data, dict) and isinstance(data.get("path"), str):
        data["path"] = public_dataset_name(data["path"])
    (out / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return True


def write_side_files(run_dir: Path, out: Path, predictor: Any, report: ExportReport) -> list[str]:
    """Writes labels.json, config.json, train_model.py and README.md; returns their names."""
    written = []
    if (run_dir / "labels.json").is_file():
        shutil.copy2(run_dir / "labels.json", out / "labels.json")
        written.append("labels.json")
    if _write_public_config(run_dir, out):
        written.append("config.json")
    code = _generated_code(run_dir, predictor.num_classes)
    if code is not None:
        (out / "train_model.py").write_text(code, encoding="utf-8")
        written.append("train_model.py")
    else:
        report.warnings.append("The Python code to retrain this model could not be generated.")
    (out / "README.md").write_text(bundle_readme(predictor, report), encoding="utf-8")
    written.append("README.md")
    written.append(write_model_card(run_dir, out, predictor, report))
    return written


# The resize step of ``core.data.images.resize_image`` per resize mode, as plain PIL code: the
# README's snippet must give the pixels the app gives (tests/core/export/test_bundle.py runs it).
_RESIZE_CODE = {
    "crop": (
        "# centre crop to a square, then resize (keeps proportions)",
        "image = ImageOps.fit(image, ({size}, {size}), method=Image.Resampling.BILINEAR)",
    ),
    "pad": (
        "# fit inside the square, pad the rest with black (keeps proportions)",
        "image = ImageOps.pad(image, ({size}, {size}), method=Image.Resampling.BILINEAR, "
        "color={pad})",
    ),
    "stretch": (
        "# stretch to the square (ignores proportions)",
        "image = image.resize(({size}, {size}), Image.Resampling.BILINEAR)",
    ),
}
_RESIZE_WORDS = {"stretch": "stretched", "crop": "centre-cropped", "pad": "padded with black"}


def prediction_snippet(size: int, resize_mode: str) -> str:
    """Python code that reads an image exactly as the app does and runs ``model.keras`` on it.

    Plain PIL + NumPy + Keras, no dependence on the studio: EXIF rotation, transparency on
    white, 8-bit RGB, then the run's resize (``core.data.images.load_image_array``); the
    calibration temperature in ``labels.json`` is applied like ``Predictor`` applies it
    (``core.predict.probabilities.apply_temperature``).
    """
    comment, line = _RESIZE_CODE[resize_mode]
    resize = line.format(size=size, pad=PAD_COLOR)
    return f"""import json

import keras
import numpy as np
from PIL import Image, ImageOps

model = keras.saving.load_model("model.keras")
with open("labels.json", encoding="utf-8") as file:
    labels = json.load(file)
classes = labels["classes"]
temperature = labels.get("temperature", 1.0)  # set when the run was calibrated


def load_image(path):
    \"\"\"Reads an image the way the studio did in training: raw RGB 0..255, {size}x{size}.\"\"\"
    image = ImageOps.exif_transpose(Image.open(path))  # apply the camera's rotation
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image.convert("RGBA"))  # transparent -> white
    image = image.convert("RGB")
    {comment}
    {resize}
    return np.asarray(image, dtype="float32")  # no scaling: the model does its own


probabilities = model.predict(load_image("photo.jpg")[None], verbose=0)[0].astype("float64")
if len(probabilities) == 1:  # one sigmoid unit: the probability of the second class
    probabilities = np.array([1 - probabilities[0], probabilities[0]])
probabilities = probabilities ** (1 / temperature)  # temperature scaling, as the studio does:
probabilities /= probabilities.sum()  # softmax(log(p) / T); T = 1 changes nothing
print(dict(zip(classes, probabilities.round(3).tolist())))
"""


def bundle_readme(predictor: Any, report: ExportReport) -> str:
    """A short README telling what goes in and comes out of the exported model."""
    size, classes = predictor.input_size, predictor.classes
    parity = "\n".join(f"| {name} | {diff:.2e} |" for name, diff in sorted(report.parity.items()))
    mode = predictor.resize_mode
    return f"""# Exported image classifier ({predictor.source})

## Input
RGB images as float32 values 0..255, shape `(batch, {size}, {size}, 3)`. Images were
{_RESIZE_WORDS.get(mode, mode)} to {size}x{size} pixels in training; resize new images the same
way (the code below does). Do NOT scale or normalise the pixels: the preprocessing is inside the
model.

## Output
Probabilities, shape `(batch, {len(classes)})`, in the order of `labels.json`:
{", ".join(f"`{name}`" for name in classes)}.

## Files
- `model.keras`: `keras.saving.load_model("model.keras")` (built-in layers only, safe_mode works).
- `saved_model.zip`: unzip, then `tf.saved_model.load("saved_model").serve(images)`.
- `model.tflite`: TFLite float32 for phones and edge devices (LiteRT interpreter).
- `model_dynamic_range.tflite` (if present): weights quantised to 8 bits, about 4x smaller.
- `model.onnx` (if present): ONNX, for ONNX Runtime and other ONNX tools.
- `labels.json`, `config.json`: class names and every training setting (`data.path` is the
  dataset folder's name: `python -m core train --config config.json` next to that folder).
- `train_model.py` (if present): Python code that builds the same model to retrain it.

## Check at export
Each model file was reloaded from disk and run on {report.parity_images} {report.parity_source};
largest difference in probability to the studio's own prediction:

| format | max abs difference |
|---|---|
{parity}

## Predict in Python
Run in this folder, with `photo.jpg` your image. The image is read exactly as the studio reads
it (same rotation, colours and resize), so the probabilities match the app's.

```python
{prediction_snippet(size, mode)}```
"""


def zip_bundle(out: Path, name: str, files: list[str]) -> Path:
    """Zips the exported files (stored flat) into ``out/name``."""
    bundle = out / name
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.write(out / file, file)
    return bundle
