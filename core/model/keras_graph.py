"""The one place that reads Keras's private functional-graph fields.

Keras 3 builds a functional model from ``Node`` objects: each call of a layer (or of a
``keras.ops`` operation) on symbolic tensors records a node holding the operation, its input
tensors, the exact call arguments and its outputs. The public API exposes the model's
``operations``/``layers`` and, for a layer called exactly once, ``layer.input``/``layer.output``,
but none of the wiring: which operation produced a tensor, which nodes make up a model and in
which order Keras runs them, or how a node was called. Re-stacking a backbone with surgery,
finding cut points and splitting a model for Grad-CAM all need that wiring, so they read it
here, through small functions that each name the private field they use.

A Node's own fields (``operation``, ``is_input``, ``input_tensors``, ``outputs``) carry no
underscore but belong to the private ``Node`` class; callers may read them on nodes returned
from this module. ``check_private_api`` exercises every field on a tiny model and raises
``KerasGraphAPIError`` naming the function and field when a Keras upgrade changes one;
``tests/core/model/test_keras_graph.py`` runs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras


class KerasGraphAPIError(RuntimeError):
    """A private Keras field this module relies on is missing or changed (a Keras upgrade)."""


def producer(tensor: Any) -> Any:
    """The operation (layer or ``keras.ops`` op) whose call produced the symbolic ``tensor``.

    Reads ``KerasTensor._keras_history.operation``. No public API exists: a ``KerasTensor``
    does not expose where it came from (``layer.output`` only goes the other way).
    """
    return tensor._keras_history.operation


def nodes_by_depth(model: keras.Model) -> dict[int, list[Any]]:
    """The call nodes of a functional ``model``, grouped by depth (0 = the output side).

    Reads ``Functional._nodes_by_depth``. No public API exists: ``model.operations`` lists each
    operation once, not each call of it in this model with the call's inputs and outputs.
    """
    return dict(model._nodes_by_depth)


def nodes_in_call_order(model: keras.Model) -> list[Any]:
    """The call nodes of ``model`` in the order Keras runs them (deepest first, see
    ``Function._run_through_graph``). Reads ``Functional._nodes_by_depth``."""
    depths = nodes_by_depth(model)
    return [node for depth in sorted(depths, reverse=True) for node in depths[depth]]


def inbound_tensors(layer: Any, node_index: int = 0) -> list[Any]:
    """The input tensors of call number ``node_index`` of ``layer`` (0 = its first call).

    Reads ``Operation._inbound_nodes[i].input_tensors``. The public ``layer.input`` raises as
    soon as a layer has been called twice (every re-stacked backbone layer has), and returns a
    structure rather than the flat list of tensors.
    """
    return list(layer._inbound_nodes[node_index].input_tensors)


def inbound_tensors_per_call(layer: Any) -> list[list[Any]]:
    """The input tensors of every call of ``layer`` so far, one list per call.

    Reads ``Operation._inbound_nodes``; there is no public list of a layer's calls. Used to
    find the tensor that feeds a nested sub-model inside the outer model's graph.
    """
    return [list(node.input_tensors) for node in layer._inbound_nodes]


def call_arguments(node: Any, tensors: dict[int, Any]) -> tuple[list[Any], dict[str, Any]]:
    """The ``(args, kwargs)`` of ``node``'s call, with each symbolic tensor ``t`` replaced by
    ``tensors[id(t)]``, so that ``node.operation(*args, **kwargs)`` repeats the call on new
    tensors (non-tensor arguments such as ``x + 3.0``'s constant are kept).

    Reads ``Node.arguments.fill_in`` (a private ``SymbolicArguments``). The public
    ``keras.models.clone_model(call_function=...)`` does the same walk but only returns a new
    model, not the tensors surgery needs to check shapes and read consumers on the way.
    """
    args, kwargs = node.arguments.fill_in(tensors)
    return list(args), dict(kwargs)


def snake_case(name: str) -> str:
    """``Conv2D`` -> ``conv2d``, ``BatchNormalization`` -> ``batch_normalization``.

    The rule Keras uses to auto-name layers (``keras.src.utils.naming.to_snake_case``, not
    exported), written with public code; ``check_private_api`` checks it against the names
    Keras actually gives.
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _probe(function: str, field: str, check: Callable[[], bool]) -> None:
    """Runs ``check``; raises ``KerasGraphAPIError`` naming ``function`` and ``field`` if it
    fails or raises."""
    try:
        ok = check()
    except Exception as error:  # any failure to read the field means the same thing
        raise KerasGraphAPIError(
            f"core.model.keras_graph.{function} can no longer read the private Keras field "
            f"{field} ({type(error).__name__}: {error}). Keras changed its internals: "
            "update core/model/keras_graph.py."
        ) from error
    if not ok:
        raise KerasGraphAPIError(
            f"core.model.keras_graph.{function} reads the private Keras field {field}, which "
            "no longer holds what it used to. Keras changed its internals: update "
            "core/model/keras_graph.py."
        )


def check_private_api() -> None:
    """Exercises every function of this module on a tiny functional model.

    Raises:
        KerasGraphAPIError: naming the function and the private field that broke.
    """
    import keras

    inputs = keras.Input((8, 8, 3), name="probe_input")
    conv = keras.layers.Conv2D(4, 3, padding="same", name="probe_conv")
    dense = keras.layers.Dense(4, name="probe_dense")
    add = keras.layers.Add(name="probe_add")
    features = conv(inputs)
    shifted = features + 3.0  # a keras.ops call with a constant argument: not a layer
    model = keras.Model(inputs, add([dense(shifted), features]))
    called = {node.operation.name for node in nodes_in_call_order(model) if not node.is_input}
    checks: list[tuple[str, str, Callable[[], bool]]] = [
        ("producer", "KerasTensor._keras_history.operation",
         lambda: producer(model.outputs[0]) is add and producer(features) is conv),
        ("nodes_by_depth", "Functional._nodes_by_depth",
         lambda: sum(len(nodes) for nodes in nodes_by_depth(model).values()) == 5),
        ("nodes_in_call_order", "Functional._nodes_by_depth (Node.operation, Node.is_input)",
         lambda: called == {op.name for op in model.operations[1:]}),
        ("inbound_tensors", "Operation._inbound_nodes[i].input_tensors",
         lambda: [producer(t) for t in inbound_tensors(add)] == [dense, conv]),
        ("inbound_tensors_per_call", "Operation._inbound_nodes",
         lambda: _calls_of(dense, features) == [1, 1]),
        ("call_arguments", "Node.arguments.fill_in (Node.input_tensors, Node.outputs)",
         lambda: _replays(model)),
        ("snake_case", "keras.src.utils.naming.to_snake_case (layer auto-names)",
         lambda: all(_auto_named(layer) for layer in _unnamed_layers())),
    ]  # fmt: skip
    for function, field, check in checks:
        _probe(function, field, check)


def _calls_of(layer: Any, tensor: Any) -> list[int]:
    """Calls ``layer`` once more on ``tensor``; the input count of each of its calls."""
    layer(tensor)
    return [len(tensors) for tensors in inbound_tensors_per_call(layer)]


def _replays(model: keras.Model) -> bool:
    """Re-runs ``model``'s nodes on a new input with ``call_arguments``; True when the last
    output has the model's output shape."""
    import keras

    tensors = {id(model.inputs[0]): keras.Input(tuple(model.inputs[0].shape[1:]))}
    for node in nodes_in_call_order(model):
        if node.is_input:
            continue
        args, kwargs = call_arguments(node, tensors)
        outputs = node.operation(*args, **kwargs)
        for old, new in zip(node.outputs, keras.tree.flatten(outputs), strict=True):
            tensors[id(old)] = new
    return tuple(tensors[id(model.outputs[0])].shape) == tuple(model.outputs[0].shape)


def _auto_named(layer: Any) -> bool:
    """True when Keras named ``layer`` as ``snake_case`` of its class name (plus ``_<n>``)."""
    base = re.escape(snake_case(type(layer).__name__))
    return re.fullmatch(rf"{base}(_\d+)?", layer.name) is not None


def _unnamed_layers() -> list[Any]:
    """A few layers created without a name, so Keras names them itself."""
    import keras

    return [
        keras.layers.Conv2D(1, 1),
        keras.layers.DepthwiseConv2D(1),
        keras.layers.BatchNormalization(),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.ReLU(),
        keras.layers.Add(),
    ]
