"""Grad-CAM: which part of the image made the model choose a class.

Grad-CAM (Selvaraju et al., 2017) weights each channel of a convolutional feature map by the mean
gradient of the class score with respect to it, sums the channels and keeps the positive part.
We use the LAST spatial feature map of the model: the cut point output (the backbone part of a
studio model) or a convolution in the head when the head has one.

Studio models are nested (``model = head(feature_extractor(input))``), so a feature map inside a
sub-model is not a tensor of the outer graph. Instead of rewiring graphs, the model is unrolled
into a sequence of stages (descending into sub-models that are simple chains) and the unrolling
is verified numerically against the model; the forward pass is then split at the chosen stage.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from core.errors import StudioError
from core.model.keras_graph import inbound_tensors_per_call, producer

# Planning probes the model a few times; remember the plan per (read-only) model object.
_PLANS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _is_input_layer(layer: Any) -> bool:
    return type(layer).__name__ == "InputLayer"


def _unroll(model: Any) -> list[tuple[str, Any]]:
    """Lists (name, layer) stages whose composition equals ``model`` (sub-models expanded).

    A sub-model is expanded only when its own layers form a simple chain, which is checked
    numerically; otherwise (e.g. a backbone with skip connections) it stays one stage.
    """
    stages: list[tuple[str, Any]] = []
    for layer in model.layers:
        if _is_input_layer(layer):
            continue
        inner = _unroll(layer) if hasattr(layer, "layers") and layer.layers else []
        if inner and _chain_matches(layer, [stage for _, stage in inner]):
            stages.extend(inner)
        else:
            stages.append((layer.name, layer))
    return stages


def _probe_input(model: Any) -> np.ndarray | None:
    """A fixed random input matching the model's input shape, or None if unknown."""
    shape = tuple(model.inputs[0].shape) if getattr(model, "inputs", None) else ()
    if not shape or any(dim is None for dim in shape[1:]):
        return None
    return np.random.default_rng(0).uniform(0, 255, (1, *shape[1:])).astype(np.float32)


def _chain_matches(model: Any, layers: list[Any]) -> bool:
    """True when applying ``layers`` in order reproduces ``model`` on a probe input."""
    probe = _probe_input(model)
    if probe is None or len(getattr(model, "inputs", [])) != 1:
        return False
    try:
        expected = np.asarray(model(probe, training=False))
        value = probe
        for layer in layers:
            value = layer(value, training=False)
        return bool(np.allclose(np.asarray(value), expected, rtol=1e-4, atol=1e-5))
    except Exception:  # a layer that needs several inputs: not a chain
        return False


def _spatial(shape: Any) -> bool:
    """True for a (batch, h, w, channels) shape with a spatial size above 1x1."""
    shape = tuple(shape)
    return len(shape) == 4 and (shape[1] or 0) > 1 and (shape[2] or 0) > 1


def _chain_target(stages: list[Any], start: Any) -> int:
    """Index of the last stage with a spatial output when ``start`` runs through ``stages``."""
    value, target = start, -1
    for index, layer in enumerate(stages):
        value = layer(value, training=False)
        if _spatial(value.shape):
            target = index
    return target


def _outer_input_of(model: Any, sub_model: Any) -> Any:
    """The tensor of ``model``'s graph that feeds ``sub_model`` (None if not found)."""
    import keras

    for tensors in inbound_tensors_per_call(sub_model):
        if len(tensors) != 1:
            continue
        try:
            keras.Model(model.inputs, tensors[0])  # raises when not part of this graph
        except Exception:
            continue
        return tensors[0]
    return None


class _Forward:
    """Computes (feature map, model output) in one pass so the tape links them.

    Three ways, tried in order by ``_plan``: (1) the model unrolls into a chain of stages
    (nested sub-models expanded) and is split at the last spatial stage; (2) the model's last
    layer is a chain sub-model (the studio head) with a convolution: the outer graph computes
    the head's input, the head is split inside; (3) the last top-level layer with a spatial
    output is read as a second output of a rebuilt functional model (the cut point).
    """

    def __init__(self, pre: Any, post: Any, layer_name: str) -> None:
        self.pre, self.post, self.layer_name = pre, post, layer_name

    def __call__(self, tape: Any, batch: Any) -> tuple[Any, Any]:
        tape.watch(batch)  # frozen layers have no watched variables: follow the input instead
        feature_map = self.pre(batch)
        tape.watch(feature_map)
        return feature_map, self.post(feature_map)


def _run(stages: list[Any], value: Any) -> Any:
    for layer in stages:
        value = layer(value, training=False)
    return value


def _plan(model: Any) -> _Forward:
    """Chooses how to reach the model's last spatial feature map (see ``_Forward``)."""
    import keras

    named = _unroll(model)
    stages = [layer for _, layer in named]
    if _chain_matches(model, stages):
        target = _chain_target(stages, _probe_input(model))
        if target >= 0:
            return _Forward(
                lambda x: _run(stages[: target + 1], x),
                lambda a: _run(stages[target + 1 :], a),
                named[target][0],
            )
    last = model.layers[-1]
    head_input = _outer_input_of(model, last) if hasattr(last, "layers") else None
    if head_input is not None and _spatial(head_input.shape):
        outer = keras.Model(model.inputs, head_input)
        inner = [layer for _, layer in _unroll(last)]
        probe = np.zeros((1, *tuple(head_input.shape)[1:]), np.float32)
        if _chain_matches(last, inner) and (target := _chain_target(inner, probe)) >= 0:
            return _Forward(
                lambda x: _run(inner[: target + 1], outer(x, training=False)),
                lambda a: _run(inner[target + 1 :], a),
                inner[target].name,
            )
        # No convolution in the head: use the cut point, i.e. the head's input.
        return _Forward(
            lambda x: outer(x, training=False),
            lambda a: last(a, training=False),
            producer(head_input).name,
        )
    for layer in reversed(model.layers):
        if not _is_input_layer(layer) and _spatial(layer.output.shape):
            try:
                both = keras.Model(model.inputs, [layer.output, *model.outputs])
            except Exception:
                continue
            return _TwoOutputs(both, layer.name)
    raise StudioError(
        "Grad-CAM needs a convolutional feature map, and this model has none with a "
        "spatial size above 1x1."
    )


class _TwoOutputs(_Forward):
    """Route (3): one functional model returning the feature map and the output together."""

    def __init__(self, both: Any, layer_name: str) -> None:
        super().__init__(None, None, layer_name)
        self.both = both

    def __call__(self, tape: Any, batch: Any) -> tuple[Any, Any]:
        tape.watch(batch)
        feature_map, output = self.both(batch, training=False)
        return feature_map, output


def find_target_layer(model: Any) -> str:
    """Name of the layer whose output Grad-CAM uses (the last spatial feature map)."""
    return _cached_plan(model).layer_name


def _cached_plan(model: Any) -> _Forward:
    plan = _PLANS.get(model)
    if plan is None:
        plan = _PLANS[model] = _plan(model)
    return plan


def grad_cam(model: Any, image: np.ndarray, class_index: int) -> tuple[np.ndarray, str]:
    """Computes a Grad-CAM heatmap for one raw image.

    Args:
        model: the classifier (raw 0..255 RGB in).
        image: float array (size, size, 3) with values 0..255.
        class_index: the class to explain (for a one-unit sigmoid model: 0 or 1).

    Returns:
        (heatmap of the feature map's size with values 0..1, name of the layer used).
    """
    import tensorflow as tf

    plan = _cached_plan(model)
    batch = tf.convert_to_tensor(np.asarray(image, np.float32)[None])
    with tf.GradientTape() as tape:
        feature_map, output = plan(tape, batch)
        if output.shape[-1] == 1:  # sigmoid: class 1 is p, class 0 is 1 - p
            score = output[:, 0] if class_index == 1 else 1.0 - output[:, 0]
        else:
            score = output[:, class_index]
    gradients = tape.gradient(score, feature_map)
    if gradients is None:
        raise StudioError("Grad-CAM could not follow the model's gradients.")
    channel_weights = tf.reduce_mean(gradients, axis=(1, 2))  # (1, channels)
    cam = tf.nn.relu(tf.reduce_sum(feature_map * channel_weights[:, None, None, :], axis=-1))[0]
    cam_array = np.asarray(cam, dtype=np.float64)
    peak = cam_array.max()
    return (cam_array / peak if peak > 0 else cam_array).astype(np.float32), plan.layer_name


def _colormap(values: np.ndarray) -> np.ndarray:
    """Maps 0..1 values to RGB with a blue-to-red ramp similar to 'jet' (no matplotlib needed)."""
    values = np.clip(values, 0.0, 1.0)
    red = np.clip(1.5 - np.abs(4 * values - 3), 0, 1)
    green = np.clip(1.5 - np.abs(4 * values - 2), 0, 1)
    blue = np.clip(1.5 - np.abs(4 * values - 1), 0, 1)
    return np.stack([red, green, blue], axis=-1) * 255.0


def overlay(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """Blends a 0..1 heatmap (any size) over a raw 0..255 image; returns uint8 RGB."""
    from PIL import Image

    height, width = image.shape[:2]
    resized = Image.fromarray((np.clip(heatmap, 0, 1) * 255).astype(np.uint8)).resize(
        (width, height), Image.Resampling.BILINEAR
    )
    colours = _colormap(np.asarray(resized, np.float32) / 255.0)
    blended = (1 - alpha) * np.asarray(image, np.float32) + alpha * colours
    return np.clip(blended, 0, 255).astype(np.uint8)
