"""AppTest of the Predict page: run model, uploads, unsafe .keras refused, zip batch."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.apptest import no_exception, texts
from tests.helpers.eval_pages import png_bytes, workspace_with_run

pytestmark = pytest.mark.apptest
PAGE = "pages/predict.py"


def test_renders_in_an_empty_session(new_app: Callable) -> None:
    app = new_app().run()
    app.switch_page(PAGE).run()
    no_exception(app)
    assert any("no trained model" in text for text in texts(app, "info"))


def test_upload_images_gives_top_k_charts(new_app: Callable, tmp_path: Path) -> None:
    token, run_id = workspace_with_run(tmp_path)
    app = new_app(ws=token, run=run_id).run()
    app.switch_page(PAGE).run()
    no_exception(app)
    uploader = next(u for u in app.get("file_uploader") if u.label == "Images")
    uploader.set_value([("red.png", png_bytes(), "image/png"), ("bad.png", b"nope", "image/png")])
    app.run()
    no_exception(app)
    assert len(app.get("plotly_chart")) == 1  # one chart for the good image
    assert any("bad.png" in text for text in texts(app, "error"))  # a sentence for the bad one
    assert texts(app, "success") or texts(app, "warning")


def test_zip_batch_gives_a_table_and_csv(new_app: Callable, tmp_path: Path) -> None:
    token, run_id = workspace_with_run(tmp_path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(3):
            archive.writestr(f"photos/img{index}.png", png_bytes((10 * index, 40, 40)))
    app = new_app(ws=token, run=run_id).run()
    app.switch_page(PAGE).run()
    uploader = next(u for u in app.get("file_uploader") if u.label == "Zip of images")
    uploader.set_value(("batch.zip", buffer.getvalue(), "application/zip"))
    app.run()
    no_exception(app)
    assert len(app.dataframe[0].value) == 3
    assert app.get("download_button")


def test_unsafe_keras_upload_is_refused(new_app: Callable, tmp_path: Path) -> None:
    import keras

    image = keras.Input((32, 32, 3))
    x = keras.layers.Lambda(lambda t: t + 1.0)(image)
    x = keras.layers.GlobalAveragePooling2D()(x)
    keras.Model(image, keras.layers.Dense(2, activation="softmax")(x)).save(tmp_path / "m.keras")
    app = new_app().run()
    app.switch_page(PAGE).run()
    app.radio(key="predict_source").set_value("Upload a .keras file").run()
    uploader = next(u for u in app.get("file_uploader") if "keras" in u.label)
    uploader.set_value(("m.keras", (tmp_path / "m.keras").read_bytes(), "application/zip"))
    app.run()
    no_exception(app)
    assert any("Python code" in text for text in texts(app, "error"))


def test_imagenet_mode_offline_says_so(new_app: Callable, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_WEIGHTS_DIR", str(Path(__file__).parent))  # no class index here
    app = new_app().run()
    app.switch_page(PAGE).run()
    app.radio(key="predict_source").set_value("ImageNet (stock network)").run()
    no_exception(app)
    assert any("ImageNet" in text for text in texts(app, "warning"))
