"""What the user chose for the model, as frozen dataclasses with a JSON round trip.

``ModelConfig`` holds the backbone, input size, weights, cut layer, layer surgery, head and freeze
policy. Every class validates itself in ``__post_init__`` and raises ``ValueError`` with a plain
sentence; ``ConfigMixin.from_dict`` refuses unknown keys by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.config.backbones import WEIGHT_CHOICES, get_backbone, validate_input_size
from core.config.base import ConfigMixin

ACTIVATIONS = ("relu", "gelu", "swish", "elu", "selu", "tanh", "sigmoid", "softplus", "linear")
POOLINGS = ("avg", "max", "flatten")
OUTPUTS = ("softmax", "sigmoid")
FREEZE_POLICIES = ("backbone", "first_n", "up_to", "last_n_trainable", "all_but_last", "none")
SURGERY_ACTIONS = ("replace", "insert_after")
SURGERY_LAYERS = ("Conv2D", "DepthwiseConv2D", "BatchNormalization", "Dropout", "MaxPooling2D")
PADDINGS = ("same", "valid")


def _check_activation(value: str | None, what: str) -> None:
    if value is not None and value not in ACTIVATIONS:
        raise ValueError(
            f"{what} activation must be one of {', '.join(ACTIVATIONS)}, got '{value}'."
        )


def _check_rate(value: float, what: str) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{what} must be between 0 and 1 (1 excluded), got {value}.")


@dataclass(frozen=True)
class DenseConfig(ConfigMixin):
    """One fully connected layer of the head, optionally followed by BatchNorm and Dropout."""

    units: int = 128
    activation: str = "relu"
    dropout: float = 0.0
    batch_norm: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.units <= 65536:
            raise ValueError(f"A dense layer needs between 1 and 65536 units, got {self.units}.")
        _check_activation(self.activation, "Dense layer")
        _check_rate(self.dropout, "Dropout")


@dataclass(frozen=True)
class ConvBlockConfig(ConfigMixin):
    """A Conv2D (+ optional max pooling) block placed on the feature map before pooling."""

    filters: int = 64
    kernel_size: int = 3
    padding: str = "valid"
    activation: str = "relu"
    pool_size: int = 2  # 0 or 1 = no pooling

    def __post_init__(self) -> None:
        if not 1 <= self.filters <= 8192:
            raise ValueError(f"A convolution needs 1 to 8192 filters, got {self.filters}.")
        if not 1 <= self.kernel_size <= 15:
            raise ValueError(f"Kernel size must be between 1 and 15, got {self.kernel_size}.")
        if self.padding not in PADDINGS:
            raise ValueError(f"Padding must be 'same' or 'valid', got '{self.padding}'.")
        if not 0 <= self.pool_size <= 8:
            raise ValueError(f"Pool size must be between 0 and 8, got {self.pool_size}.")
        _check_activation(self.activation, "Convolution")


@dataclass(frozen=True)
class HeadConfig(ConfigMixin):
    """The classifier stacked on the cut: conv blocks, pooling, dense layers, output."""

    conv_blocks: tuple[ConvBlockConfig, ...] = ()
    pooling: str = "avg"
    dense: tuple[DenseConfig, ...] = ()
    dropout: float = 0.2
    output: str = "softmax"

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"Pooling must be one of {', '.join(POOLINGS)}, got '{self.pooling}'.")
        if self.output not in OUTPUTS:
            raise ValueError(f"Output must be 'softmax' or 'sigmoid', got '{self.output}'.")
        _check_rate(self.dropout, "Dropout before the output")


@dataclass(frozen=True)
class FreezeConfig(ConfigMixin):
    """Which layers keep their weights fixed during training.

    Policies: ``backbone`` (everything below the head), ``first_n`` (the first ``n`` backbone
    layers, counting the input layer as Keras does), ``up_to`` (up to and including ``layer``),
    ``last_n_trainable`` (only the last ``n`` backbone layers train), ``all_but_last`` (only
    the output layer trains) and ``none`` (everything trains).
    """

    policy: str = "backbone"
    n: int = 0
    layer: str | None = None

    def __post_init__(self) -> None:
        if self.policy not in FREEZE_POLICIES:
            raise ValueError(
                f"Freeze policy must be one of {', '.join(FREEZE_POLICIES)}, got '{self.policy}'."
            )
        if self.n < 0:
            raise ValueError(f"The number of layers cannot be negative, got {self.n}.")
        if self.policy == "up_to" and not self.layer:
            raise ValueError("Freezing 'up to a layer' needs the name of that layer.")


@dataclass(frozen=True)
class SurgeryConfig(ConfigMixin):
    """Replace the run ``first``..``last`` by one new layer, or insert one after ``first``."""

    action: str = "replace"
    first: str = ""
    last: str | None = None
    layer_type: str = "Conv2D"
    filters: int = 64
    kernel_size: int = 3
    strides: int = 1
    padding: str = "same"
    activation: str | None = "relu"
    rate: float = 0.5
    name: str | None = None
    trainable: bool = True

    def __post_init__(self) -> None:
        if self.action not in SURGERY_ACTIONS:
            raise ValueError(
                f"Surgery action must be 'replace' or 'insert_after', got '{self.action}'."
            )
        if not self.first:
            raise ValueError("A surgery step needs the name of the layer it starts at.")
        if self.action == "insert_after" and self.last is not None:
            raise ValueError("Inserting a layer takes one layer name ('first'), not a range.")
        if self.layer_type not in SURGERY_LAYERS:
            raise ValueError(
                f"New layer type must be one of {', '.join(SURGERY_LAYERS)}, "
                f"got '{self.layer_type}'."
            )
        if self.filters < 1 or self.kernel_size < 1 or self.strides < 1:
            raise ValueError("Filters, kernel size and strides must be at least 1.")
        if self.padding not in PADDINGS:
            raise ValueError(f"Padding must be 'same' or 'valid', got '{self.padding}'.")
        _check_activation(self.activation, "New layer")
        _check_rate(self.rate, "Dropout rate")

    @property
    def last_layer(self) -> str:
        """The last replaced layer (``first`` when a single layer is replaced)."""
        return self.last or self.first


@dataclass(frozen=True)
class ModelConfig(ConfigMixin):
    """The whole model: backbone, input size, weights, cut, surgery, head, freezing."""

    backbone: str = "mobilenet_v2"
    input_size: int | None = None
    weights: str = "imagenet"
    cut_layer: str | None = None
    surgery: tuple[SurgeryConfig, ...] = ()
    head: HeadConfig = field(default_factory=HeadConfig)
    freeze: FreezeConfig = field(default_factory=FreezeConfig)

    def __post_init__(self) -> None:
        info = get_backbone(self.backbone)
        if self.weights not in WEIGHT_CHOICES:
            raise ValueError(f"Weights must be 'imagenet' or 'none', got '{self.weights}'.")
        if self.input_size is not None:
            if self.input_size > 1024:
                raise ValueError(f"Input size must be at most 1024 pixels, got {self.input_size}.")
            validate_input_size(info, self.input_size)

    @property
    def resolved_input_size(self) -> int:
        """The input size, or the backbone's default size when none was chosen."""
        return self.input_size or get_backbone(self.backbone).default_size
