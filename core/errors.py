"""Errors whose message is written for the person using the app.

Every error raised on purpose by the engine is a ``StudioError`` (a ``ValueError``), so a page
can show ``str(error)`` with ``st.error`` and the CLI can print it and exit non-zero.
"""

from __future__ import annotations


class StudioError(ValueError):
    """A problem the user can act on; ``str(error)`` is a plain-language sentence."""


class WeightsUnavailableError(StudioError):
    """Pretrained weights cannot be loaded (offline, missing file, unknown backbone)."""


class DataError(StudioError):
    """The dataset cannot be used as given (no classes, unreadable archive, limits exceeded)."""


class TrainingError(StudioError):
    """A training run cannot start or failed in a way the user can fix."""


class ModelFileError(StudioError):
    """A model file is unsafe, unreadable, or not an image classifier."""
