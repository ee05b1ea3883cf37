"""The owner's read-only link (``?view=``): made and renewed on the Runs page; its holder looks
and downloads, and every action that writes is hidden or refused (issue 13, item 4).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers.apptest import no_exception, texts
from tests.helpers.eval_pages import png_bytes, workspace_with_run
from tests.pages.job_waits import wait_for_job

pytestmark = pytest.mark.apptest
RUNS = "app_pages/runs.py"
START = "FormSubmitter:train_settings-Start training"


def shown_view_token(app: AppTest) -> str:
    """The read-only token in the link the Runs page shows (``...?view=<token>``)."""
    links = [str(code.value) for code in app.code if "view=" in str(code.value)]
    assert len(links) == 1, links
    return parse_qs(links[0].split("?", 1)[1])["view"][0]


def make_view_link(new_app: Callable, token: str) -> tuple[AppTest, str]:
    """The owner's session on the Runs page after pressing "Make a read-only link"."""
    owner = new_app(ws=token).run()
    owner.switch_page(RUNS).run()
    assert not owner.code  # no link until the owner asks for one
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
    assert [b.label for b in viewer.get("download_button")] == ["Download model (.keras)"]
    keys = {button.key for button in viewer.button}
    assert not keys & {"runs_rerun", "runs_delete", "runs_share_make", "runs_share_renew"}
    assert not viewer.get("form")  # no export form
    assert any("read-only link" in text for text in texts(viewer, "caption"))
    assert "ws" not in viewer.query_params and viewer.query_params["view"] == view
    assert workspace_folders(studio_env) == before  # a viewer's visit creates nothing


def test_evaluate_is_the_owners_and_the_viewer_sees_its_scores(
    new_app: Callable, tmp_path: Path
) -> None:
    from core.config.settings import Settings
    from core.store.workspace import workspace_store

    token, run_id = workspace_with_run(tmp_path)
    _, view = make_view_link(new_app, token)
    metrics_file = workspace_store(Settings.from_env(), token).path(run_id) / "metrics.json"
    viewer = new_app(view=view, run=run_id).run()
    viewer.switch_page("app_pages/evaluate.py").run()
    no_exception(viewer)
    assert any("not been evaluated yet" in text for text in texts(viewer, "info"))
    assert "evaluation" not in metrics_file.read_text(encoding="utf-8")  # nothing written

    owner = new_app(ws=token, run=run_id).run()
    owner.switch_page("app_pages/evaluate.py").run()  # starts the evaluation job
    wait_for_job(token, run_id, "evaluate")
    assert "evaluation" in metrics_file.read_text(encoding="utf-8")
    viewer.run()
    no_exception(viewer)
    assert [m.label for m in viewer.metric][:2] == ["Accuracy", "Macro F1"]
    assert not viewer.get("plotly_chart")


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


def test_a_viewer_cannot_upload_nor_start_a_run(
    new_app: Callable, tmp_path: Path, studio_env: Path
) -> None:
    token, run_id = workspace_with_run(tmp_path)
    _, view = make_view_link(new_app, token)
    viewer = new_app(view=view).run()
    viewer.switch_page("app_pages/data.py").run()
    viewer.segmented_control(key="data_source").set_value("Zip upload").run()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(4):
            archive.writestr(f"a/{index}.png", png_bytes((200, 0, 0), 40 + index))
            archive.writestr(f"b/{index}.png", png_bytes((0, 0, 200), 40 + index))
    viewer.file_uploader(key="data_zip").upload("d.zip", buffer.getvalue(), "application/zip")
    viewer.run()
    viewer.button(key="data_zip_load").click().run()
    no_exception(viewer)
    assert any("read-only link" in text for text in texts(viewer, "error"))
    assert not (studio_env / "data").exists() or not any((studio_env / "data").glob("ws-*/zip-*"))

    viewer.segmented_control(key="data_source").set_value("Sample dataset").run()
    viewer.button(key="data_sample").click().run()  # the shared sample needs no write here
    viewer.switch_page("app_pages/train.py").run()
    viewer.button(key=START).click().run()
    no_exception(viewer)
    assert any("read-only link" in text for text in texts(viewer, "error"))
    from core.config.settings import Settings
    from core.store.workspace import workspace_store

    assert workspace_store(Settings.from_env(), token).run_ids() == [run_id]


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
