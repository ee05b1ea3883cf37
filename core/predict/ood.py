"""The unknown-image verdict: probabilities whose best class is too weak for this run's data.

Applied to the probabilities a predictor returns (Keras ``Predictor``, LiteRT
``LitePredictor``), with the run's calibrated threshold (``core.store.ood_record``). Those
probabilities carry the run's current calibration temperature; the threshold was set at the
temperature stored in the record, so the probabilities are first brought back to it
(``apply_temperature`` composes: T_now * (T_record / T_now) = T_record).
"""

from __future__ import annotations

import numpy as np

from core.predict.probabilities import apply_temperature
from core.store.ood_record import OodThreshold, max_probability

UNKNOWN = "none of the classes"
KNOWS_ONLY = (
    "The model only knows the classes it was trained on and has no 'none of these' answer: "
    "an image unlike its training photos still gets one of them, so a weak best guess is "
    "reported as unknown instead."
)


def unknown_flags(
    probabilities: np.ndarray, record: OodThreshold | None, temperature: float
) -> np.ndarray:
    """Per row, True when the image looks like none of the classes.

    Args:
        probabilities: (N, classes) probabilities as the predictor returns them.
        record: the run's threshold; None (an older run) flags nothing.
        temperature: the temperature those probabilities were computed at.
    """
    rows = len(probabilities)
    if record is None or record.threshold is None or record.temperature is None or rows == 0:
        return np.zeros(rows, dtype=bool)
    rescaled = apply_temperature(np.asarray(probabilities), record.temperature / temperature)
    return np.asarray(max_probability(rescaled) < record.threshold)


def unknown_sentence(best: str, probability: float) -> str:
    """The answer for a flagged image, naming the best guess it did not trust."""
    return (
        f"This looks like none of the classes the model knows (its best guess, {best}, "
        f"is only {probability:.0%}, weaker than for almost all validation images)."
    )
