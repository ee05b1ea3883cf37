"""The ``predict_batch`` job kind: classify every image of an uploaded zip, in chunks, to a CSV.

The page saves the upload into the job folder at submission (``JobRunner.submit(...,
files={"upload.zip": file})``); ``check`` then counts its images from the zip's
directory alone (nothing is extracted or decoded in the web process) and refuses a zip with
more than ``Settings.max_batch_images`` images, or one that breaks the Data page's zip limits
(``core.store.disk.upload_limits``: it must also unpack into the room left under the disk cap),
with a plain sentence. A new job for the same zip and model (``input_key``; k and threshold
left out) replaces the older ones (``core.jobs.replacement``). The worker extracts the zip
safely with the same limits (``core.data.zipsafe``), predicts ``CHUNK`` images at a time so
memory stays flat whatever the count, appends each chunk to ``predictions.csv`` and deletes
the upload.

Parameters: ``zip`` (file name in the job folder, default ``upload.zip``), ``k`` (top classes,
default 3), ``threshold`` (below it the answer is "not sure", default 0), and the model: the
job's run when it has one, else ``model`` = ``{"file": "model.keras", "classes": [...] or
None, "resize_mode": "stretch"}`` (an uploaded ``.keras`` saved in the job folder, loaded
with ``safe_mode``) or ``{"imagenet": "mobilenet_v2"}``.

The result: ``images``, ``errors`` (rows that could not be decoded), ``csv`` (file name in the
job folder), ``rows`` (the first ``PREVIEW_ROWS`` rows: file, predicted, confidence, top_k,
error), ``model`` (its source name).
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from core.config.settings import Settings
from core.data.names import is_junk
from core.data.zipsafe import check_zip, extract_zip
from core.errors import DataError
from core.jobs.context import JobContext
from core.predict.batch import IMAGE_SUFFIXES, image_files, prediction_rows
from core.predict.choice import check_model_choice, file_in, load_model_choice
from core.predict.predictor import Predictor
from core.store.disk import upload_limits

ZIP_FILE = "upload.zip"
CSV_FILE = "predictions.csv"
CSV_FIELDS = ("file", "predicted", "confidence", "top_k", "error")
CHUNK = 64
PREVIEW_ROWS = 500


def count_zip_images(path: Path) -> int:
    """Image files listed in a zip's directory (OS litter and folders left out).

    Raises:
        DataError: the file is not a zip.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = [info.filename for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as error:
        raise DataError("The upload is not a valid zip file.") from error
    return sum(
        1
        for name in names
        if PurePosixPath(name.replace("\\", "/")).suffix.lower() in IMAGE_SUFFIXES
        and not any(is_junk(part) for part in PurePosixPath(name.replace("\\", "/")).parts)
    )


def check(folder: Path, params: dict[str, Any], settings: Settings) -> None:
    """Refuses, before queuing, a missing zip, a zip without images or one with too many.

    An uploaded model file is checked against the model caps too (``check_keras_archive``:
    input side and parameters, read from the archive without building it).

    Raises:
        DataError: with the count and the cap when there are too many images.
        ModelFileError: the uploaded model is not a Keras archive or is above a cap.
    """
    path = file_in(folder, params.get("zip", ZIP_FILE))
    if not path.is_file():
        raise DataError("No zip file was given for the batch prediction.")
    check_zip(path, upload_limits(settings))  # it is unpacked in the worker: room first
    count = count_zip_images(path)
    if count == 0:
        raise DataError("The zip file holds no images (jpg, png, bmp, gif, webp or tiff).")
    cap = settings.max_batch_images
    if count > cap:
        raise DataError(
            f"The zip holds {count:,} images, but one batch may have at most {cap:,}. "
            "Split it into smaller zips."
        )
    check_model_choice(folder, params.get("model"), settings)


def input_key(folder: Path, run_id: str | None, params: dict[str, Any]) -> str:
    """What the job reads (its zip, its model), k and threshold left out: a digest.

    Raises:
        StudioError: a file parameter that is not a plain file name.
    """
    digest = hashlib.sha256(json.dumps([run_id, params.get("model")], sort_keys=True).encode())
    names = [params.get("zip", ZIP_FILE)]
    model = params.get("model")
    if isinstance(model, dict) and "file" in model:
        names.append(model["file"])
    for name in names:
        path = file_in(folder, name)
        if path.is_file():
            with open(path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
    return digest.hexdigest()


def _load_predictor(context: JobContext) -> Predictor:
    """The model to predict with: the job's run, an uploaded file, or an ImageNet network."""
    if context.request.run_id is not None:
        return Predictor.from_run(context.run_dir())
    return load_model_choice(context.folder, context.params.get("model"))


def run(context: JobContext) -> dict[str, Any]:
    """Predicts every image of the uploaded zip; see the module docstring."""
    params = context.params
    upload = file_in(context.folder, params.get("zip", ZIP_FILE))
    check(context.folder, params, context.settings)
    extracted = context.folder / "extracted"
    try:
        context.report(0.02, "Unpacking the zip.")
        root = extract_zip(upload, extracted, upload_limits(context.settings))
        files = image_files([root])
        context.report(0.05, f"Loading the model for {len(files)} images.")
        predictor = _load_predictor(context)
        k, threshold = int(params.get("k", 3)), float(params.get("threshold", 0.0))
        preview: list[dict[str, Any]] = []
        errors = 0
        with open(context.folder / CSV_FILE, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
            writer.writeheader()
            for start in range(0, len(files), CHUNK):
                chunk = [(str(p.relative_to(root)), p) for p in files[start : start + CHUNK]]
                rows = prediction_rows(predictor, chunk, k, threshold)
                writer.writerows(rows)
                errors += sum(1 for row in rows if row["error"])
                preview.extend(rows[: PREVIEW_ROWS - len(preview)])
                context.report(0.05 + 0.95 * min(start + CHUNK, len(files)) / len(files))
    finally:
        shutil.rmtree(extracted, ignore_errors=True)
        upload.unlink(missing_ok=True)
    context.report(1.0, f"Classified {len(files)} images ({errors} could not be read).")
    result = BatchResult(len(files), errors, CSV_FILE, tuple(preview), predictor.source)
    return result.to_dict()


@dataclass(frozen=True)
class BatchResult:
    """A finished batch prediction as its ``result.json`` holds it (see the module docstring).

    Attributes:
        images: images classified; errors: those that could not be decoded.
        csv: the CSV's file name in the job folder ("" when the result names none).
        rows: the first ``PREVIEW_ROWS`` rows of the CSV, as table rows.
        model: where the model came from (its source name).
    """

    images: int
    errors: int = 0
    csv: str = ""
    rows: tuple[dict[str, Any], ...] = ()
    model: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> BatchResult:
        """Reads ``result.json``; a missing or malformed value reads as its default."""
        data = data if isinstance(data, dict) else {}
        rows = data.get("rows")
        rows = tuple(r for r in rows if isinstance(r, dict)) if isinstance(rows, list) else ()
        images, errors = data.get("images"), data.get("errors")
        return cls(
            images=images if isinstance(images, int) else len(rows),
            errors=errors if isinstance(errors, int) else 0,
            csv=data.get("csv") if isinstance(data.get("csv"), str) else "",
            rows=rows,
            model=data.get("model") if isinstance(data.get("model"), str) else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The record as ``result.json`` content."""
        return {"images": self.images, "errors": self.errors, "csv": self.csv,
                "rows": list(self.rows), "model": self.model}  # fmt: skip
