"""Hostile names (class folders, files, runs) and checks that a page shows them as plain text.

Streamlit renders Markdown in most texts (``st.markdown``, captions, alerts, metric and widget
labels, radio options, tabs, expanders, image captions); Plotly renders HTML-like tags in chart
labels. A name typed by a visitor must show as typed in both, never as a link, an image,
coloured text, LaTeX or HTML.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
from streamlit.testing.v1 import AppTest

# Folder and file names a Linux file system accepts (no "/"), each one a live construct when
# rendered: a link with bold text, an HTML anchor, LaTeX, a colour directive, an image.
LINK_CLASS = "**bold**[click](https:evil.example)"
HTML_CLASS = '<a href="https:evil.example">x'
LATEX_FILE = "$x^2$.png"
RED_RUN = ":red[boo] ![img](https:evil.example)"
BARE_LINK_CLASS = "www.evil.example a@b.co"  # GitHub Markdown links bare addresses
HOSTILE_CLASSES = (LINK_CLASS, HTML_CLASS)

# Markdown constructs that must never appear unescaped in text that came from a user.
LIVE_MARKDOWN = re.compile(
    r"(?<!\\)\]\("  # a link or image target: [text](url)
    r"|(?<!\\)<a\b"  # raw HTML anchor
    r"|(?<!\\)\*\*bold"  # the bold of LINK_CLASS
    r"|(?<!\\)\$x"  # LaTeX of LATEX_FILE
    r"|(?<!\\):red\["  # Streamlit's colour directive
    r"|(?<!\\)evil\.example"  # not escaped at all
    r"|www\\\."  # a bare address without the word joiner that keeps it from being a link
)


def markdown_texts(app: AppTest) -> list[str]:
    """Every text of the page that Streamlit renders as Markdown."""
    kinds = ("title", "header", "subheader", "markdown", "caption", "success", "info", "warning")
    texts = [str(getattr(e, "value", "")) for kind in (*kinds, "error") for e in app.get(kind)]
    texts += [str(element.proto.body) for element in app.get("toast")]
    texts += [str(option) for radio in app.radio for option in radio.options]
    texts += [str(c) for image in app.get("image") for c in getattr(image, "captions", [])]
    labelled = ("metric", "expander", "tab", "status", "button", "download_button", "checkbox")
    for kind in (*labelled, "toggle", "selectbox", "radio"):
        texts += [str(getattr(element, "label", "")) for element in app.get(kind)]
    return texts


def spec_strings(spec: dict[str, Any]) -> list[str]:
    """Every string of a Plotly figure spec's data and layout (Plotly's template left out)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple | np.ndarray):
            for item in value:
                walk(item)

    walk(spec.get("data"))
    walk({key: value for key, value in spec.get("layout", {}).items() if key != "template"})
    return found


def chart_labels(app: AppTest) -> list[str]:
    """Every string inside the page's Plotly figures (names, ticks, hover text, titles)."""
    return [
        text
        for chart in app.get("plotly_chart")
        for text in spec_strings(json.loads(chart.proto.spec))
    ]


def assert_shown_as_text(app: AppTest) -> None:
    """Fails when a Markdown text or a chart label holds live Markdown or HTML."""
    live = [text for text in markdown_texts(app) if LIVE_MARKDOWN.search(text)]
    assert not live, f"rendered as Markdown: {live}"
    tags = [label for label in chart_labels(app) if re.search(r"<a\b|<img\b", label)]
    assert not tags, f"rendered as HTML in a chart: {tags}"
