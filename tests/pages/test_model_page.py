"""AppTest of the Model page: defaults, the cut chooser, building and summarizing a model.

The web process never builds a model: the backbone's layers and the model's summary come from
short worker jobs (``model_facts``); ``run_until_answered`` waits for them and reruns the page,
as the browser's poll does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.apptest import no_exception, run_until_answered, texts

pytestmark = pytest.mark.apptest
USE = "FormSubmitter:model_head_form-Use this model"
SERVER_PATH = re.compile(r"(^|[\s'\"(])/\w")  # an absolute path such as /work/...


def open_model(new_app: Callable, with_data: bool = True):  # returns an AppTest
    app = new_app().run()
    if with_data:
        app.button(key="home_sample").click().run()
    app.switch_page("app_pages/model.py")
    run_until_answered(app)  # the backbone's layers are listed by a worker, once
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
    # Speed columns are labelled with their source and stay numeric (missing = NaN, shown "—").
    speeds = table.set_index("Backbone")[["CPU ms/step (Keras docs)", "GPU ms/step (Keras docs)"]]
    assert speeds.loc["mobilenet_v2"].tolist() == [25.9, 3.8]
    assert speeds.loc["convnext_tiny"].isna().all()
    assert any("Keras Applications table" in caption for caption in texts(app, "caption"))


def test_use_this_model_shows_counts_summary_and_code(new_app: Callable) -> None:
    app = open_model(new_app)
    app.number_input(key="model_size_mobilenet_v2").set_value(96)
    run_until_answered(app)
    app.button(key=USE).click()
    run_until_answered(app)
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
    app.number_input(key="model_size_mobilenet_v2").set_value(96)
    run_until_answered(app)
    policy = next(box for box in app.selectbox if box.label == "Policy")
    policy.set_value("none")
    app.button(key=USE).click()
    run_until_answered(app)
    no_exception(app)
    numbers = counts(app)
    # BatchNorm moving statistics are never trainable; everything else is.
    assert numbers["Trainable"] > 10 * numbers["Frozen (non-trainable)"]


def test_earlier_cut_changes_the_summary(new_app: Callable) -> None:
    app = open_model(new_app)
    app.number_input(key="model_size_mobilenet_v2").set_value(96)
    run_until_answered(app)
    app.button(key=USE).click()
    run_until_answered(app)
    full = counts(app)["Parameters"]
    cut = app.selectbox(key="model_cut_mobilenet_v2_96")
    cut.set_value(cut.options[len(cut.options) // 2].split("  ·  ")[0])
    run_until_answered(app)
    app.button(key=USE).click()
    run_until_answered(app)
    no_exception(app)
    assert counts(app)["Parameters"] < full


def test_head_builder_takes_settings_per_conv_block_and_dense_layer(new_app: Callable) -> None:
    app = open_model(new_app)
    app.number_input(key="model_size_mobilenet_v2").set_value(96)
    run_until_answered(app)
    app.number_input(key="model_conv_count").set_value(2)
    run_until_answered(app)
    app.number_input(key="model_dense_count").set_value(2)
    run_until_answered(app)
    app.number_input(key="model_conv_filters_0").set_value(32)
    app.number_input(key="model_conv_filters_1").set_value(16)
    app.selectbox(key="model_conv_activation_1").set_value("gelu")
    app.number_input(key="model_dense_units_0").set_value(64)
    app.number_input(key="model_dense_units_1").set_value(24)
    app.selectbox(key="model_dense_activation_1").set_value("tanh")
    app.button(key=USE).click()
    run_until_answered(app)
    no_exception(app)
    assert not texts(app, "error")
    head = app.session_state["studio.model_spec"].head
    assert [block.filters for block in head.conv_blocks] == [32, 16]
    assert [block.activation for block in head.conv_blocks] == ["relu", "gelu"]
    assert [(layer.units, layer.activation) for layer in head.dense] == [(64, "relu"), (24, "tanh")]
    # The built head has exactly those layers: 3x3x1280 feature map at 96 px (3x3 "same"
    # convolutions, no pooling), global average pooling, two dense layers, 4 sample classes.
    expected = (
        (3 * 3 * 1280 * 32 + 32)
        + (3 * 3 * 32 * 16 + 16)
        + (16 * 64 + 64)
        + (64 * 24 + 24)
        + (24 * 4 + 4)
    )
    assert counts(app)["Trainable"] == expected


def test_backbone_table_speed_columns_show_a_dash_when_unknown(new_app: Callable) -> None:
    app = open_model(new_app, with_data=False)
    table = app.dataframe[0]
    assert table.proto.placeholder == "—"  # what the browser shows for a missing value
    speeds = table.value.set_index("Backbone")["CPU ms/step (Keras docs)"]
    assert speeds.dtype.kind == "f"  # numeric, so the column sorts by speed
    assert speeds["efficientnet_b7"] == 1578.9 and speeds.isna().sum() >= 10


def test_backbone_without_weights_is_refused_before_start(
    new_app: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_OFFLINE", "1")  # as on a server without internet
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # nothing downloaded earlier
    app = open_model(new_app)
    app.selectbox(key="model_backbone").set_value("efficientnet_b0")
    run_until_answered(app)
    app.radio(key="model_weights").set_value("imagenet")
    run_until_answered(app)
    app.number_input(key="model_size_efficientnet_b0").set_value(32)
    run_until_answered(app)
    no_exception(app)
    shown = texts(app, "error")
    assert any("'efficientnetb0_notop.h5'" in text for text in shown), shown
    assert all("STUDIO_WEIGHTS_DIR" in text and not SERVER_PATH.search(text) for text in shown)
    app.button(key=USE).click()
    run_until_answered(app)
    no_exception(app)
    refused = [text for text in texts(app, "error") if text.startswith("Not saved")]
    assert refused and "'efficientnetb0_notop.h5'" in refused[0]
    assert "studio.model_confirmed" not in app.session_state  # nothing was saved
