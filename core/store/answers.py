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
from core.config.settings import Settings
from core.store.feature_cache import keras_version

ANSWERS_FOLDER = "answers"


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
