"""Entry point: ``streamlit run app.py``. Page config and navigation only; pages hold the rest.

The page scripts live in ``app_pages/``, never ``pages/``: with a ``pages/`` folder here,
Streamlit runs its files directly (raw file names in the sidebar, no URL sync) for any deep
link opened before ``st.navigation`` has run once in the server process.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import session
from ui.common import PAGES

st.set_page_config(
    page_title="Transfer-learning studio",
    page_icon=":material/neurology:",
    layout="wide",
)
HERE = Path(__file__).parent
navigation = st.navigation(
    [
        st.Page(path, title=title, icon=icon, default=key == "home")
        for key, (path, title, icon) in PAGES.items()
        if (HERE / path).is_file()  # an area not yet installed is left out of the menu
    ]
)
session.sync_url()  # page switches clear the URL; keep the workspace and run in it
navigation.run()
