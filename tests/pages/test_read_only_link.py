"""The owner's read-only link (``?view=``): made and renewed on the Runs page; its holder sees
the evidence (evaluation, model card, presentation) and every action that writes is absent
(issue 13 item 4, issue 26 item 1).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers.apptest import no_exception, texts
from tests.helpers.eval_pages import workspace_with_run

pytestmark = pytest.mark.apptest
RUNS = "app_pages/runs.py"


def shown_view_token(app: AppTest) -> str:
    """The read-only token in the first link the Runs page shows (``...?view=<token>``)."""
    links = [str(code.value) for code in app.code if "view=" in str(code.value)]
    assert links, "no read-only link shown"  # the workspace's, then the presentation's
    return parse_qs(links[0].split("?", 1)[1])["view"][0]


def make_view_link(new_app: Callable, token: str) -> tuple[AppTest, str]:
    """The owner's session on the Runs page after pressing "Make a read-only link"."""
    owner = new_app(ws=token).run()
    owner.switch_page(RUNS).run()
    assert not [c for c in owner.code if "view=" in str(c.value)]  # none until asked for
    owner.button(key="runs_share_make").click().run()
    no_exception(owner)
    assert any("ws=" in text and "owner link" in text for text in texts(owner, "warning"))
    return owner, shown_view_token(owner)


def workspace_folders(studio_env: Path) -> list[str]:
    return sorted(p.name for p in (studio_env / "runs").iterdir() if p.name.startswith("ws-"))


def test_a_viewer_sees_and_downloads_but_cannot_change(
    new_app: Callable, tmp_path: Path, studio_env: Path
) -> None:
    token, run_id = workspace_with_run(tmp_path)
    _, view = make_view_link(new_app, token)
    before = workspace_folders(studio_env)

    viewer = new_app(view=view).run()
    viewer.switch_page(RUNS).run()
    no_exception(viewer)
    assert list(viewer.dataframe[0].value["run"]) == [run_id]
    assert [b.label for b in viewer.get("download_button")] == [
        "Download model (.keras)",
        "Download the model card (MODEL_CARD.md)",
    ]
    keys = {button.key for button in viewer.button}
    assert not keys & {"runs_rerun", "runs_delete", "runs_share_make", "runs_share_renew"}
    assert not viewer.get("form")  # no export form
    assert any("read-only link" in text for text in texts(viewer, "caption"))
    assert "ws" not in viewer.query_params and viewer.query_params["view"] == view
    assert workspace_folders(studio_env) == before  # a viewer's visit creates nothing


def test_a_viewer_starts_no_evaluation(new_app: Callable, tmp_path: Path) -> None:
    from core.config.settings import Settings
    from core.jobs.runner import get_runner
    from core.store.workspace import view_token, workspace_store

    token, run_id = workspace_with_run(tmp_path)
    view = view_token(Settings.from_env(), token)  # a link made without the Runs page
    store = workspace_store(Settings.from_env(), token)
    viewer = new_app(view=view, run=run_id).run()
    viewer.switch_page("app_pages/evaluate.py").run()
    no_exception(viewer)
    assert any("not been evaluated yet" in text for text in texts(viewer, "info"))
    assert "evaluation" not in (store.path(run_id) / "metrics.json").read_text(encoding="utf-8")
    assert get_runner().latest_job(store, run_id, "evaluate") is None  # nothing queued


def test_renewing_the_link_retires_the_old_one(new_app: Callable, tmp_path: Path) -> None:
    token, _ = workspace_with_run(tmp_path)
    owner, old = make_view_link(new_app, token)
    owner.button(key="runs_share_renew").click().run()
    new = shown_view_token(owner)
    assert new != old
    stale = new_app(view=old).run()
    no_exception(stale)
    assert any("read-only link is unknown" in text for text in texts(stale, "error"))
    stale.button(key="studio_fresh_ws").click().run()  # the way out: an own, new workspace
    no_exception(stale)
    assert "view" not in stale.query_params and stale.query_params["ws"] != token
    fresh = new_app(view=new).run()
    fresh.switch_page(RUNS).run()
    no_exception(fresh)
    assert not texts(fresh, "error") and fresh.dataframe


def written_files(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and modification time (what a write changes).

    The queue's empty lock file is left out: reading the queue takes the lock, storing nothing.
    """
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in root.rglob("*")
        if path.is_file() and path.suffix != ".lock"
    }


def test_a_viewer_gets_no_write_action(new_app: Callable, tmp_path: Path, studio_env: Path) -> None:
    from core.config.settings import Settings
    from core.store.workspace import view_token

    token, _ = workspace_with_run(tmp_path)
    view = view_token(Settings.from_env(), token)
    before = written_files(studio_env)  # the runs, data (the shared sample too) and cache roots
    viewer = new_app(view=view).run()
    no_exception(viewer)
    assert any("Read-only link" in text for text in texts(viewer, "info"))  # the banner
    keys = {button.key for button in viewer.button}
    assert not keys & {"home_demo", "home_sample"}  # Home offers no demo to train
    viewer.switch_page("app_pages/data.py").run()
    no_exception(viewer)
    assert not viewer.get("file_uploader") and not viewer.segmented_control
    assert list(viewer.dataframe[0].value["class"]) == ["cat", "dog"]  # the run's data instead
    assert str(tmp_path) not in " ".join(texts(viewer, "markdown"))
    viewer.switch_page("app_pages/model.py").run()
    no_exception(viewer)
    assert not viewer.button and not viewer.get("form")
    assert any("Model card" in str(code.value) for code in viewer.code)
    viewer.switch_page("app_pages/train.py").run()
    no_exception(viewer)
    assert not viewer.get("form") and not viewer.button  # no settings, no start, no stop
    assert any("tiny · dataset dataset" in text for text in texts(viewer, "caption"))
    assert written_files(studio_env) == before  # a viewer writes nothing, the sample included


def test_deleting_a_run_removes_its_export_bundle(new_app: Callable, tmp_path: Path) -> None:
    from core.config.settings import Settings
    from core.store.workspace import export_dir, workspace_store

    token, run_id = workspace_with_run(tmp_path)
    exported = export_dir(Settings.from_env(), workspace_store(Settings.from_env(), token), run_id)
    exported.mkdir(parents=True)
    (exported / f"{run_id}_export.zip").write_bytes(b"bundle")
    owner = new_app(ws=token).run()
    owner.switch_page(RUNS).run()
    owner.checkbox(key="runs_delete_confirm").check().run()
    owner.button(key="runs_delete").click().run()
    no_exception(owner)
    assert not exported.exists()
