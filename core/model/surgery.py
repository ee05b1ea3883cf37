"""Re-stack a backbone on new inputs, optionally replacing or inserting layers on the way.

``restack`` walks the backbone's graph up to the cut (in the same depth order Keras uses to run
a functional model) and calls every original layer again on new tensors. Calling a layer again
reuses the same layer object, so every untouched layer keeps its pretrained weights. On the way:

- a ``replace`` step skips the run ``first``..``last`` and applies one new layer to the run's
  input instead; it is only allowed on a single-path stretch (each layer feeds only the next);
- an ``insert_after`` step applies a new layer to the output of ``first``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from core.config.model import SurgeryConfig
from core.errors import StudioError
from core.model.keras_graph import (
    call_arguments,
    inbound_tensors,
    nodes_by_depth,
    nodes_in_call_order,
    producer,
)

if TYPE_CHECKING:
    import keras


class SurgeryError(StudioError):
    """A surgery step cannot be applied (unknown layer, branched region, shape mismatch)."""


def surgery_layer_name(op: SurgeryConfig, index: int) -> str:
    """The name of the layer created by surgery step number ``index`` (0-based)."""
    return op.name or f"surgery{index + 1}_{op.layer_type.lower()}"


def make_layer(op: SurgeryConfig, index: int) -> keras.layers.Layer:
    """Creates the new Keras layer a surgery step describes."""
    import keras

    name = surgery_layer_name(op, index)
    builders: dict[str, Any] = {
        "Conv2D": lambda: keras.layers.Conv2D(
            op.filters, op.kernel_size, strides=op.strides, padding=op.padding,
            activation=op.activation, name=name,
        ),
        "DepthwiseConv2D": lambda: keras.layers.DepthwiseConv2D(
            op.kernel_size, strides=op.strides, padding=op.padding,
            activation=op.activation, name=name,
        ),
        "BatchNormalization": lambda: keras.layers.BatchNormalization(name=name),
        "Dropout": lambda: keras.layers.Dropout(op.rate, name=name),
        "MaxPooling2D": lambda: keras.layers.MaxPooling2D(
            op.kernel_size, strides=op.strides, padding=op.padding, name=name
        ),
    }  # fmt: skip
    layer = builders[op.layer_type]()
    layer.trainable = op.trainable
    return layer


def _consumers(model: keras.Model) -> dict[int, list[str]]:
    """Maps id(tensor) to the names of the operations of ``model`` that read it."""
    readers: dict[int, list[str]] = {}
    for nodes in nodes_by_depth(model).values():
        for node in nodes:
            if node.is_input:
                continue
            for tensor in node.input_tensors:
                readers.setdefault(id(tensor), []).append(node.operation.name)
    return readers


def _run_layers(model: keras.Model, op: SurgeryConfig) -> list[Any]:
    """Returns the layers ``first``..``last`` after checking they form a single path."""
    names = [layer.name for layer in model.layers]
    for name in (op.first, op.last_layer):
        if name not in names:
            raise SurgeryError(f"Layer '{name}' is not part of the network below the cut.")
    start, stop = names.index(op.first), names.index(op.last_layer)
    if stop < start:
        raise SurgeryError(f"Layer '{op.last_layer}' comes before '{op.first}'; swap them.")
    run = model.layers[start : stop + 1]
    readers = _consumers(model)
    for previous, layer in itertools.pairwise(run):
        inputs = inbound_tensors(layer)
        if len(inputs) != 1 or producer(inputs[0]) is not previous:
            raise SurgeryError(
                f"Layers '{op.first}'..'{op.last_layer}' are not one straight path: "
                f"'{layer.name}' does not simply read the output of '{previous.name}'."
            )
        if len(readers.get(id(previous.output), [])) != 1:
            raise SurgeryError(
                f"Layers '{op.first}'..'{op.last_layer}' are in a branched region: the output "
                f"of '{previous.name}' is also used by "
                f"{', '.join(repr(n) for n in readers[id(previous.output)] if n != layer.name)}."
            )
    if len(inbound_tensors(run[0])) != 1:
        raise SurgeryError(f"'{op.first}' merges several inputs; a run must start on one input.")
    return run


def _check_shape(old: Any, new: Any, what: str, readers: list[str]) -> None:
    if tuple(old.shape) != tuple(new.shape) and readers:
        raise SurgeryError(
            f"{what} changes the output shape from {_shape(old)} to {_shape(new)}, but "
            f"{', '.join(repr(r) for r in readers)} expects {_shape(old)}. Adjust filters, "
            "kernel size, strides or padding so the shape stays the same."
        )


def _shape(tensor: Any) -> list[int | None]:
    return list(tensor.shape)


def restack(
    backbone: keras.Model,
    inputs: keras.KerasTensor,
    cut_layer: str,
    ops: Sequence[SurgeryConfig] = (),
) -> keras.KerasTensor:
    """Calls the backbone's layers up to ``cut_layer`` on ``inputs``, applying ``ops``.

    Args:
        backbone: A freshly built backbone (its layers are reused, weights included).
        inputs: The new symbolic input (e.g. the output of the preprocessing layers).
        cut_layer: Name of the last backbone layer to keep.
        ops: Surgery steps, applied in one pass.

    Returns:
        The symbolic output corresponding to ``cut_layer``'s output.

    Raises:
        SurgeryError: for unknown layers, branched runs, overlapping steps or shape mismatches.
    """
    import keras

    cut_model = keras.Model(backbone.input, backbone.get_layer(cut_layer).output)
    readers = _consumers(cut_model)
    replace_at, insert_at = _plan_steps(cut_model, ops)
    tensors: dict[int, Any] = {id(cut_model.inputs[0]): inputs}
    for node in nodes_in_call_order(cut_model):
        _visit(node, tensors, readers, replace_at, insert_at)
    return tensors[id(cut_model.outputs[0])]


_ReplaceAt = dict[str, tuple[list[Any], Any, SurgeryConfig]]
_InsertAt = dict[str, tuple[Any, SurgeryConfig]]


def _plan_steps(
    cut_model: keras.Model, ops: Sequence[SurgeryConfig]
) -> tuple[_ReplaceAt, _InsertAt]:
    """Checks every step and creates its layer, keyed by the name of the layer it starts at.

    Raises:
        SurgeryError: an unknown layer, a branched run, or two steps on the same layers.
    """
    replace_at: _ReplaceAt = {}
    insert_at: _InsertAt = {}
    touched: set[str] = set()
    for index, op in enumerate(ops):
        run = _run_layers(cut_model, op) if op.action == "replace" else None
        if run is None and op.first not in _names(cut_model):
            raise SurgeryError(f"Layer '{op.first}' is not part of the network below the cut.")
        names = [layer.name for layer in run] if run else [op.first]
        if touched & set(names):
            raise SurgeryError(
                f"Two surgery steps touch the same layers: {sorted(touched & set(names))}."
            )
        touched.update(names)
        if run is not None:
            replace_at[op.first] = (run, make_layer(op, index), op)
        else:
            insert_at[op.first] = (make_layer(op, index), op)
    return replace_at, insert_at


def _names(model: keras.Model) -> set[str]:
    return {layer.name for layer in model.layers}


def _visit(
    node: Any,
    tensors: dict[int, Any],
    readers: dict[int, list[str]],
    replace_at: _ReplaceAt,
    insert_at: _InsertAt,
) -> None:
    """Re-runs one graph node on the new tensors (see ``restack``)."""
    if node.is_input or any(id(t) not in tensors for t in node.input_tensors):
        return  # inputs, and layers inside a replaced run (their input was never produced)
    operation = node.operation
    args, kwargs = call_arguments(node, tensors)
    if operation.name in replace_at:
        run, new_layer, op = replace_at[operation.name]
        old_output = run[-1].output
        new_output = new_layer(args[0])
        what = f"Replacing '{op.first}'..'{op.last_layer}' with {op.layer_type}"
        _check_shape(old_output, new_output, what, readers.get(id(old_output), []))
        tensors[id(old_output)] = new_output
        return
    outputs = operation(*args, **kwargs)
    flat = outputs if isinstance(outputs, list | tuple) else [outputs]
    for old, new in zip(node.outputs, flat, strict=False):
        tensors[id(old)] = new
    if operation.name in insert_at:
        new_layer, op = insert_at[operation.name]
        old_output = node.outputs[0]
        new_output = new_layer(tensors[id(old_output)])
        what = f"Inserting {op.layer_type} after '{op.first}'"
        _check_shape(old_output, new_output, what, readers.get(id(old_output), []))
        tensors[id(old_output)] = new_output
