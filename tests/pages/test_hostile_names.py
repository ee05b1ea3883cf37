"""Names from a hostile visitor show as plain text on every page and chart (issue 13, item 1).

Class folders named like a Markdown link and like an HTML anchor, a file named like LaTeX, a zip
and a run named like Streamlit's colour directive: each page shows them as typed (escaped
Markdown, HTML entities in Plotly), never as a link, an image, coloured text or a formula.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.apptest import no_exception, run_until_answered
from tests.helpers.eval_pages import png_bytes, workspace_with_run
from tests.helpers.hostile import (
    BARE_LINK_CLASS,
    HOSTILE_CLASSES,
    HTML_CLASS,
    LATEX_FILE,
    LINK_CLASS,
    RED_RUN,
    assert_shown_as_text,
    chart_labels,
    markdown_texts,
)
from tests.pages.job_waits import wait_for_job
from ui.common import escape_markdown

pytestmark = pytest.mark.apptest


def hostile_zip() -> bytes:
    """A dataset zip: two hostile class folders, a LaTeX file name, a reserved folder name."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for offset, name in enumerate((*HOSTILE_CLASSES, BARE_LINK_CLASS)):
            color = [(200, 40, 40), (40, 40, 200), (40, 200, 40)][offset]
            archive.writestr(f"pets/{name}/{LATEX_FILE}", png_bytes(color))
            for index in range(5):
                archive.writestr(f"pets/{name}/{index}.png", png_bytes(color, 40 + index))
        archive.writestr("pets/CON/1.png", png_bytes((40, 200, 40)))  # reserved on Windows
    return buffer.getvalue()


def test_data_and_home_pages_show_hostile_names_as_text(new_app: Callable) -> None:
    app = new_app().run()
    app.switch_page("app_pages/data.py").run()
    app.segmented_control(key="data_source").set_value("Zip upload").run()
    app.file_uploader(key="data_zip").upload(f"{RED_RUN}.zip", hostile_zip(), "application/zip")
    app.run()
    app.button(key="data_zip_load").click().run()
    no_exception(app)
    assert {m.label: m.value for m in app.metric}["Classes"] == "3"
    assert_shown_as_text(app)
    shown = markdown_texts(app)
    assert f"**{escape_markdown(LINK_CLASS)}**" in shown  # the thumbnails' class heading
    assert any(escape_markdown(f"Zip: {RED_RUN}.zip") in text for text in shown)
    assert '&lt;a href="https:evil.example"&gt;x' in chart_labels(app)  # the counts chart
    skipped = app.dataframe[0].value
    assert "pets/CON/1.png" in list(skipped["file"])  # the whole path inside the zip

    app.switch_page("app_pages/home.py").run()
    no_exception(app)
    assert_shown_as_text(app)


def test_evaluate_page_shows_hostile_class_names_as_text(new_app: Callable, tmp_path: Path) -> None:
    token, run_id = workspace_with_run(tmp_path, classes=HOSTILE_CLASSES)
    app = new_app(ws=token, run=run_id).run()
    app.switch_page("app_pages/evaluate.py").run()
    no_exception(app)
    wait_for_job(token, run_id, "evaluate")  # evaluated in a worker process
    app.run()
    no_exception(app)
    assert len(app.get("plotly_chart")) >= 4  # the confusion matrices, ROC and PR
    assert len(app.get("image")) >= 2  # a Grad-CAM input and overlay, captioned with classes
    assert_shown_as_text(app)
    labels = chart_labels(app)
    assert '&lt;a href="https:evil.example"&gt;x' in labels  # a tick label, shown as typed
    assert HTML_CLASS not in labels


def test_predict_page_shows_hostile_file_and_class_names_as_text(
    new_app: Callable, tmp_path: Path
) -> None:
    token, run_id = workspace_with_run(tmp_path, classes=HOSTILE_CLASSES)
    app = new_app(ws=token, run=run_id).run()
    app.switch_page("app_pages/predict.py").run()
    uploader = next(u for u in app.get("file_uploader") if u.label == "Images")
    uploader.set_value([(LATEX_FILE, png_bytes(), "image/png")])
    run_until_answered(app)  # the run's quick-prediction model is made by a worker, once
    no_exception(app)
    assert_shown_as_text(app)
    captions = [caption for image in app.get("image") for caption in image.captions]
    assert escape_markdown(LATEX_FILE) in captions
    assert set(chart_labels(app)) & {'&lt;a href="https:evil.example"&gt;x', LINK_CLASS}


def test_runs_and_train_pages_show_a_hostile_run_name_as_text(
    new_app: Callable, tmp_path: Path
) -> None:
    from core.config.settings import Settings
    from core.store.workspace import workspace_store

    token, run_id = workspace_with_run(tmp_path, classes=HOSTILE_CLASSES)
    config_file = workspace_store(Settings.from_env(), token).path(run_id) / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config_file.write_text(json.dumps({**config, "name": RED_RUN}), encoding="utf-8")

    app = new_app(ws=token, run=run_id).run()
    app.switch_page("app_pages/runs.py").run()
    no_exception(app)
    assert list(app.dataframe[0].value["name"]) == [RED_RUN]  # a table shows it as typed
    assert_shown_as_text(app)
    assert RED_RUN in chart_labels(app)  # the overlay's trace name: no HTML in it to escape
    app.switch_page("app_pages/train.py").run()
    no_exception(app)
    assert_shown_as_text(app)
