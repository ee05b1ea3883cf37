"""AppTest of the Predict page: run model, uploads, refused .keras files, zip batch as a job.

Single images are answered in the web process by LiteRT, from a TFLite file a worker makes
once per model (a ``predict_model`` job); the test waits for it and reruns the page. A zip is
classified by a worker process (a ``predict_batch`` job); the test waits for the job and reruns
the page. Hostile inputs (a 10,000-image zip, a .keras file declaring an 8000x8000
input) are refused with a sentence, and this process's memory does not jump while refusing.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.analysis import colour_dataset
from tests.helpers.apptest import no_exception, run_until_answered, texts
from tests.helpers.eval_pages import png_bytes, workspace_with_run
from tests.helpers.trained_runs import trained_workspace

pytestmark = pytest.mark.apptest
PAGE = "app_pages/predict.py"


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
    run_until_answered(app)  # the run's quick-prediction model is made by a worker, once
    no_exception(app)
    assert len(app.get("plotly_chart")) == 1  # one chart for the good image
    assert any("bad.png" in text for text in texts(app, "error"))  # a sentence for the bad one
    assert texts(app, "success") or texts(app, "warning")


# The verdict of one image: "**red** (97.3%)" or "Not sure: the best guess, red, is only 40%."
_VERDICT = re.compile(
    r"^(?:\*\*(?P<sure>.+)\*\* \((?P<high>[\d.]+)%\)"
    r"|Not sure: the best guess, (?P<unsure>.+?), is only (?P<low>\d+)%)"
)


def _verdict(app) -> tuple[str, float, float]:  # AppTest
    """The one verdict on the page: (class, percent shown, rounding step of that percent)."""
    shown = texts(app, "success") + texts(app, "warning")
    assert len(shown) == 1, shown
    match = _VERDICT.match(shown[0])
    assert match, shown[0]
    if match.group("sure"):
        return match.group("sure"), float(match.group("high")), 0.1
    return match.group("unsure"), float(match.group("low")), 1.0


def test_the_class_shown_is_the_predictors_top_class(new_app: Callable, tmp_path: Path) -> None:
    """Each image's answer is ``Predictor``'s top class and probability for the same bytes.

    The page answers with LiteRT from the run's TFLite model; ``Predictor`` is the Keras model.
    """
    from core.predict.predictor import Predictor

    data, _ = colour_dataset(tmp_path / "data", per_class=12)
    token, run_id, run_dir = trained_workspace(data, epochs=4)
    predictor = Predictor.from_run(run_dir)  # core's own answer, loaded apart from the page
    app = new_app(ws=token, run=run_id).run()
    app.switch_page(PAGE).run()
    answers = []
    # A clear red, a clear blue and a purple between them (a less certain answer).
    for index, color in enumerate(((210, 30, 30), (30, 30, 210), (130, 40, 130))):
        image = png_bytes(color, size=32)
        # Found again after each run: a widget read before a run keeps its old value.
        uploader = next(u for u in app.get("file_uploader") if u.label == "Images")
        uploader.set_value([(f"photo{index}.png", image, "image/png")])
        run_until_answered(app)  # the first image waits for the run's quick-prediction model
        no_exception(app)
        name, percent, step = _verdict(app)
        (best, probability), *_ = predictor.top_k(predictor.predict_sources([image]), 1)[0]
        assert name == best, (color, name, best)
        assert abs(percent - 100 * probability) <= step / 2 + 1e-6, (color, percent, probability)
        answers.append(name)
    assert answers[:2] == ["red", "blue"]  # both classes were answered, not one repeated


def _zip(images: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in images.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _upload_zip(app, data: bytes) -> None:  # AppTest
    uploader = next(u for u in app.get("file_uploader") if u.label == "Zip of images")
    uploader.set_value(("batch.zip", data, "application/zip"))
    app.run()
    no_exception(app)


def _rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def test_zip_batch_runs_as_a_job_and_gives_a_table_and_csv(
    new_app: Callable, tmp_path: Path
) -> None:
    from core.config.settings import Settings
    from core.jobs.runner import get_runner
    from core.store.workspace import workspace_store

    token, run_id = workspace_with_run(tmp_path)
    app = new_app(ws=token, run=run_id).run()
    app.switch_page(PAGE).run()
    _upload_zip(app, _zip({f"photos/img{i}.png": png_bytes((10 * i, 40, 40)) for i in range(3)}))
    store = workspace_store(Settings.from_env(), token)
    job = get_runner().latest_job(store, run_id, "predict_batch")
    assert job is not None  # submitted once, for the watched run
    assert get_runner().wait_for_job(store, job.job_id, run_id, 240).state == "finished"
    app.run()
    no_exception(app)
    assert len(app.dataframe[0].value) == 3
    assert app.get("download_button")
    assert any("3 images classified" in text for text in texts(app, "caption"))
    app.run()  # a rerun re-attaches to the same job: nothing new is submitted
    assert len(list((store.path(run_id) / "jobs").iterdir())) == 1


def test_a_zip_of_10000_images_is_refused_without_a_memory_jump(
    new_app: Callable, tmp_path: Path
) -> None:
    token, run_id = workspace_with_run(tmp_path)
    pixel = png_bytes(size=1)
    data = _zip({f"photos/{i:05d}.png": pixel for i in range(10_000)})
    app = new_app(ws=token, run=run_id).run()
    app.switch_page(PAGE).run()
    before = _rss_mb()
    _upload_zip(app, data)
    assert _rss_mb() - before < 100
    assert any(
        "holds 10,000 images" in text and "at most 2,000" in text for text in texts(app, "error")
    )
    assert not app.get("download_button")


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
    run_until_answered(app)  # a worker loads it in safe mode, which refuses it
    no_exception(app)
    assert any("Python code" in text for text in texts(app, "error"))


def test_keras_upload_with_an_8000_pixel_input_is_refused_before_it_is_built(
    new_app: Callable, tmp_path: Path
) -> None:
    import keras

    image = keras.Input((8000, 8000, 3))
    features = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(image))
    keras.Model(image, keras.layers.Dense(2, activation="softmax")(features)).save(
        tmp_path / "huge.keras"
    )
    data = (tmp_path / "huge.keras").read_bytes()
    assert len(data) < 64 * 1024
    app = new_app().run()
    app.switch_page(PAGE).run()
    app.radio(key="predict_source").set_value("Upload a .keras file").run()
    uploader = next(u for u in app.get("file_uploader") if "keras" in u.label)
    before = _rss_mb()
    uploader.set_value(("huge.keras", data, "application/zip"))
    app.run()
    no_exception(app)
    assert _rss_mb() - before < 100  # building it used to take 4.4 GB
    assert any("8000 pixels a side" in text for text in texts(app, "error"))
    assert not app.get("plotly_chart")


def test_imagenet_mode_offline_says_so(new_app: Callable, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_WEIGHTS_DIR", str(Path(__file__).parent))  # no class index here
    app = new_app().run()
    app.switch_page(PAGE).run()
    app.radio(key="predict_source").set_value("ImageNet (stock network)").run()
    no_exception(app)
    assert any("ImageNet" in text for text in texts(app, "warning"))
