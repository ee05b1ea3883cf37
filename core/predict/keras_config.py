"""What a ``.keras`` file's ``config.json`` says, read without Keras: inputs, layers, variables.

``read_config`` parses the config (refusing one nested deeper than ``MAX_JSON_DEPTH``, so a
file of 100,000 brackets is a plain refusal, not a ``RecursionError``), walks its layers and
nested models without recursion, and adds up the variables each layer will allocate when it is
built (``core.predict.layer_params``). The result is what loading the file would create, known
before anything is built: ``core.predict.model_file.check_keras_archive`` compares it with the
caps and with the weights file.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from core.errors import ModelFileError
from core.predict.layer_params import Shape, count_values, variable_shapes

MAX_JSON_DEPTH = 100  # a Keras config nests about 12 levels per model, 4 more per nested model
MAX_NESTED_MODELS = 16
MAX_LAYERS = 20_000  # the largest keras.applications network has about 1,000
CONTAINERS = ("Functional", "Sequential", "Model")
_SHAPE_KEYS = ("batch_shape", "batch_input_shape")
CODE_REFUSAL = (
    "This model file contains Python code (for example a Lambda layer), which could run "
    "anything on the server, so it was refused. Save the model using only built-in Keras "
    "layers and upload it again."
)


@dataclass(frozen=True)
class ConfigFacts:
    """What loading the model would create, read from its config.

    Attributes:
        input_side: the largest spatial side of the model's inputs (None when not declared).
        params: numbers held by all its variables (what ``model.count_params()`` will say).
        variables: (layer name, variable shape) -> how many, as the weights file must hold them.
        largest_input: the most numbers one layer takes in for one image (its activation size).
    """

    input_side: int | None
    params: int
    variables: Counter[tuple[str, Shape]]
    largest_input: int


def parse_config(raw: bytes) -> dict[str, Any]:
    """The config as a dict, or a plain refusal (not JSON, not an object, nested too deep)."""
    try:
        config = json.loads(raw.decode("utf-8"))
    except RecursionError as error:  # the C decoder gives up at about 1,000 levels
        raise _too_deep() from error
    except (UnicodeDecodeError, ValueError) as error:
        raise ModelFileError(
            "The file could not be read as a Keras model (its config.json is not valid JSON)."
        ) from error
    if not isinstance(config, dict):
        raise ModelFileError("The file could not be read as a Keras model (config.json).")
    _check_depth(config)
    return config


def _too_deep() -> ModelFileError:
    return ModelFileError(
        f"The model's config.json is nested more than {MAX_JSON_DEPTH} levels deep, which no "
        "real model needs, so it was refused."
    )


def _check_depth(root: Any) -> None:
    """Refuses JSON nested deeper than ``MAX_JSON_DEPTH`` (walked without recursion)."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        children = node.values() if isinstance(node, dict) else node
        stack += [(c, depth + 1) for c in children if isinstance(c, dict | list)]


def _side(shape: Any) -> int | None:
    """The largest spatial size of a ``(batch, height, width, channels)``-like shape."""
    if not isinstance(shape, list):
        return None
    spatial = shape[1:-1] if len(shape) >= 3 else shape[1:]
    sides = [v for v in spatial if isinstance(v, int) and not isinstance(v, bool)]
    return max(sides, default=None)


def _values_per_image(shape: Any) -> int:
    if not isinstance(shape, list) or len(shape) < 2:
        return 0
    dims = [v for v in shape[1:] if isinstance(v, int) and not isinstance(v, bool) and v > 0]
    return math.prod(dims) if len(dims) == len(shape) - 1 else 0


class _Walk:
    """The running totals of one config walk."""

    def __init__(self) -> None:
        self.sides: list[int] = []
        self.variables: Counter[tuple[str, Shape]] = Counter()
        self.largest_input = 0
        self.layers = 0

    def layer(self, node: dict[str, Any]) -> None:
        """Books one (non-container) layer's variables and input."""
        self.layers += 1
        if self.layers > MAX_LAYERS:
            raise ModelFileError(f"The model has more than {MAX_LAYERS:,} layers; refused.")
        kind, config = str(node.get("class_name")), node.get("config")
        config = config if isinstance(config, dict) else {}
        if kind == "Lambda" or kind.startswith("TorchModule"):
            raise ModelFileError(CODE_REFUSAL)
        if kind == "InputLayer":
            self.sides += [s for k in _SHAPE_KEYS if (s := _side(config.get(k))) is not None]
        build = node.get("build_config")
        shape = build.get("input_shape") if isinstance(build, dict) else None
        self.largest_input = max(self.largest_input, _values_per_image(shape))
        name = str(config.get("name", node.get("name", "")))
        for variable in variable_shapes(kind, config, shape):
            self.variables[(name, variable)] += 1


def read_config(config: dict[str, Any]) -> ConfigFacts:
    """Walks the model's layers (nested models included) and totals what building them creates.

    Raises:
        ModelFileError: a layer that cannot be counted, Python code, too many layers or models.
    """
    walk = _Walk()
    root_build = config.get("build_config")
    if isinstance(root_build, dict) and (side := _side(root_build.get("input_shape"))):
        walk.sides.append(side)  # a Sequential model without an InputLayer keeps it there
    stack: list[tuple[dict[str, Any], int]] = [(config, 0)]
    while stack:
        node, depth = stack.pop()
        inner = node.get("config")
        if node.get("class_name") in CONTAINERS and isinstance(inner, dict):
            if depth >= MAX_NESTED_MODELS:
                raise ModelFileError("The model nests more models inside each other than allowed.")
            if (side := _side(inner.get("build_input_shape"))) is not None:
                walk.sides.append(side)
            layers = inner.get("layers")
            stack += [(layer, depth + 1) for layer in layers or [] if isinstance(layer, dict)]
        else:
            walk.layer(node)
    params = sum(count_values([shape]) * n for (_, shape), n in walk.variables.items())
    side = max(walk.sides, default=None)
    return ConfigFacts(side, params, walk.variables, walk.largest_input)
