"""Every private-Keras reader in core.model.keras_graph, on a tiny hand-built functional model.

If a Keras upgrade renames or changes one of the private fields, ``test_private_api_still_works``
fails with a message naming the function and the field to fix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from core.model.keras_graph import (
    KerasGraphAPIError,
    call_arguments,
    check_private_api,
    inbound_tensors,
    inbound_tensors_per_call,
    nodes_by_depth,
    nodes_in_call_order,
    producer,
    snake_case,
)


def _tiny_model() -> dict[str, Any]:
    """image -> conv -> (+3.0) -> dense --+--> add; conv ------------------^."""
    import keras

    inputs = keras.Input((6, 6, 3), name="image")
    conv = keras.layers.Conv2D(4, 3, padding="same", name="conv")
    dense = keras.layers.Dense(4, name="dense")
    add = keras.layers.Add(name="add")
    features = conv(inputs)
    shifted = features + 3.0
    model = keras.Model(inputs, add([dense(shifted), features]), name="tiny")
    return {"model": model, "conv": conv, "dense": dense, "add": add,
            "features": features, "shifted": shifted}  # fmt: skip


def test_private_api_still_works() -> None:
    check_private_api()  # raises KerasGraphAPIError naming the function and field that broke


def test_producer_names_the_layer_or_op_behind_a_tensor() -> None:
    parts = _tiny_model()
    assert producer(parts["features"]) is parts["conv"]
    assert producer(parts["model"].output) is parts["add"]
    shift_op = producer(parts["shifted"])  # a keras.ops call, not a layer
    assert shift_op in parts["model"].operations and shift_op not in parts["model"].layers


def test_nodes_by_depth_and_call_order() -> None:
    parts = _tiny_model()
    model = parts["model"]
    depths = nodes_by_depth(model)
    assert depths[0][0].operation is parts["add"]  # depth 0 is the output side
    assert sorted(depths) == [0, 1, 2, 3, 4]
    order = [node.operation.name for node in nodes_in_call_order(model)]
    assert order[:2] == ["image", "conv"] and order[-2:] == ["dense", "add"]
    assert order == [op.name for op in model.operations]
    assert nodes_in_call_order(model)[0].is_input


def test_inbound_tensors_follow_each_call() -> None:
    parts = _tiny_model()
    dense, add = parts["dense"], parts["add"]
    assert [producer(t) for t in inbound_tensors(add)] == [dense, parts["conv"]]
    second = dense(parts["features"])  # a second call of the same layer
    assert inbound_tensors(dense, 1) == [parts["features"]]
    assert [len(tensors) for tensors in inbound_tensors_per_call(dense)] == [1, 1]
    assert producer(second) is dense
    with pytest.raises(IndexError):
        inbound_tensors(dense, 2)


def test_call_arguments_replay_the_model_on_new_inputs() -> None:
    import keras

    parts = _tiny_model()
    model = parts["model"]
    new_input = keras.Input((6, 6, 3))
    tensors: dict[int, Any] = {id(model.inputs[0]): new_input}
    for node in nodes_in_call_order(model):
        if node.is_input:
            continue
        args, kwargs = call_arguments(node, tensors)
        if node.operation is parts["add"]:
            assert isinstance(args[0], list) and len(args[0]) == 2  # Add is called on a list
        outputs = node.operation(*args, **kwargs)
        tensors[id(node.outputs[0])] = outputs
    replayed = keras.Model(new_input, tensors[id(model.outputs[0])])
    image = np.random.default_rng(0).uniform(size=(2, 6, 6, 3)).astype("float32")
    np.testing.assert_allclose(replayed(image), model(image), rtol=1e-6)  # same layers, weights
    assert len(replayed.layers) == len(model.layers)


@pytest.mark.parametrize(
    ("class_name", "expected"),
    [
        ("Conv2D", "conv2d"),
        ("DepthwiseConv2D", "depthwise_conv2d"),
        ("BatchNormalization", "batch_normalization"),
        ("GlobalAveragePooling2D", "global_average_pooling2d"),
        ("ReLU", "re_lu"),
        ("Add", "add"),
    ],
)
def test_snake_case_matches_keras_auto_names(class_name: str, expected: str) -> None:
    import keras

    assert snake_case(class_name) == expected
    layer = getattr(keras.layers, class_name)
    args = {"Conv2D": (1, 1), "DepthwiseConv2D": (1,)}.get(class_name, ())
    auto_name = layer(*args).name
    assert auto_name == expected or auto_name.startswith(f"{expected}_")


def test_a_changed_keras_internal_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulates a Keras upgrade that changes how layers are auto-named."""
    import keras.src.utils.naming as naming  # the private rule snake_case mirrors

    monkeypatch.setattr(naming, "to_snake_case", lambda name: name.lower())
    with pytest.raises(KerasGraphAPIError, match=r"keras_graph\.snake_case .*to_snake_case"):
        check_private_api()
