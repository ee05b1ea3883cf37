"""The web process's bounded model cache (the Predict page's single-image prediction).

Single-image prediction runs in the web process, so the loaded models it keeps are bounded:
``ModelCache`` holds at most ``Settings.max_cached_models`` models and at most
``Settings.max_cached_model_mb`` MB of parameters, dropping the least recently used first. A
run's model is cached once per version of its files (model.keras and labels.json) and shared
by every session; a session keeps only the cache key, never the model, so a dropped model
really leaves memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import streamlit as st

from core.predict.predictor import Predictor
from ui import session

MODEL_FILE = "model.keras"
_BYTES_PER_PARAM = 4
_MB = 2**20


def parameter_mb(predictor: Any) -> float:
    """Memory of a model's parameters in MB (float32), what a cached model costs at least."""
    return float(predictor.model.count_params()) * _BYTES_PER_PARAM / _MB


class ModelCache:
    """A least-recently-used cache of loaded models, bounded by count and parameter memory.

    The model just loaded is always kept (even when it alone is above the memory bound), so
    the page that asked for it gets it; everything older makes room for it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[Any, float]] = OrderedDict()

    def get(
        self,
        key: Hashable,
        load: Callable[[], Any],
        *,
        max_models: int,
        max_mb: float,
        size_mb: Callable[[Any], float] = parameter_mb,
    ) -> Any:
        """The cached model of ``key``, or ``load()``'s (then cached, evicting the oldest)."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key][0]
        model = load()  # outside the lock: other sessions keep using cached models meanwhile
        with self._lock:
            if key not in self._entries:
                self._entries[key] = (model, size_mb(model))
            self._entries.move_to_end(key)
            self._evict(max_models, max_mb)
            return self._entries[key][0]

    def _evict(self, max_models: int, max_mb: float) -> None:
        """Drops the least recently used models until both bounds hold (the newest stays)."""
        while len(self._entries) > 1 and (
            len(self._entries) > max_models or self.total_mb() > max_mb
        ):
            self._entries.popitem(last=False)

    def total_mb(self) -> float:
        """Parameter memory of the cached models, in MB."""
        return sum(size for _, size in self._entries.values())

    def keys(self) -> list[Hashable]:
        """Cache keys, least recently used first."""
        with self._lock:
            return list(self._entries)


@st.cache_resource
def model_cache() -> ModelCache:
    """The web process's one model cache (kept across script reruns and module reloads)."""
    return ModelCache()


def cached_model(key: Hashable, load: Callable[[], Any]) -> Any:
    """``load()``'s model through the bounded cache, with the spinner of a first load."""
    settings = session.get_settings()

    def load_with_spinner() -> Any:
        with st.spinner("Loading the model..."):
            return load()

    return model_cache().get(
        key,
        load_with_spinner,
        max_models=settings.max_cached_models,
        max_mb=settings.max_cached_model_mb,
    )


def run_predictor(run_dir: Path) -> Predictor:
    """Returns the (cached) predictor of a finished run.

    Raises:
        ModelFileError: the model file is missing or cannot be read.
    """
    # labels.json is part of the key: storing a calibration temperature changes predictions.
    mtimes = tuple(
        path.stat().st_mtime if path.is_file() else 0.0
        for path in (run_dir / MODEL_FILE, run_dir / "labels.json")
    )
    predictor: Predictor = cached_model(
        ("run", str(run_dir.resolve()), mtimes), lambda: Predictor.from_run(run_dir)
    )
    return predictor
