"""Owner and read-only links: what a viewer may do, and which tokens are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config.settings import Settings
from core.store.access import ReadOnlyError, is_read_only, require_owner
from core.store.runs import RunStore
from core.store.tokens import WorkspaceError, new_token
from core.store.workspace import (
    MARKER,
    create_workspace,
    new_upload_dir,
    resolve_workspace,
    view_token,
    workspace_store,
)
from tests.helpers.runs import named_config
from tests.helpers.workspaces import age, finished_run, studio_settings


def _owned(tmp_path: Path) -> tuple[Settings, str, RunStore, str]:
    settings = studio_settings(tmp_path)
    token = create_workspace(settings)
    store = workspace_store(settings, token)
    return settings, token, store, finished_run(store, 100, name="shared run")


def test_a_viewer_lists_loads_and_reads_but_every_write_is_refused(tmp_path: Path) -> None:
    settings, token, store, run_id = _owned(tmp_path)
    access = resolve_workspace(settings, view=view_token(settings, token))
    assert access.role == "viewer" and not access.is_owner and is_read_only(access.store)
    viewer = access.store
    assert [run.name for run in viewer.list_runs()] == ["shared run"]
    assert viewer.load(run_id).paths["model"].read_bytes() == b"0" * 100  # download
    for action in ("deleting a run", "re-running a run", "exporting a model"):
        with pytest.raises(ReadOnlyError, match=f"read-only link, so {action} is not possible"):
            require_owner(access, action)
    for write in (
        lambda: viewer.delete(run_id),
        lambda: viewer.create(named_config("sneaky")),
        lambda: viewer.update_status(run_id, status="queued"),
        lambda: viewer.append_log(run_id, "x"),
        lambda: new_upload_dir(settings, viewer, "zip"),
    ):
        with pytest.raises(ReadOnlyError):
            write()
    assert store.run_ids() == [run_id] and store.status(run_id) == "finished"


def test_the_owner_passes_the_check(tmp_path: Path) -> None:
    settings, token, store, _ = _owned(tmp_path)
    access = resolve_workspace(settings, token=token)
    assert access.role == "owner" and access.folder_name == store.root.name
    require_owner(access, "deleting a run")
    require_owner(store, "deleting a run")


def test_opening_a_read_only_link_writes_nothing(tmp_path: Path) -> None:
    settings, token, store, _ = _owned(tmp_path)
    view = view_token(settings, token)
    age(store.root / MARKER, 3600)
    before = (store.root / MARKER).stat().st_mtime
    resolve_workspace(settings, view=view).store.list_runs()
    assert (store.root / MARKER).stat().st_mtime == before


@pytest.mark.parametrize("bad", ["", "short", "../" * 10, "a" * 65, "é" * 30, "x" * 30 + "/"])
def test_malformed_read_only_tokens_are_refused(tmp_path: Path, bad: str) -> None:
    settings, *_ = _owned(tmp_path)
    if not bad:  # an empty view= means "no read-only link": the owner path decides
        with pytest.raises(WorkspaceError, match="No workspace"):
            resolve_workspace(settings, token=None, view=bad)
        return
    with pytest.raises(WorkspaceError, match="read-only link is not valid"):
        resolve_workspace(settings, view=bad)


def test_unknown_renewed_and_swapped_tokens_are_refused(tmp_path: Path) -> None:
    settings, token, _, _ = _owned(tmp_path)
    view = view_token(settings, token)
    assert view_token(settings, token) == view  # stable until renewed
    with pytest.raises(WorkspaceError, match="read-only link is unknown"):
        resolve_workspace(settings, view=new_token())
    with pytest.raises(WorkspaceError, match="read-only link is unknown"):
        resolve_workspace(settings, view=token)  # the owner token is no view token
    with pytest.raises(WorkspaceError, match="workspace link is unknown"):
        resolve_workspace(settings, token=view)  # nor the view token an owner token
    renewed = view_token(settings, token, renew=True)
    assert renewed != view
    with pytest.raises(WorkspaceError, match="read-only link is unknown"):
        resolve_workspace(settings, view=view)
    assert resolve_workspace(settings, view=renewed).role == "viewer"


def test_only_the_owner_token_makes_a_read_only_link(tmp_path: Path) -> None:
    settings, *_ = _owned(tmp_path)
    with pytest.raises(WorkspaceError):
        view_token(settings, new_token())
