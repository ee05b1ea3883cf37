"""AppTest of the Model page's cut-point advisor: a job compares the cuts, "Use this cut" sets one.

The comparison runs as an ``advise_cut`` job in a worker process (random weights, 32-pixel
inputs, 16 tiny images); the test waits for it and reruns the page.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from tests.helpers.apptest import no_exception, run_until_answered, texts
from tests.pages.job_waits import wait_for_job

pytestmark = pytest.mark.apptest
CUT_KEY = "model_cut_mobilenet_v2_32"


def colour_zip(per_class: int = 8) -> bytes:
    """Noisy red and blue 32x32 PNGs in one folder per class."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for offset, (name, colour) in enumerate(
            {"red": (200, 40, 40), "blue": (40, 40, 200)}.items()
        ):
            for index in range(per_class):
                rng = np.random.default_rng(100 * offset + index)
                pixels = np.array(colour, np.float32) + rng.normal(0, 20, (32, 32, 3))
                image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
                png = io.BytesIO()
                image.save(png, format="PNG")
                archive.writestr(f"colours/{name}/{name}{index}.png", png.getvalue())
    return buffer.getvalue()


def open_model_with_data(new_app: Callable):  # returns an AppTest
    app = new_app().run()
    app.switch_page("app_pages/data.py").run()
    app.segmented_control(key="data_source").set_value("Zip upload").run()
    app.file_uploader(key="data_zip").upload("colours.zip", colour_zip(), "application/zip")
    app.run()
    app.button(key="data_zip_load").click().run()
    no_exception(app)
    app.switch_page("app_pages/model.py")
    run_until_answered(app)  # a worker lists the backbone's layers, once per size
    app.number_input(key="model_size_mobilenet_v2").set_value(32)
    run_until_answered(app)
    no_exception(app)
    return app


def test_without_data_the_advisor_asks_for_a_dataset(new_app: Callable) -> None:
    app = new_app().run()
    app.switch_page("app_pages/model.py")
    run_until_answered(app)
    no_exception(app)
    assert not [b for b in app.button if b.key == "model_advise_start"]
    assert any("Load a dataset on the Data page" in c for c in texts(app, "caption"))


def test_compare_cuts_shows_the_chart_and_use_this_cut_sets_the_cut(new_app: Callable) -> None:
    from core.config.settings import Settings
    from core.jobs.runner import get_runner
    from core.store.workspace import workspace_store

    app = open_model_with_data(new_app)
    app.button(key="model_advise_start").click().run()
    no_exception(app)
    token = app.query_params["ws"]
    wait_for_job(token, None, "advise_cut")
    app.run()
    no_exception(app)
    specs = [chart.proto.spec for chart in app.get("plotly_chart")]
    assert any("Linear-probe validation accuracy per cut" in spec for spec in specs)
    assert any(
        c.startswith("Took ") and "training and validation images" in c
        for c in texts(app, "caption")
    )
    job = get_runner().latest_job(workspace_store(Settings.from_env(), token), None, "advise_cut")
    assert job is not None and job.result is not None
    chosen = job.result["chosen"]
    assert app.selectbox(key=CUT_KEY).value == "out_relu"  # the default until the user picks
    other = next(option for option in app.selectbox(key=CUT_KEY).options if chosen not in option)
    app.selectbox(key=CUT_KEY).select(_name(other)).run()  # a cut other than the advised one
    no_exception(app)
    assert app.selectbox(key=CUT_KEY).value != chosen
    app.button(key="model_use_advised_cut").click().run()
    no_exception(app)
    assert app.selectbox(key=CUT_KEY).value == chosen
    assert not [b for b in app.button if b.key == "model_use_advised_cut"]
    assert any("is the one chosen above" in c for c in texts(app, "caption"))


def _name(option: str) -> str:
    """The layer name of a cut picker option ("name  ·  shape  ★ recommended")."""
    return option.split("  ·  ")[0]
