"""Cut points: every backbone layer with its output shape, parameters below it and position.

A layer is a *block end* when a single tensor carries everything downstream (no edge of the
graph jumps over it, so cutting there loses nothing of a residual/inception branch) and it ends
a block: a pooling/merge layer, the activation right after a merge, the layer before a
branching block, a change of block name, or the last layer. MobileNetV2 has 24 of them: too
many to choose from. So at most ``MAX_RECOMMENDED`` are *recommended*, each with a one-line
reason: the last block end of each resolution stage (where the feature map halves), deepest
stages first. The default cut is the last layer (the backbone's final feature map). Listings
are cached: building a backbone takes seconds.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import re
from dataclasses import dataclass
from typing import Any

from core.config.backbones import get_backbone, validate_input_size
from core.errors import StudioError
from core.model.backbones import build_backbone
from core.model.keras_graph import inbound_tensors, producer

_MERGE_TYPES = {"Add", "Concatenate", "Multiply"}
_POOL_TYPES = {"MaxPooling2D", "AveragePooling2D"}
_ACTIVATION_TYPES = {"Activation", "ReLU"}
_PADDING_TYPES = {"ZeroPadding2D"}
# Why to cut at the end of a stage, by how many stages it lies below the final feature map.
# Earlier stages (edges and colours at half the input size) are left out: rarely worth it.
_STAGE_REASONS = (
    "the most ImageNet-specific features; the usual choice",
    "high-level features with more spatial detail; try it when your images look unlike "
    "ImageNet photos",
    "mid-level features (object parts) from a much smaller, faster backbone",
    "lower-level features (textures, patterns); small and fast, needs a stronger head",
)
MAX_RECOMMENDED = len(_STAGE_REASONS)


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
        block_end: True for block outputs that carry everything downstream (the places a
            fine-tune phase can sensibly unfreeze from).
        recommended: True for the (at most ``MAX_RECOMMENDED``) suggested cut points.
        reason: One line saying why a recommended cut is a good one; None for the others.
    """

    name: str
    type: str
    output_shape: list[int | None]
    params: int
    params_below: int
    position: int
    block_end: bool
    recommended: bool = False
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return dataclasses.asdict(self)


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
        tensors = inbound_tensors(op)
        parents.append([index[id(producer(t))] for t in tensors if id(producer(t)) in index])
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


def _block_end(layers: list[Any], cuts: list[bool], position: int) -> bool:
    layer = layers[position]
    if position == 0 or not cuts[position] or len(layer.output.shape) != 4:
        return False
    if position == len(layers) - 1:
        return True
    kind = type(layer).__name__
    previous = type(layers[position - 1]).__name__
    following = type(layers[position + 1]).__name__
    if kind in _MERGE_TYPES and following in _ACTIVATION_TYPES and cuts[position + 1]:
        return False  # the activation right after the merge is the block output
    if kind in _MERGE_TYPES | _POOL_TYPES or previous in _MERGE_TYPES:
        return True
    if not cuts[position + 1]:
        return True  # a branching block starts right after this layer
    here, after = _block_key(layer.name), _block_key(layers[position + 1].name)
    return here is not None and after is not None and here != after


def _shape_text(shape: Any) -> str:
    return "×".join(str(dim) for dim in list(shape)[1:])


def _block_output(layers: list[Any], position: int) -> bool:
    """False for block ends that start the next block rather than end one: the layer right
    after a merge that is not its activation (MobileNetV2's ``block_13_expand``), and
    padding. Those are fine places to unfreeze from, odd places to cut."""
    kind = type(layers[position]).__name__
    after_merge = position > 0 and type(layers[position - 1]).__name__ in _MERGE_TYPES
    return kind not in _PADDING_TYPES and (not after_merge or kind in _ACTIVATION_TYPES)


def _recommended_cuts(layers: list[Any], block_ends: list[bool]) -> dict[int, str]:
    """Position -> reason for the recommended cuts: per resolution stage, its last block output.

    A stage's depth is how many times its feature map halves before the final one (14×14 is
    one stage below 7×7); stages deeper than ``MAX_RECOMMENDED - 1`` halvings are left out, and
    of two stages at the same depth (71×71 and 73×73) the later one is kept.
    """
    ends = [i for i, end in enumerate(block_ends) if end and _block_output(layers, i)]
    if not ends:
        return {}
    final_side = max(int(layers[ends[-1]].output.shape[1] or 1), 1)
    reasons: dict[int, str] = {}
    depths_seen: set[int] = set()
    for position in reversed(ends):
        side = int(layers[position].output.shape[1] or final_side)
        depth = round(math.log2(max(side, final_side) / final_side))
        if depth in depths_seen or depth >= MAX_RECOMMENDED:
            continue
        depths_seen.add(depth)
        shape = _shape_text(layers[position].output.shape)
        where = "Final feature map" if not reasons else "Last block at"
        reasons[position] = f"{where} {shape}: {_STAGE_REASONS[depth]}."
    return reasons


@functools.lru_cache(maxsize=32)
def _cached_layers(backbone_id: str, input_size: int) -> tuple[LayerInfo, ...]:
    model = build_backbone(backbone_id, input_size, weights="none")
    operations, op_cuts, op_below = _graph_facts(model)
    op_index = {id(op): i for i, op in enumerate(operations)}
    layers = list(model.layers)
    cuts = [op_cuts[op_index[id(layer)]] for layer in layers]
    block_ends = [_block_end(layers, cuts, position) for position in range(len(layers))]
    reasons = _recommended_cuts(layers, block_ends)
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
                block_end=block_ends[position],
                recommended=position in reasons,
                reason=reasons.get(position),
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
