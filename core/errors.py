"""Errors whose message is written for the person using the app.

Every error raised on purpose by the engine is a ``StudioError`` (a ``ValueError``), so a page
can show ``str(error)`` with ``st.error`` and the CLI can print it and exit non-zero.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


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


@contextlib.contextmanager
def plain_errors() -> Iterator[None]:
    """Turns the engine's ``ValueError`` sentences into ``StudioError`` (shown as written).

    The engine raises ``ValueError`` with a sentence for the user (no validation images, an
    unknown layer, an invalid setting); a job worker would otherwise call it an unexpected
    failure.
    """
    try:
        yield
    except StudioError:
        raise
    except ValueError as error:
        raise StudioError(str(error)) from error
