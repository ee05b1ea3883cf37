"""AppTest of the Data page: every source, the report, the split form, augmentation."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from core.jobs.runner import get_runner
from tests.helpers.answers import keep_answers_private
from tests.helpers.apptest import no_exception, run_until_answered, texts

pytestmark = pytest.mark.apptest


def png_bytes(color: tuple[int, int, int], seed: int) -> bytes:
    """A small PNG file's bytes; ``seed`` changes one pixel, so no two files are duplicates."""
    buffer = io.BytesIO()
    image = Image.new("RGB", (32, 32), color)
    image.putpixel((seed % 32, seed // 32 % 32), (seed * 7 % 256, 255, 0))
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def open_data(new_app: Callable, **params: str):
    app = new_app(**params).run()
    app.switch_page("app_pages/data.py").run()
    no_exception(app)
    return app


def metrics(app) -> dict[str, str]:
    return {m.label: str(m.value) for m in app.metric}


def test_empty_session_renders_and_says_no_dataset(new_app: Callable) -> None:
    app = open_data(new_app)
    assert "1. Data" in texts(app, "title")
    assert any("No dataset loaded yet" in text for text in texts(app, "info"))


def test_sample_dataset_report(new_app: Callable) -> None:
    app = open_data(new_app)
    app.button(key="data_sample").click().run()
    no_exception(app)
    facts = metrics(app)
    assert int(facts["Classes"]) >= 2
    train, val, test = (int(x) for x in facts["Train / val / test"].split(" / "))
    assert train > val > 0 and test > 0 and train + val + test == int(facts["Images"])
    assert app.get("plotly_chart"), "the counts chart is missing"
    assert app.get("image"), "no thumbnails"


def test_split_form_changes_the_split(new_app: Callable) -> None:
    app = open_data(new_app)
    app.button(key="data_sample").click().run()
    before = metrics(app)["Train / val / test"]
    app.slider[0].set_value(0.3)  # validation share
    app.button(key="FormSubmitter:data_split_form-Apply split").click().run()
    no_exception(app)
    after = metrics(app)["Train / val / test"]
    assert after != before
    assert int(after.split(" / ")[1]) > int(before.split(" / ")[1])


def test_zip_upload_is_extracted_and_scanned(new_app: Callable) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(6):
            archive.writestr(f"pets/cats/c{index}.png", png_bytes((200, 30, 30), index))
            archive.writestr(f"pets/dogs/d{index}.png", png_bytes((30, 30, 200), index))
    app = open_data(new_app)
    app.segmented_control(key="data_source").set_value("Zip upload").run()
    assert any("200 MB" in text for text in texts(app, "caption"))
    app.file_uploader(key="data_zip").upload("pets.zip", buffer.getvalue(), "application/zip")
    app.run()
    app.button(key="data_zip_load").click().run()
    no_exception(app)
    assert not texts(app, "error")
    assert metrics(app)["Classes"] == "2" and metrics(app)["Images"] == "12"


def test_zip_with_path_traversal_is_refused(new_app: Callable, studio_env: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../evil/a.png", png_bytes((1, 2, 3), 0))
    app = open_data(new_app)
    app.segmented_control(key="data_source").set_value("Zip upload").run()
    app.file_uploader(key="data_zip").upload("evil.zip", buffer.getvalue(), "application/zip")
    app.run()
    app.button(key="data_zip_load").click().run()
    no_exception(app)
    assert texts(app, "error")
    assert not list(studio_env.rglob("evil"))


def test_per_class_uploads(new_app: Callable) -> None:
    app = open_data(new_app)
    app.segmented_control(key="data_source").set_value("Upload per class").run()
    app.text_input(key="cn0").set_value("red")
    app.text_input(key="cn1").set_value("blue")
    app.file_uploader(key="cf0").set_value(
        [(f"r{i}.png", png_bytes((220, 0, 0), i), "image/png") for i in range(5)]
    )
    app.file_uploader(key="cf1").set_value(
        [(f"b{i}.png", png_bytes((0, 0, 220), i), "image/png") for i in range(5)]
    )
    app.run()
    app.button(key="data_cls_load").click().run()
    no_exception(app)
    assert not texts(app, "error")
    assert metrics(app)["Classes"] == "2" and metrics(app)["Images"] == "10"


def test_class_name_with_traversal_is_refused(new_app: Callable) -> None:
    app = open_data(new_app)
    app.segmented_control(key="data_source").set_value("Upload per class").run()
    app.text_input(key="cn0").set_value("../escape")
    app.file_uploader(key="cf0").set_value([("a.png", png_bytes((220, 0, 0), 0), "image/png")])
    app.file_uploader(key="cf1").set_value([("b.png", png_bytes((0, 0, 220), 0), "image/png")])
    app.run()
    app.button(key="data_cls_load").click().run()
    no_exception(app)
    assert any("slash" in text for text in texts(app, "error"))


def test_folder_source_is_off_without_roots(new_app: Callable) -> None:
    app = open_data(new_app)
    app.segmented_control(key="data_source").set_value("Server folder").run()
    assert any("turned off" in text for text in texts(app, "info"))
    assert not app.text_input


def test_folder_source_is_confined_to_the_roots(
    new_app: Callable, tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_DATA_ROOTS", str(tiny_dataset.parent))
    app = open_data(new_app)
    app.segmented_control(key="data_source").set_value("Server folder").run()
    app.text_input(key="data_folder_path").set_value("/etc").run()
    app.button(key="data_folder_load").click().run()
    no_exception(app)
    assert texts(app, "error")
    app.text_input(key="data_folder_path").set_value(str(tiny_dataset)).run()
    app.button(key="data_folder_load").click().run()
    no_exception(app)
    assert metrics(app)["Images"] == "16"


def test_augmentation_preview_follows_the_settings(new_app: Callable, studio_env: Path) -> None:
    """Drawn by a worker on request, stored per settings: shown at once to the next visitor."""
    # Its own answers folder: the test sees the preview missing before it is asked for.
    keep_answers_private(studio_env / "cache")
    app = open_data(new_app)
    app.button(key="data_sample").click().run()
    without_preview = len(app.get("image"))  # on by default (flip + a small rotation): asked
    assert not any("Turn on an augmentation" in text for text in texts(app, "caption"))
    app.button(key="data_preview_start").click()
    run_until_answered(app)
    no_exception(app)
    with_preview = len(app.get("image"))
    assert with_preview > without_preview
    app.checkbox[0].uncheck().run()  # flip left-right
    next(s for s in app.slider if s.label == "Rotation (degrees)").set_value(0.0).run()
    no_exception(app)
    assert not texts(app, "error")
    assert any("Turn on an augmentation" in text for text in texts(app, "caption"))
    assert len(app.get("image")) < with_preview
    app.checkbox[0].check().run()  # other settings: their own pictures, on request
    no_exception(app)
    assert len(app.get("image")) < with_preview
    app.button(key="data_preview_start").click()
    run_until_answered(app)
    no_exception(app)
    assert len(app.get("image")) == with_preview
    visitor = open_data(new_app)  # the default settings again: their stored pictures at once
    visitor.button(key="data_sample").click().run()
    no_exception(visitor)
    assert len(visitor.get("image")) == with_preview
    assert not get_runner().active_jobs()  # nothing was asked again
