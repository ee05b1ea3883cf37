"""Unit tests of the page helpers that need no script run (messages, ETA, run views)."""

from __future__ import annotations

import pytest

from core.errors import DataError
from ui.common import error_message, missing_steps
from ui.train_view import RunView, epoch_points, format_eta


def test_user_errors_keep_their_sentence() -> None:
    assert error_message(DataError("The zip is empty.")) == "The zip is empty."
    assert error_message(ValueError("Dropout must be below 1.")) == "Dropout must be below 1."


def test_unexpected_errors_get_a_generic_sentence_without_details() -> None:
    message = error_message(KeyError("/secret/path/model.keras"), "building the model")
    assert "secret" not in message and "Traceback" not in message
    assert message.startswith("Something went wrong while building the model")
    assert "memory" in error_message(MemoryError())


def test_unknown_step_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="Unknown step 'dataset'"):
        missing_steps("dataset")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "estimating..."), (-1, "estimating..."), (42.4, "42 s"), (65, "1 min 05 s")],
)
def test_format_eta(seconds: float | None, text: str) -> None:
    assert format_eta(seconds) == text


def test_epoch_points_counts_rows_with_a_loss() -> None:
    view = RunView(run_id="r", status="training", history=[{"loss": 1.0}, {"loss": None}, {}])
    assert epoch_points(view) == 1
    assert view.active and not RunView(run_id="r", status="finished").active


def test_unfreeze_options_list_built_layers_recommended_first() -> None:
    from core.model.spec import ModelSpec, SurgeryOp
    from ui.model_facts import layer_rows
    from ui.train_widgets import unfreeze_layer_options

    all_rows = layer_rows("mobilenet_v2", 96)
    names = [row["name"] for row in all_rows]
    cut = "block_13_expand_relu"  # only layers up to the cut exist in the built model
    spec = ModelSpec(input_size=96, weights="none", cut_layer=cut)
    options = [row["name"] for row in unfreeze_layer_options(spec)]
    assert set(options) == set(names[: names.index(cut) + 1])
    flags = [row["recommended"] for row in unfreeze_layer_options(spec)]
    assert flags[0] and flags == sorted(flags, reverse=True)  # recommended ones first
    recommended = [name for name, flag in zip(options, flags, strict=True) if flag]
    # Deepest first within each group: unfreezing from the first option trains the fewest.
    assert recommended == sorted(recommended, key=names.index, reverse=True)

    replaced = SurgeryOp(action="replace", first="block_12_expand", last="block_12_depthwise")
    with_surgery = ModelSpec(input_size=96, weights="none", cut_layer=cut, surgery=(replaced,))
    remaining = {row["name"] for row in unfreeze_layer_options(with_surgery)}
    assert "block_12_expand" not in remaining and "block_12_depthwise" not in remaining
    assert "block_12_expand_BN" not in remaining and "block_11_add" in remaining
