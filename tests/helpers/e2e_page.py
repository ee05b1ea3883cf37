"""Reading what a studio page shows in the browser: its metrics and the boxes of its parts.

Shared by the reload, phone-layout and export e2e tests. Boxes are Playwright's bounding boxes
(``x``, ``y``, ``width``, ``height`` in CSS pixels, relative to the viewport).
"""

from __future__ import annotations

import re
from typing import Any

# Streamlit scrolls inside its own container: the widest scrolling element decides whether the
# visitor has to scroll sideways.
SCROLL_WIDTH = """() => Math.max(document.scrollingElement.scrollWidth,
    ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')]
        .map((element) => element.scrollWidth))"""


def metrics(page: Any) -> dict[str, str]:
    """The page's ``st.metric`` values by label (the label's and the value's visible text)."""
    shown: dict[str, str] = {}
    for element in page.locator('[data-testid="stMetric"]').all():
        label = element.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        value = element.locator('[data-testid="stMetricValue"]').inner_text().strip()
        shown[label] = value
    return shown


def query_param(url: str, name: str) -> str | None:
    """One query parameter of ``url`` (None when absent)."""
    match = re.search(rf"[?&]{name}=([^&]+)", url)
    return match.group(1) if match else None


def box(locator: Any) -> dict[str, float]:
    """The visible bounding box of the first element ``locator`` finds (fails when hidden)."""
    found = locator.first.bounding_box()
    assert found is not None, f"{locator} is not displayed"
    return dict(found)


def inside_viewport(found: dict[str, float], viewport: dict[str, int]) -> bool:
    """True when the whole box lies in the viewport (seen without scrolling)."""
    return (
        found["x"] >= 0
        and found["y"] >= 0
        and found["x"] + found["width"] <= viewport["width"] + 0.5
        and found["y"] + found["height"] <= viewport["height"] + 0.5
    )


def overlap(first: dict[str, float], second: dict[str, float]) -> bool:
    """True when the two boxes share an area (touching edges do not count)."""
    return (
        first["x"] < second["x"] + second["width"]
        and second["x"] < first["x"] + first["width"]
        and first["y"] < second["y"] + second["height"]
        and second["y"] < first["y"] + first["height"]
    )


def scroll_width(page: Any) -> int:
    """The widest scrollable width of the page (document or Streamlit's main container)."""
    return int(page.evaluate(SCROLL_WIDTH))
