"""What a read-only link shows once the owner made it (issue 26, item 1): the full evaluation
and a presentation page, with no button that writes and no server path on the page.

Making the link on the Runs page queues the evaluation and the quick-prediction model of the
newest runs (a viewer cannot start a job); the test waits for those worker jobs, then opens the
pages as a viewer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers.apptest import no_exception, texts
from tests.helpers.eval_pages import png_bytes, workspace_with_run
from tests.pages.job_waits import wait_for_job

pytestmark = pytest.mark.apptest
SHOWN = ("markdown", "caption", "info", "warning", "error", "success", "code", "title")


def page_text(app: AppTest) -> str:
    """Every text element of the page, joined (to look for a server path)."""
    return " ".join(text for kind in SHOWN for text in texts(app, kind))


@pytest.fixture
def shared(new_app: Callable, tmp_path: Path) -> tuple[str, str, str]:
    """(read-only token, run id, presentation link) of a run the owner shared and evaluated."""
    token, run_id = workspace_with_run(tmp_path)
    owner = new_app(ws=token).run()
    owner.switch_page("app_pages/runs.py").run()
    owner.button(key="runs_share_make").click().run()
    no_exception(owner)
    links = [str(code.value) for code in owner.code if "view=" in str(code.value)]
    assert len(links) == 2, links  # the workspace's link and the newest run's presentation
    assert "/present?" in links[1] and f"run={run_id}" in links[1]
    wait_for_job(token, run_id, "evaluate")  # queued by making the link
    wait_for_job(token, run_id, "predict_model")  # too: a viewer's photo is answered on LiteRT
    return parse_qs(links[0].split("?", 1)[1])["view"][0], run_id, links[1]


def test_a_viewer_sees_the_full_evaluation(
    new_app: Callable, shared: tuple[str, str, str], tmp_path: Path
) -> None:
    view, run_id, _ = shared
    viewer = new_app(view=view, run=run_id).run()
    viewer.switch_page("app_pages/evaluate.py").run()
    no_exception(viewer)
    assert [m.label for m in viewer.metric][:2] == ["Accuracy", "Macro F1"]
    assert list(viewer.dataframe[0].value["class"]) == ["cat", "dog"]  # per-class table
    assert viewer.get("plotly_chart")  # the confusion matrix (and the ROC/PR curves)
    assert viewer.selectbox(key="eval_cam_image").options  # Grad-CAM of held-out images
    assert not viewer.button  # no "Evaluate again", no analysis to start, no label edit
    assert str(tmp_path) not in page_text(viewer)


def test_the_presentation_page_for_a_viewer(
    new_app: Callable, shared: tuple[str, str, str], tmp_path: Path
) -> None:
    from core.config.settings import Settings
    from core.store.workspace import workspace_folders

    view, run_id, _ = shared
    before = {p: sorted(p.rglob("*")) for p in workspace_folders(Settings.from_env())}
    viewer = new_app(view=view, run=run_id).run()
    viewer.switch_page("app_pages/present.py").run()
    no_exception(viewer)
    assert texts(viewer, "title") == ["tiny"]
    labels = [m.label for m in viewer.metric]
    assert labels[:2] == ["Accuracy (test)", "Right answers"]
    assert viewer.get("plotly_chart")  # the confusion matrix
    assert viewer.get("image")  # right and wrong examples with Grad-CAM
    assert not viewer.button
    photo = viewer.get("file_uploader")[0]
    photo.set_value([("mine.png", png_bytes((200, 40, 40), 32), "image/png")])
    viewer.run()
    no_exception(viewer)
    assert texts(viewer, "success") or texts(viewer, "warning")  # the answer for the photo
    assert str(tmp_path) not in page_text(viewer)
    after = {p: sorted(p.rglob("*")) for p in workspace_folders(Settings.from_env())}
    assert after == before  # the photo was classified in memory: nothing stored
