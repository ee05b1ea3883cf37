"""Answers of the pages' model questions, stored once on disk and shared by every visitor.

A question that needs TensorFlow (a backbone's layers, a model's summary, an augmentation
preview) is answered by a worker job (``core.jobs.kinds``: ``model_facts``,
``augment_preview``) and the answer is kept under ``<cache_dir>/answers/``, keyed by the job
kind, its parameters and Keras's version (``answer_key``). The web process only reads these
JSON files (and the PNG files beside a preview's answer), so every page answers at once after
the first visitor of a question waited for one job; every server process and every restart
shares them. An answer is a few KB; the folder counts towards the disk cap with the rest of
``cache_dir``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from core.atomic import write_json_atomic
from core.config.backbones import get_backbone
from core.config.model import ModelConfig
from core.config.settings import Settings
from core.config.sweep import LayerNames
from core.store.feature_cache import keras_version

ANSWERS_FOLDER = "answers"
MODEL_FACTS = "model_facts"  # the job kind that lists a backbone's layers (core.jobs.kinds)


def answer_key(kind: str, params: dict[str, Any]) -> str:
    """A file-name-safe key of the answer: the kind, the parameters and Keras's version."""
    text = json.dumps({"kind": kind, "params": params, "keras": keras_version()}, sort_keys=True)
    return f"{kind}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]}"


def answer_path(settings: Settings, kind: str, params: dict[str, Any]) -> Path:
    """Where the answer of ``kind`` for ``params`` is stored (a JSON file)."""
    return Path(settings.cache_dir) / ANSWERS_FOLDER / f"{answer_key(kind, params)}.json"


def answer_files(settings: Settings, kind: str, params: dict[str, Any]) -> Path:
    """The folder for the files of an answer (a preview's pictures), beside its JSON file."""
    return answer_path(settings, kind, params).with_suffix("")


def read_answer(settings: Settings, kind: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """The stored answer, or None when there is none yet (or it cannot be read)."""
    try:
        data = json.loads(answer_path(settings, kind, params).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_answer(
    settings: Settings, kind: str, params: dict[str, Any], answer: dict[str, Any]
) -> Path:
    """Stores an answer (atomically: a reader sees the whole file or none); returns its path."""
    path = answer_path(settings, kind, params)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, answer)
    return path


def layers_question(backbone_id: str, input_size: int) -> dict[str, Any]:
    """The ``model_facts`` parameters that ask for a backbone's layers at ``input_size``."""
    return {"what": "layers", "backbone": backbone_id, "input_size": int(input_size)}


def stored_cut_names(settings: Settings, model: ModelConfig) -> LayerNames:
    """Lists a backbone's cut layers from the stored answers alone (for the web process).

    The web process builds no model, so a sweep form checks its cuts against the layers the
    Model page's ``model_facts`` jobs already listed (at the size ``model`` would give each
    backbone). A backbone never listed gives None: its cuts go unchecked and a run with an
    unknown cut fails in its worker, naming close layer names.
    """

    def names(backbone_id: str) -> list[str] | None:
        try:
            size = model.input_size or get_backbone(backbone_id).default_size
        except ValueError:  # an unknown backbone: the sweep's config check names it
            return None
        answer = read_answer(settings, MODEL_FACTS, layers_question(backbone_id, size))
        layers = answer.get("layers") if answer else None
        if not isinstance(layers, list):
            return None
        # The input layer is no cut point (the CLI's list leaves it out the same way).
        return [str(row.get("name")) for row in layers[1:] if isinstance(row, dict)]

    return names
