"""Helpers every page uses: links that keep the workspace, "what is missing", plain errors.

Nothing here imports TensorFlow or an engine module at import time.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import NoReturn

import streamlit as st

from core.jobs.recovery import read_notice
from core.predict.batch import IMAGE_SUFFIXES
from core.store.access import WorkspaceAccess
from ui import choices, session

LOGGER = logging.getLogger("studio")
APP_ROOT = Path(__file__).resolve().parents[1]

# Page files (relative to app.py), their titles and icons: the one place that names them.
PAGES: dict[str, tuple[str, str, str]] = {
    "home": ("app_pages/home.py", "Home", ":material/home:"),
    "data": ("app_pages/data.py", "Data", ":material/photo_library:"),
    "model": ("app_pages/model.py", "Model", ":material/account_tree:"),
    "train": ("app_pages/train.py", "Train", ":material/model_training:"),
    "evaluate": ("app_pages/evaluate.py", "Evaluate", ":material/fact_check:"),
    "predict": ("app_pages/predict.py", "Predict", ":material/image_search:"),
    "runs": ("app_pages/runs.py", "Runs", ":material/history:"),
    "present": ("app_pages/present.py", "Presentation", ":material/slideshow:"),
}

_MISSING_TEXT = {
    "data": "No dataset yet: load one (or the sample dataset) on the Data page.",
    "model": "No model chosen yet: pick a backbone and press **Use this model** on the Model page.",
    "run": "No training run selected: start one on the Train page or open one from Runs.",
}
_STEP_PAGE = {"data": "data", "model": "model", "run": "train"}
# Every ASCII punctuation character: CommonMark lets a backslash escape any of them, and each
# one can start some Markdown: emphasis, code, links and images, raw HTML, entities (&lt;),
# headings, lists, tables, strikethrough, bare-URL autolinks ("https:", "www.", "a@b.c"), and
# Streamlit's own LaTeX ("$"), ":color[...]" / ":material/icon:" directives and ":emoji:" codes.
_MARKDOWN_SPECIALS = re.compile(r"([!-/:-@\[-`{-~])")
# GitHub-flavoured Markdown also links bare addresses ("www.x", "https://x", "a@b.c"), and it
# does so on the text after escapes are resolved: an invisible WORD JOINER breaks each pattern.
_BARE_LINK = re.compile(r"(?i)(?<=www)(?=\.)|(?<=:)(?=//)|(?<=@)")
WORD_JOINER = "\u2060"


def escape_markdown(text: object) -> str:
    """Returns ``text`` with every Markdown special escaped, so it shows exactly as typed.

    THE helper for user text (class, file, zip, run and model names, labels of an uploaded
    model, and error sentences that quote them) wherever Streamlit renders Markdown:
    ``st.markdown``, ``st.caption``, ``st.success``/``info``/``warning``/``error``, ``st.toast``,
    widget and metric labels, ``st.radio`` options, ``st.tabs``, expander titles, image
    captions. Bare web and e-mail addresses also get an invisible word joiner (U+2060), so
    they do not become links either. ``st.text``, ``st.code``, ``st.dataframe`` and
    ``st.selectbox``/``multiselect`` options show plain text and need none (escaping there
    would show the backslashes). In Plotly figures, ``core.text.plain_label`` does the job.
    """
    unlinked = _BARE_LINK.sub(WORD_JOINER, str(text))
    return _MARKDOWN_SPECIALS.sub(r"\\\1", unlinked)


def image_upload_types() -> list[str]:
    """File types the image uploaders accept: the image suffixes the engine reads."""
    return [suffix.lstrip(".") for suffix in IMAGE_SUFFIXES]


def page_link(page: str, label: str | None = None, **kwargs: object) -> None:
    """Shows a link to one of the studio's pages that keeps ``ws`` and ``run`` in the URL.

    Args:
        page: A key of ``PAGES`` (``"data"``, ``"evaluate"``...).
        label: Link text; the page title when None.
        **kwargs: Passed to ``st.page_link`` (``icon``, ``help``, ``width``...).
    """
    path, title, icon = PAGES[page]
    if not (APP_ROOT / path).is_file():  # that area is not installed: say so, do not crash
        st.caption(f"{label or title} (page not available in this build)")
        return
    kwargs.setdefault("icon", icon)
    st.page_link(path, label=label or title, query_params=session.url_params(), **kwargs)  # type: ignore[arg-type]


def page_url_paths() -> set[str]:
    """The URL paths of the studio's pages ("runs", "present"...): ``st.Page`` names each
    page's path after its file."""
    return {Path(path).stem for path, _, _ in PAGES.values()}


def switch_page(page: str) -> NoReturn:
    """Switches to one of the studio's pages, keeping ``ws`` and ``run`` in the URL."""
    st.switch_page(PAGES[page][0], query_params=session.url_params())


def missing_steps(*steps: str) -> list[str]:
    """Returns which of ``steps`` (``"data"``, ``"model"``, ``"run"``) are not done yet."""
    unknown = [step for step in steps if step not in _MISSING_TEXT]
    if unknown:
        raise ValueError(f"Unknown step '{unknown[0]}'; use one of {sorted(_MISSING_TEXT)}.")
    done = {
        "data": choices.get_data() is not None,
        "model": choices.model_confirmed(),
        "run": session.current_run_id() is not None,
    }
    return [step for step in steps if not done[step]]


def require(*steps: str) -> bool:
    """Tells what earlier steps are missing, each with a link to its page.

    Args:
        *steps: Any of ``"data"``, ``"model"`` and ``"run"``.

    Returns:
        True when every step is done (nothing is shown); False otherwise, after showing an
        info box per missing step. Pages usually ``st.stop()`` on False.
    """
    missing = missing_steps(*steps)
    for step in missing:
        with st.container(border=True):
            st.info(_MISSING_TEXT[step], icon=":material/info:")
            page_link(_STEP_PAGE[step], label=f"Go to {PAGES[_STEP_PAGE[step]][1]}")
    return not missing


def error_message(error: BaseException, action: str = "") -> str:
    """Returns the sentence to show for ``error``: its own message when meant for users.

    ``ValueError`` (``StudioError`` and config validation) messages are written for people; any
    other exception gets a generic sentence and its details go to the server log only.
    """
    if isinstance(error, ValueError) and str(error):
        return str(error)
    if isinstance(error, MemoryError):
        return "The server ran out of memory. Try a smaller input size or batch size."
    what = f" while {action}" if action else ""
    return f"Something went wrong{what} ({type(error).__name__}). Please try again."


def show_error(error: BaseException, action: str = "") -> None:
    """Shows ``error`` as a plain sentence with ``st.error`` (never a traceback).

    Args:
        error: The exception caught by the page.
        action: What the page was doing, e.g. ``"building the model"``, for unexpected errors.
    """
    if not isinstance(error, ValueError):
        LOGGER.error("Unexpected error%s", f" while {action}" if action else "", exc_info=error)
    # Error sentences quote the user's names (classes, files, runs): shown as typed.
    st.error(escape_markdown(error_message(error, action)), icon=":material/error:")


READ_ONLY_BANNER = (
    "**Read-only link.** You are looking at a shared workspace: its runs, curves, evaluations "
    "and model cards. You can try a model on your own photos (they are classified in memory "
    "and never stored); nothing here can be changed from this link."
)


def workspace_or_stop() -> WorkspaceAccess:
    """Returns the workspace and role, or says why the link is refused (with a way out), stops.

    A read-only link gets the read-only banner at the top of every page.
    """
    try:
        access = session.workspace_access()
    except session.WorkspaceRefusedError as error:
        st.error(escape_markdown(error), icon=":material/block:")
        if st.button("Start a fresh workspace", type="primary", key="studio_fresh_ws"):
            session.start_fresh_workspace()
            st.rerun()
        st.stop()
    except ValueError as error:  # e.g. an invalid STUDIO_* setting
        show_error(error)
        st.stop()
    if not access.is_owner:
        st.info(READ_ONLY_BANNER, icon=":material/visibility:")
    return access


def page_header(title: str, caption: str) -> None:
    """Shows the page title, a one-line explanation under it, and a recent notice about the job
    queue (its file was damaged and rebuilt: ``core.jobs.recovery``)."""
    st.title(title)
    st.caption(caption)
    try:
        notice = read_notice(Path(session.get_settings().runs_dir))
    except ValueError:  # an invalid STUDIO_* setting: the page says so itself
        notice = None
    if notice:
        st.info(escape_markdown(notice), icon=":material/build:")
