"""A model chosen without a run: a ``.keras`` file a visitor uploaded, or a stock ImageNet network.

Job kinds that predict with such a model (``predict_batch``, ``predict_model``) name it in their
parameters as ``model`` = ``{"file": "model.keras", "classes": [...] or None, "resize_mode":
"stretch"}`` (the upload saved in the job folder) or ``{"imagenet": "mobilenet_v2"}``.
``check_model_choice`` runs at submission in the web process (the file's caps, read from the
archive without building it); ``load_model_choice`` builds it in the worker (``safe_mode``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.config.settings import Settings
from core.errors import DataError, StudioError
from core.predict.imagenet import imagenet_predictor
from core.predict.model_file import check_keras_archive
from core.predict.predictor import Predictor


def file_in(folder: Path, name: object) -> Path:
    """``folder/name`` for a plain file name (job parameters never point outside the job).

    Raises:
        StudioError: ``name`` is not a plain file name.
    """
    if not isinstance(name, str) or not name or Path(name).name != name:
        raise StudioError("A job's file must be a plain file name.")
    return folder / name


def check_model_choice(folder: Path, model: Any, settings: Settings) -> None:
    """Refuses an uploaded model file that is missing or above the model caps.

    Raises:
        DataError: the file is missing. ModelFileError: not a Keras archive, or above a cap.
    """
    if isinstance(model, dict) and "file" in model:
        model_path = file_in(folder, model["file"])
        if not model_path.is_file():
            raise DataError("The uploaded model file is missing.")
        check_keras_archive(model_path, settings.max_model_input, settings.max_model_params)


def load_model_choice(folder: Path, model: Any) -> Predictor:
    """Builds the chosen model (worker side: TensorFlow).

    Raises:
        StudioError: no model is named. ModelFileError: the file is refused by ``safe_mode``.
        WeightsUnavailableError: the ImageNet weights are not available (offline).
    """
    model = model if isinstance(model, dict) else {}
    if "imagenet" in model:
        return imagenet_predictor(str(model["imagenet"]))
    if "file" in model:
        return Predictor.from_model_file(
            file_in(folder, model["file"]),
            classes=model.get("classes"),
            resize_mode=str(model.get("resize_mode", "stretch")),
        )
    raise StudioError("Choose a model: a run, a .keras file or an ImageNet network.")
