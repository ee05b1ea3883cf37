"""Every analysis ends with a verdict that matches its numbers (issue 26, item 5)."""

from __future__ import annotations

import pytest

from core.evaluate.calibration import calibration_verdict
from core.evaluate.learning_curve import CurvePoint, curve_verdict
from core.export.parity import parity_verdict


def _ece(before: float, after: float) -> dict[str, float]:
    return {"ece_before": before, "ece_after": after}


def test_calibration_helps_only_when_no_split_got_worse() -> None:
    helped, text = calibration_verdict({"val": _ece(0.10, 0.03), "test": _ece(0.12, 0.05)})
    assert helped and text.startswith("Helped") and "0.120 to 0.050 on the test" in text
    helped, text = calibration_verdict({"val": _ece(0.10, 0.03), "test": _ece(0.04, 0.06)})
    assert not helped and text.startswith("Did not help") and "not stored" in text
    assert "test" in text
    helped, text = calibration_verdict({"val": _ece(0.05, 0.05)})
    assert not helped and "not stored" in text  # no change: nothing worth storing


def _point(fraction: float, accuracy: float, sd: float) -> CurvePoint:
    return CurvePoint(fraction, int(100 * fraction), accuracy, sd, 3 if sd else 1)


@pytest.mark.parametrize(
    ("before", "last", "starts"),
    [
        ((0.80, 0.005), (0.86, 0.0), "Likely yes"),  # a rise well above the bars
        ((0.80, 0.05), (0.83, 0.0), "Unclear"),  # a rise inside the bars
        ((0.84, 0.04), (0.83, 0.0), "Unclear"),  # flat, but the bars could hide a rise
        ((0.84, 0.002), (0.842, 0.0), "Probably not much"),  # flat with tight bars
        ((0.98, 0.05), (0.995, 0.0), "Probably not:"),  # already almost always right
    ],
)
def test_learning_curve_verdict_reads_the_error_bars(
    before: tuple[float, float], last: tuple[float, float], starts: str
) -> None:
    points = [_point(0.5, 0.7, 0.02), _point(0.75, *before), _point(1.0, *last)]
    assert curve_verdict(points).startswith(starts)


def test_parity_verdict_passes_only_within_the_goal() -> None:
    passed, text = parity_verdict({"keras": 0.0, "tflite": 3e-6})
    assert passed and text.endswith("pass.") and "within 1e-4 " in text
    passed, text = parity_verdict({"keras": 0.0, "onnx": 2e-3})
    assert not passed and text.endswith("fail.") and "onnx" in text and "keras" not in text
    assert not parity_verdict({})[0]
