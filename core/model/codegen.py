"""Generate a standalone Keras script that rebuilds the model a ``ModelConfig`` describes.

The script needs only ``keras`` and ``numpy`` (no studio code) and uses public Keras API only
(the re-stacking goes through ``keras.models.clone_model``, so a Keras upgrade cannot break a
user's script through a private field): it builds the backbone, the in-model preprocessing,
re-stacks the backbone up to the cut (applying any layer surgery), adds the head and applies
the freeze policy, then prints the summary. ``tests/core/model/test_codegen.py`` executes it
and checks that its layers and parameter counts equal ``build_model``'s.
"""

from __future__ import annotations

import json

from core.config.backbones import get_backbone
from core.config.model import FreezeConfig, HeadConfig, ModelConfig, SurgeryConfig
from core.model.surgery import surgery_layer_name

_PREPROCESSING = {
    "none": ["    return x  # the backbone rescales its input itself"],
    "tf": [
        "    # Scale 0..255 to -1..1.",
        '    return keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="preprocess_scale")(x)',
    ],
    "torch": [
        '    x = keras.layers.Rescaling(1.0 / 255.0, name="preprocess_scale")(x)',
        "    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]",
        "    variance = [s**2 for s in std]",
        "    normalize = keras.layers.Normalization(",
        '        mean=mean, variance=variance, name="preprocess_normalize"',
        "    )",
        "    return normalize(x)",
    ],
    "caffe": [
        "    # RGB -> BGR and ImageNet mean subtraction as a fixed 1x1 convolution.",
        '    conv = keras.layers.Conv2D(3, 1, trainable=False, name="preprocess_caffe_bgr_mean")',
        "    y = conv(x)",
        "    kernel = np.zeros((1, 1, 3, 3), dtype=\"float32\")",
        "    for out_channel, in_channel in enumerate((2, 1, 0)):",
        "        kernel[0, 0, in_channel, out_channel] = 1.0",
        "    conv.set_weights([kernel, -np.array([103.939, 116.779, 123.68], dtype=\"float32\")])",
        "    return y",
    ],
}  # fmt: skip

_RESTACK = '''

def canonical_names(model):
    """Renames auto-named layers (conv2d_187) by their order in this model, as the studio does."""
    seen = {}
    for op in model.operations:
        name = re.sub("(.)([A-Z][a-z]+)", r"\\1_\\2", type(op).__name__)
        base = re.sub("([a-z])([A-Z])", r"\\1_\\2", name).lower()
        if re.fullmatch(re.escape(base) + r"(_\\d+)?", op.name):
            count = seen.get(base, 0)
            op.name = base if count == 0 else f"{base}_{count}"
            seen[base] = count + 1
    return model


def restack(base, x, cut_layer):
    """Calls the backbone's layers up to cut_layer on x, applying REPLACE and INSERT_AFTER."""
    cut = keras.Model(base.input, base.get_layer(cut_layer).output)
    names = [layer.name for layer in cut.layers]
    bypassed = set()  # the layers after the first one of a replaced run
    for first, (last, _) in REPLACE.items():
        bypassed.update(names[names.index(first) + 1 : names.index(last) + 1])
    outputs = {}

    def call(layer, *args, **kwargs):
        if layer.name in REPLACE:
            y = REPLACE[layer.name][1]()(args[0])
        elif layer.name in bypassed:
            y = args[0]  # the new layer already stands for the whole run
        else:
            y = layer(*args, **kwargs)
        if layer.name in INSERT_AFTER:
            y = INSERT_AFTER[layer.name]()(y)
        outputs[layer.name] = y
        return y

    # clone_model calls `call` on every layer in the order Keras runs the graph; returning the
    # layer itself instead of a copy reuses it, so every untouched layer keeps its weights.
    keras.models.clone_model(
        cut, input_tensors=x, clone_function=lambda layer: layer, call_function=call
    )
    return outputs[cut_layer]
'''


def _lit(value: object) -> str:
    """A Python literal for ``value`` (double-quoted strings, as ruff format writes them)."""
    return json.dumps(value) if isinstance(value, str | list) else repr(value)


def _layer_expr(op: SurgeryConfig, index: int) -> str:
    name = _lit(surgery_layer_name(op, index))
    exprs = {
        "Conv2D": f"keras.layers.Conv2D({op.filters}, {op.kernel_size}, strides={op.strides}, "
        f"padding={_lit(op.padding)}, activation={_lit(op.activation)}, name={name}",
        "DepthwiseConv2D": f"keras.layers.DepthwiseConv2D({op.kernel_size}, strides={op.strides}, "
        f"padding={_lit(op.padding)}, activation={_lit(op.activation)}, name={name}",
        "BatchNormalization": f"keras.layers.BatchNormalization(name={name}",
        "Dropout": f"keras.layers.Dropout({op.rate}, name={name}",
        "MaxPooling2D": f"keras.layers.MaxPooling2D({op.kernel_size}, strides={op.strides}, "
        f"padding={_lit(op.padding)}, name={name}",
    }
    return f"{exprs[op.layer_type]}, trainable={op.trainable})"


def _surgery_lines(ops: tuple[SurgeryConfig, ...]) -> list[str]:
    replace = [
        f"    {_lit(op.first)}: ({_lit(op.last_layer)}, lambda: {_layer_expr(op, i)}),"
        for i, op in enumerate(ops)
        if op.action == "replace"
    ]
    insert = [
        f"    {_lit(op.first)}: lambda: {_layer_expr(op, i)},"
        for i, op in enumerate(ops)
        if op.action == "insert_after"
    ]
    return [
        "# Layer surgery: first replaced layer -> (last replaced layer, new layer); and",
        "# layer name -> new layer inserted after it.",
        *(["REPLACE = {", *replace, "}"] if replace else ["REPLACE = {}"]),
        *(["INSERT_AFTER = {", *insert, "}"] if insert else ["INSERT_AFTER = {}"]),
    ]


def _head_lines(head: HeadConfig, num_classes: int) -> list[str]:
    lines = ['    x = features = keras.Input(feature_shape, name="features")']
    for i, block in enumerate(head.conv_blocks, start=1):
        lines.append(
            f"    x = keras.layers.Conv2D({block.filters}, {block.kernel_size}, "
            f"padding={_lit(block.padding)}, activation={_lit(block.activation)}, "
            f'name="head_conv{i}")(x)'
        )
        if block.pool_size > 1:
            lines.append(
                f'    x = keras.layers.MaxPooling2D({block.pool_size}, name="head_pool{i}")(x)'
            )
    pooling = {
        "avg": 'keras.layers.GlobalAveragePooling2D(name="head_avg_pool")(x)',
        "max": 'keras.layers.GlobalMaxPooling2D(name="head_max_pool")(x)',
        "flatten": 'keras.layers.Flatten(name="head_flatten")(x)',
    }[head.pooling]
    lines.append(f"    if len(x.shape) == 4:\n        x = {pooling}")
    for i, dense in enumerate(head.dense, start=1):
        lines.append(
            f"    x = keras.layers.Dense({dense.units}, activation={_lit(dense.activation)}, "
            f'name="head_dense{i}")(x)'
        )
        if dense.batch_norm:
            lines.append(f'    x = keras.layers.BatchNormalization(name="head_bn{i}")(x)')
        if dense.dropout > 0:
            lines.append(
                f'    x = keras.layers.Dropout({dense.dropout}, name="head_dropout{i}")(x)'
            )
    if head.dropout > 0:
        lines.append(f'    x = keras.layers.Dropout({head.dropout}, name="head_dropout")(x)')
    units, activation = (1, "sigmoid") if head.output == "sigmoid" else (num_classes, "softmax")
    lines.append(
        f'    outputs = keras.layers.Dense({units}, activation="{activation}", '
        'name="predictions")(x)'
    )
    lines.append('    return keras.Model(features, outputs, name="head")')
    return lines


def _freeze_lines(freeze: FreezeConfig, keep_frozen: list[str]) -> list[str]:
    frozen = {
        "backbone": "len(layers)",
        "all_but_last": "len(layers)",
        "none": "0",
        "first_n": f"min({freeze.n}, len(layers))",
        "last_n_trainable": f"max(len(layers) - {freeze.n}, 0)",
        "up_to": f"[layer.name for layer in layers].index({_lit(freeze.layer)}) + 1",
    }[freeze.policy]
    return [
        f"    # Freeze policy {_lit(freeze.policy)}: the first `frozen` backbone layers keep their",
        "    # weights; BatchNormalization always stays frozen (= inference mode in Keras 3).",
        '    layers = [ly for ly in extractor.layers if not ly.name.startswith("preprocess_")]',
        f"    frozen = {frozen}",
        f"    keep_frozen = {_lit(keep_frozen)}",
        "    for position, layer in enumerate(layers):",
        "        is_bn = isinstance(layer, keras.layers.BatchNormalization)",
        "        keep = layer.name in keep_frozen",
        "        layer.trainable = position >= frozen and not keep and not is_bn",
        "    for layer in extractor.layers:",
        '        if layer.name.startswith("preprocess_"):',
        "            layer.trainable = False",
        "    for layer in head.layers:",
        "        "
        + (
            'layer.trainable = layer.name == "predictions"'
            if freeze.policy == "all_but_last"
            else "layer.trainable = True"
        ),
    ]


def _build_lines(spec: ModelConfig, keras_name: str) -> list[str]:
    weights = "None" if spec.weights == "none" else '"imagenet"'
    keep_frozen = [
        surgery_layer_name(op, i) for i, op in enumerate(spec.surgery) if not op.trainable
    ]
    return [
        "def build_model():",
        '    """Returns the model: raw RGB images (0..255) in, class probabilities out."""',
        f"    base = keras.applications.{keras_name}(",
        f"        weights={weights}, include_top=False, input_shape=(INPUT_SIZE, INPUT_SIZE, 3)",
        "    )",
        "    canonical_names(base)",
        '    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 3), name="image")',
        "    cut_layer = CUT_LAYER or base.layers[-1].name",
        "    features = restack(base, add_preprocessing(inputs), cut_layer)",
        '    extractor = keras.Model(inputs, features, name="feature_extractor")',
        "    head = build_head(tuple(features.shape[1:]))",
        *_freeze_lines(spec.freeze, keep_frozen),
        f'    return keras.Model(inputs, head(features), name="{spec.backbone}_classifier")',
    ]


def generate_code(spec: ModelConfig, num_classes: int) -> str:
    """Returns a standalone Python script that rebuilds ``spec`` for ``num_classes`` classes.

    The script defines ``build_model()`` returning the Keras model and prints its summary when
    run. With ``weights="imagenet"`` Keras downloads the weights (or reads its cache).
    """
    info = get_backbone(spec.backbone)
    cut = _lit(spec.cut_layer) if spec.cut_layer else "None  # None = the last layer"
    parts = [
        f'"""Rebuilds a {info.keras_name} transfer-learning model (generated by the studio)."""',
        "",
        "import re",
        "",
        "import keras",
        *(["import numpy as np"] if info.preprocess == "caffe" else []),
        "",
        f"INPUT_SIZE = {spec.resolved_input_size}",
        f"NUM_CLASSES = {num_classes}",
        f"CUT_LAYER = {cut}",
        *_surgery_lines(spec.surgery),
        "",
        "",
        "def add_preprocessing(x):",
        f'    """{info.keras_name} preprocessing ("{info.preprocess}" mode), built-in layers."""',
        *_PREPROCESSING[info.preprocess],
        _RESTACK,
        "",
        "def build_head(feature_shape):",
        *_head_lines(spec.head, num_classes),
        "",
        "",
        *_build_lines(spec, info.keras_name),
        "",
        "",
        'if __name__ == "__main__":',
        "    build_model().summary()",
    ]
    return "\n".join(parts)
