"""Cut points: every backbone layer with its output shape, parameters below it and position.

A layer is a *recommended* cut when a single tensor carries everything downstream (no edge of
the graph jumps over it, so cutting there loses nothing of a residual/inception branch) and it
ends a block: a pooling/merge layer, the activation right after a merge, the layer before a
branching block, a change of block name, or the last layer. The default cut is the last layer
(the backbone's final feature map). Listings are cached: building a backbone takes seconds.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
from dataclasses import dataclass
from typing import Any

from core.errors import StudioError
from core.model.backbones import build_backbone, get_backbone, validate_input_size

_MERGE_TYPES = {"Add", "Concatenate", "Multiply"}
_POOL_TYPES = {"MaxPooling2D", "AveragePooling2D"}
_ACTIVATION_TYPES = {"Activation", "ReLU"}


@dataclass(frozen=True)
class LayerInfo:
    """One backbone layer as a possible cut point.

    Attributes:
        name: Keras layer name.
        type: Layer class name (``Conv2D``...).
        output_shape: Output shape with ``None`` for the batch dimension.
        params: Parameters of this layer alone.
        params_below: Parameters of this layer and every layer it depends on.
        position: Index in the backbone's ``layers`` list (0 is the input layer).
        recommended: True for block outputs that carry everything downstream.
    """

    name: str
    type: str
    output_shape: list[int | None]
    params: int
    params_below: int
    position: int
    recommended: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return dataclasses.asdict(self)


def _producer(tensor: Any) -> Any:
    return tensor._keras_history.operation


def _block_key(name: str) -> str | None:
    """``block_3_expand`` -> ``block_3``; ``conv2_block1_out`` -> ``conv2``; no digit -> None."""
    match = re.match(r"^(\D*?\d+[a-z]?)(?:_|$)", name)
    return match.group(1) if match else None


def _graph_facts(model: Any) -> tuple[list[Any], list[bool], list[int]]:
    """For ``model.operations`` in order: whether each is a single-tensor cut, params below."""
    operations = list(model.operations)
    index = {id(op): i for i, op in enumerate(operations)}
    parents: list[list[int]] = []
    for op in operations:
        node = op._inbound_nodes[0]
        parents.append(
            [index[id(_producer(t))] for t in node.input_tensors if id(_producer(t)) in index]
        )
    reach = [i for i in range(len(operations))]  # furthest consumer of each operation
    for child, child_parents in enumerate(parents):
        for parent in child_parents:
            reach[parent] = max(reach[parent], child)
    is_cut, furthest = [], -1
    for i in range(len(operations)):
        is_cut.append(furthest <= i)
        furthest = max(furthest, reach[i])
    own = [
        op.count_params() if hasattr(op, "count_params") and op.built else 0 for op in operations
    ]
    ancestors: list[int] = []
    below: list[int] = []
    for i, child_parents in enumerate(parents):
        mask = 1 << i
        for parent in child_parents:
            mask |= ancestors[parent]
        ancestors.append(mask)
        below.append(sum(own[j] for j, bit in enumerate(reversed(bin(mask)[2:])) if bit == "1"))
    return operations, is_cut, below


def _recommended(layers: list[Any], cuts: list[bool], position: int) -> bool:
    layer = layers[position]
    if position == 0 or not cuts[position] or len(layer.output.shape) != 4:
        return False
    if position == len(layers) - 1:
        return True
    kind = type(layer).__name__
    previous = type(layers[position - 1]).__name__
    following = type(layers[position + 1]).__name__
    if kind in _MERGE_TYPES and following in _ACTIVATION_TYPES:
        return False  # the activation right after the merge is the block output
    if kind in _MERGE_TYPES | _POOL_TYPES or previous in _MERGE_TYPES:
        return True
    if not cuts[position + 1]:
        return True  # a branching block starts right after this layer
    here, after = _block_key(layer.name), _block_key(layers[position + 1].name)
    return here is not None and after is not None and here != after


@functools.lru_cache(maxsize=32)
def _cached_layers(backbone_id: str, input_size: int) -> tuple[LayerInfo, ...]:
    model = build_backbone(backbone_id, input_size, weights="none")
    operations, op_cuts, op_below = _graph_facts(model)
    op_index = {id(op): i for i, op in enumerate(operations)}
    layers = list(model.layers)
    cuts = [op_cuts[op_index[id(layer)]] for layer in layers]
    rows = []
    for position, layer in enumerate(layers):
        rows.append(
            LayerInfo(
                name=layer.name,
                type=type(layer).__name__,
                output_shape=list(layer.output.shape),
                params=layer.count_params() if layer.built else 0,
                params_below=op_below[op_index[id(layer)]],
                position=position,
                recommended=_recommended(layers, cuts, position),
            )
        )
    return tuple(rows)


def list_layers(backbone_id: str, input_size: int | None = None) -> list[LayerInfo]:
    """Lists every layer of the backbone (no top) at ``input_size`` as a cut point.

    Args:
        backbone_id: Registry id.
        input_size: Square input size; the backbone's default when None.

    Raises:
        ValueError: for an unknown backbone or unsuitable size.
    """
    info = get_backbone(backbone_id)
    size = input_size or info.default_size
    validate_input_size(info, size)
    return list(_cached_layers(backbone_id, size))


def default_cut(backbone_id: str, input_size: int | None = None) -> str:
    """The name of the backbone's last layer (its final feature map)."""
    return list_layers(backbone_id, input_size)[-1].name


def check_cut(backbone_id: str, input_size: int | None, cut_layer: str) -> LayerInfo:
    """Returns the cut layer's info.

    Raises:
        StudioError: naming close layer names when ``cut_layer`` does not exist.
    """
    layers = list_layers(backbone_id, input_size)
    for layer in layers:
        if layer.name == cut_layer:
            if layer.position == 0:
                raise StudioError("The cut must be above the input layer.")
            return layer
    close = difflib.get_close_matches(cut_layer, [layer.name for layer in layers], n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise StudioError(f"{backbone_id} has no layer named '{cut_layer}'.{hint}")
