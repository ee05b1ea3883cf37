"""Hostile names in a real browser: the Data page shows a hostile zip's names as typed.

AppTest sees the Markdown source only (``tests/pages/test_hostile_names.py`` checks the escapes
there); this test checks what Streamlit's frontend and Plotly make of it: no link, bold,
formula, image, colour or list appears, and the chart's tick labels read as typed.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import e2e_flow as flow
from tests.helpers.e2e_server import StudioServer
from tests.helpers.eval_pages import png_bytes
from tests.helpers.hostile import BARE_LINK_CLASS, HTML_CLASS, LATEX_FILE, LINK_CLASS

pytestmark = pytest.mark.e2e
CLASSES = (LINK_CLASS, HTML_CLASS, BARE_LINK_CLASS)
RENDERED = (
    'a[href*="evil"]',  # a link from Markdown, HTML or a bare address
    "strong >> text=/^bold$/",  # the injected bold (class headings are bold on purpose)
    ".katex",
    'img[src*="evil"]',
    "li",
    "blockquote",
)
_TEXTS = "els => els.map(element => element.textContent)"


def hostile_zip(path: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for offset, name in enumerate(CLASSES):
            color = [(200, 40, 40), (40, 40, 200), (40, 200, 40)][offset]
            archive.writestr(f"pets/{name}/{LATEX_FILE}", png_bytes(color))
            for index in range(5):
                archive.writestr(f"pets/{name}/{index}.png", png_bytes(color, 40 + index))
    path.write_bytes(buffer.getvalue())
    return path


def test_data_page_shows_a_hostile_zip_as_typed(
    page: Any, studio_server: StudioServer, tmp_path: Path
) -> None:
    flow.open_home(page, studio_server.url)
    flow.nav(page, "Data")
    page.get_by_text("Zip upload", exact=True).click()
    flow.wait_idle(page)
    page.locator('.st-key-data_zip input[type="file"]').set_input_files(
        str(hostile_zip(tmp_path / ":red[boo].zip"))
    )
    flow.wait_idle(page)
    page.get_by_role("button", name="Load the zip").click()
    page.get_by_text("Images per class and split").first.wait_for(timeout=60_000)
    flow.wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    found = {selector: main.locator(selector).count() for selector in RENDERED}
    assert not any(found.values()), found
    shown = main.inner_text().replace("\u2060", "")
    for text in (LINK_CLASS, HTML_CLASS, BARE_LINK_CLASS, "Zip: :red[boo].zip"):
        assert text in shown, text
    ticks = page.eval_on_selector_all(".js-plotly-plot .xtick text", _TEXTS)
    assert sorted(ticks) == sorted(CLASSES)
    assert not page.locator(".js-plotly-plot a").count()
