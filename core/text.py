"""User text inside charts: shown as the characters typed, never as Plotly's HTML-like markup.

Plotly renders a subset of HTML in every label it draws (trace names, category tick labels,
hover text, titles, subplot titles, annotations): ``<a href=...>`` becomes a clickable link,
``<b>``/``<br>``/``<span style=...>`` change the text. Class, file, run and model names come
from the visitor (a folder of an uploaded zip, a labels file inside an uploaded model), so every
chart builder passes them through ``plain_label`` first. Plotly decodes the entities back, so
the chart shows ``<a href="...">x</a>`` literally instead of a link.

(Plotly would also typeset ``$...$`` as LaTeX, but only when MathJax is loaded on the page,
which Streamlit does not do, so ``$`` stays as typed.)

Markdown in Streamlit (``st.markdown``, captions, alerts, widget labels) is the UI's concern:
``ui.common.escape_markdown``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable


def plain_label(text: object) -> str:
    """Returns ``text`` with ``&``, ``<`` and ``>`` escaped, so Plotly shows it as typed.

    Args:
        text: a name that came from a user (class, file, run, model); any object is
            converted with ``str``.

    Returns:
        The label for a Plotly figure (trace name, tick label, hover text, title).
    """
    return html.escape(str(text), quote=False)


def plain_labels(texts: Iterable[object]) -> list[str]:
    """``plain_label`` of each item of an iterable (e.g. class names for an axis)."""
    return [plain_label(text) for text in texts]


def percent(value: float | None) -> str:
    """An accuracy (or any share) as every page writes it: one decimal, e.g. ``97.4%``.

    None (not measured) is a dash.
    """
    return "—" if value is None else f"{float(value):.1%}"
