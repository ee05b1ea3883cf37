"""Two workspaces: neither sees, opens by URL, downloads or deletes the other's run.

Each session is a fresh AppTest with its own ``?ws=`` token, as two visitors of one server.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.apptest import no_exception, texts
from tests.helpers.eval_pages import workspace_with_run

pytestmark = pytest.mark.apptest


def _stranger(new_app: Callable, **params: str):  # type: ignore[no-untyped-def]
    """A second visitor: a new session that gets a workspace of its own on first visit."""
    app = new_app(**params).run()
    no_exception(app)
    return app


def _shown_text(app) -> str:  # type: ignore[no-untyped-def]
    """All text the page shows in headings, markdown, captions, metrics and pickers."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "metric", "selectbox"):
        for element in app.get(kind):
            parts.append(str(getattr(element, "value", "")))
            parts.extend(str(option) for option in getattr(element, "options", []) or [])
    return " ".join(parts)


def test_runs_page_lists_only_the_own_workspace(new_app: Callable, tmp_path: Path) -> None:
    owner_token, run_id = workspace_with_run(tmp_path)
    owner = new_app(ws=owner_token).run()
    owner.switch_page("app_pages/runs.py").run()
    assert list(owner.dataframe[0].value["run"]) == [run_id]

    stranger = _stranger(new_app)
    stranger_token = stranger.query_params["ws"]
    assert stranger_token and stranger_token != owner_token
    stranger.switch_page("app_pages/runs.py").run()
    no_exception(stranger)
    assert any("No runs yet" in text for text in texts(stranger, "info"))
    assert not stranger.get("download_button")  # nothing of the owner's to download
    assert not stranger.dataframe  # no table, so no row to select for delete


@pytest.mark.parametrize(
    "page", ["app_pages/train.py", "app_pages/evaluate.py", "app_pages/predict.py"]
)
def test_opening_the_others_run_by_url_shows_nothing_of_it(
    new_app: Callable, tmp_path: Path, page: str
) -> None:
    _, run_id = workspace_with_run(tmp_path)
    stranger = _stranger(new_app)
    stranger.query_params["run"] = run_id
    stranger.switch_page(page).run()
    no_exception(stranger)
    assert run_id not in _shown_text(stranger)
    assert not stranger.get("download_button")


def test_the_owner_run_survives_the_strangers_visit(new_app: Callable, tmp_path: Path) -> None:
    owner_token, run_id = workspace_with_run(tmp_path)
    stranger = _stranger(new_app)
    stranger.query_params["run"] = run_id
    stranger.switch_page("app_pages/runs.py").run()
    no_exception(stranger)
    owner = new_app(ws=owner_token).run()
    owner.switch_page("app_pages/runs.py").run()
    assert list(owner.dataframe[0].value["run"]) == [run_id]


@pytest.mark.parametrize("page", ["app_pages/train.py", "app_pages/evaluate.py"])
def test_the_owner_does_see_the_run_by_url(new_app: Callable, tmp_path: Path, page: str) -> None:
    """The positive control for the stranger test: the same check finds the owner's run."""
    owner_token, run_id = workspace_with_run(tmp_path)
    owner = new_app(ws=owner_token, run=run_id).run()
    owner.switch_page(page).run()
    no_exception(owner)
    assert run_id in _shown_text(owner)
