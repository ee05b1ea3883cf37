"""AppTest of the Model page: defaults, the cut chooser, building and summarizing a model."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.pages.apphelpers import no_exception, texts

pytestmark = pytest.mark.apptest
USE = "FormSubmitter:model_head_form-Use this model"


def open_model(new_app: Callable, with_data: bool = True):  # returns an AppTest
    app = new_app().run()
    if with_data:
        app.button(key="home_sample").click().run()
    app.switch_page("pages/model.py").run()
    no_exception(app)
    return app


def counts(app) -> dict[str, int]:
    return {m.label: int(str(m.value).replace(",", "")) for m in app.metric}


def test_empty_session_renders_with_a_link_to_data(new_app: Callable) -> None:
    app = open_model(new_app, with_data=False)
    assert "2. Model" in texts(app, "title")
    assert any("No dataset yet" in text for text in texts(app, "info"))
    assert any("Go to Data" in link for link in texts(app, "page_link"))


def test_defaults_are_mobilenet_v2_and_the_last_layer(new_app: Callable) -> None:
    app = open_model(new_app)
    assert app.selectbox(key="model_backbone").value == "mobilenet_v2"
    assert app.radio(key="model_weights").value == "none"  # STUDIO_DEFAULT_WEIGHTS=none
    cut = app.selectbox(key="model_cut_mobilenet_v2_224")
    assert cut.value == "out_relu"  # the default cut: the last feature map
    assert any("recommended" in option for option in cut.options)
    table = app.dataframe[0].value
    assert {"Params (M)", "ImageNet top-1 (%)", "Offline weights"} <= set(table.columns)
    assert len(table) > 5


def test_use_this_model_shows_counts_summary_and_code(new_app: Callable) -> None:
    app = open_model(new_app)
    app.number_input(key="model_size_mobilenet_v2").set_value(96).run()
    app.button(key=USE).click().run()
    no_exception(app)
    assert not texts(app, "error")
    numbers = counts(app)
    assert numbers["Parameters"] == numbers["Trainable"] + numbers["Frozen (non-trainable)"]
    # Frozen backbone + softmax head on 1280 features for the sample's classes.
    assert 0 < numbers["Trainable"] < numbers["Frozen (non-trainable)"]
    assert len(app.dataframe[-1].value) > 3
    assert any("keras" in code.value for code in app.code)


def test_training_everything_makes_every_weight_trainable(new_app: Callable) -> None:
    app = open_model(new_app)
    app.number_input(key="model_size_mobilenet_v2").set_value(96).run()
    policy = next(box for box in app.selectbox if box.label == "Policy")
    policy.set_value("none")
    app.button(key=USE).click().run()
    no_exception(app)
    numbers = counts(app)
    # BatchNorm moving statistics are never trainable; everything else is.
    assert numbers["Trainable"] > 10 * numbers["Frozen (non-trainable)"]


def test_earlier_cut_changes_the_summary(new_app: Callable) -> None:
    app = open_model(new_app)
    app.number_input(key="model_size_mobilenet_v2").set_value(96).run()
    app.button(key=USE).click().run()
    full = counts(app)["Parameters"]
    cut = app.selectbox(key="model_cut_mobilenet_v2_96")
    cut.set_value(cut.options[len(cut.options) // 2].split("  ·  ")[0]).run()
    app.button(key=USE).click().run()
    no_exception(app)
    assert counts(app)["Parameters"] < full
