"""Uploads on the Data page: kept only while in use, refused files listed, the disk cap, and an
empty validation split refused on Data and at Start (issue 13, items 2, 7 and 8).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.apptest import no_exception, texts
from tests.helpers.data_pages import dataset_zip, facts, load_zip, open_data
from tests.helpers.eval_pages import png_bytes

pytestmark = pytest.mark.apptest
START = "FormSubmitter:train_settings-Start training"


def uploads(studio_env: Path) -> list[str]:
    return sorted(p.name for p in (studio_env / "data").glob("ws-*/*") if p.is_dir())


def test_a_new_upload_replaces_the_old_one_and_a_failed_one_is_removed(
    new_app: Callable, studio_env: Path
) -> None:
    app = open_data(new_app)
    load_zip(app, dataset_zip(5))
    first = uploads(studio_env)
    assert len(first) == 1 and first[0].startswith("zip-")
    load_zip(app, dataset_zip(6))
    second = uploads(studio_env)
    assert len(second) == 1 and second != first  # the replaced upload is gone
    load_zip(app, b"not a zip at all", "broken.zip")
    assert any("not a valid zip" in text for text in texts(app, "error"))
    assert uploads(studio_env) == second  # the dataset in use stays
    assert facts(app)["Images"] == "12"


def test_refused_class_uploads_are_listed_under_skipped(new_app: Callable) -> None:
    app = open_data(new_app)
    app.segmented_control(key="data_source").set_value("Upload per class").run()
    app.text_input(key="cn0").set_value("red")
    app.text_input(key="cn1").set_value("blue")
    red = [(f"r{i}.png", png_bytes((220, 0, 0), 40 + i), "image/png") for i in range(4)]
    app.file_uploader(key="cf0").set_value([*red, ("notes.png", b"not an image", "image/png")])
    app.file_uploader(key="cf1").set_value(
        [(f"b{i}.png", png_bytes((0, 0, 220), 40 + i), "image/png") for i in range(4)]
    )
    app.run()
    app.button(key="data_cls_load").click().run()
    no_exception(app)
    assert facts(app)["Images"] == "8" and facts(app)["Skipped files"] == "1"
    skipped = app.dataframe[0].value
    assert list(skipped["file"]) == ["red/notes.png"]


def test_a_class_without_one_usable_image_is_refused(new_app: Callable, studio_env: Path) -> None:
    app = open_data(new_app)
    app.segmented_control(key="data_source").set_value("Upload per class").run()
    app.file_uploader(key="cf0").set_value([("a.png", png_bytes(), "image/png")])
    app.file_uploader(key="cf1").set_value([("b.png", b"nope", "image/png")])
    app.run()
    app.button(key="data_cls_load").click().run()
    no_exception(app)
    assert any("None of the images of class 'class_2'" in t for t in texts(app, "error"))
    assert uploads(studio_env) == []  # the half-written upload was removed


def test_one_image_per_class_is_refused_on_data_and_at_start(
    new_app: Callable, studio_env: Path
) -> None:
    app = open_data(new_app)
    load_zip(app, dataset_zip(1))
    assert facts(app)["Train / val / test"].split(" / ")[1] == "0"
    refusal = "The validation split would be empty"
    assert any(refusal in text for text in texts(app, "error"))
    app.switch_page("app_pages/train.py").run()
    app.button(key=START).click().run()
    no_exception(app)
    assert any(refusal in text for text in texts(app, "error"))
    assert "run" not in app.query_params
    assert not list((studio_env / "runs").glob("ws-*/2*"))  # no run folder was created


def test_a_full_disk_refuses_uploads_and_training(
    new_app: Callable, studio_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_DISK_CAP_MB", "0.01")  # 10 KB: the sample dataset alone is more
    app = open_data(new_app)
    app.button(key="data_sample").click().run()  # shared and generated once: not refused
    assert int(facts(app)["Images"]) > 0
    load_zip(app, dataset_zip(5))
    assert any("no disk space left for this upload" in t for t in texts(app, "error"))
    assert uploads(studio_env) == []
    assert not list((studio_env / "data").glob("ws-*"))  # refused before any folder is made
    app.switch_page("app_pages/train.py").run()
    app.button(key=START).click().run()
    no_exception(app)
    assert any("no disk space left for training" in text for text in texts(app, "error"))
    assert "run" not in app.query_params
