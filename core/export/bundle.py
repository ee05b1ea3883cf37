"""The files shipped next to an exported model: labels, config, retraining code, README, zip."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.export.report import ExportReport


def _generated_code(run_dir: Path, num_classes: int) -> str | None:
    """The model engine's generated Python code for this run's model, if it can be made."""
    try:
        from core.model.codegen import generate_code
        from core.model.spec import ModelSpec

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
