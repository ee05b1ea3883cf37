"""The backbone registry: one row of facts per image classifier in ``keras.applications``.

Adding a backbone is adding one row to ``_ROWS`` (fastai style: data, not ``if`` chains). Each
row names the Keras constructor and module (whose ``preprocess_input`` the in-model preprocessing
reproduces), the preprocessing mode, input sizes, family, parameter count without the top and
the ImageNet top-1 accuracy from the Keras documentation. ``_SPEED_MS`` adds the published
inference times (CPU and GPU) of the Keras Applications table where it has them.

The registry is plain data (no Keras at import): a ``ModelConfig`` is validated against it.
``core.model.backbones.build_backbone`` creates the network; ``core.model.weights`` finds its
ImageNet weights file.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Literal

PreprocessMode = Literal["tf", "torch", "caffe", "none"]
WEIGHT_CHOICES = ("imagenet", "none")


@dataclass(frozen=True)
class BackboneInfo:
    """Facts about one ``keras.applications`` backbone (used without its classifier top).

    Attributes:
        id: Stable identifier used in specs, URLs and the CLI (``mobilenet_v2``).
        keras_name: Constructor name in ``keras.applications`` (``MobileNetV2``).
        keras_module: Module in ``keras.applications`` holding ``preprocess_input``.
        preprocess: Preprocessing mode: ``tf`` (-1..1), ``torch`` (ImageNet mean/std), ``caffe``
            (BGR, mean subtracted) or ``none`` (the network rescales its input itself).
        default_size: Input size the ImageNet weights were trained at.
        min_size: Smallest square input size the network accepts.
        fixed_size: True when only ``default_size`` works.
        family: Architecture family shown to users (``ResNet``, ``EfficientNet``...).
        params_no_top: Parameters of the network without its classifier (Keras count).
        imagenet_top1: ImageNet top-1 accuracy in percent from the Keras docs.
        weights_file: File name Keras uses for the no-top ImageNet weights.
        cpu_ms: "Time (ms) per inference step (CPU)" from the Keras Applications table
            (``SPEED_SOURCE``), or None where the table gives no figure.
        gpu_ms: The same table's GPU figure, or None.
        licence: Licence of the network's code and pretrained weights (``_LICENCES``), as a
            model card states it.
    """

    id: str
    keras_name: str
    keras_module: str
    preprocess: PreprocessMode
    default_size: int
    min_size: int
    fixed_size: bool
    family: str
    params_no_top: int
    imagenet_top1: float
    weights_file: str
    cpu_ms: float | None = None
    gpu_ms: float | None = None
    licence: str = ""

    @property
    def constructor(self) -> Any:
        """The ``keras.applications`` constructor (imports Keras on first use)."""
        import keras

        return getattr(keras.applications, self.keras_name)

    @property
    def preprocess_input(self) -> Any:
        """The matching ``keras.applications.<module>.preprocess_input`` function."""
        import keras

        return getattr(keras.applications, self.keras_module).preprocess_input


# (id, keras_name, module, preprocess, default, min, family, params_no_top, top1, weights file)
# params_no_top were measured with keras 3.15 (weights=None, include_top=False); a slow test
# checks every row against a freshly built network.
# fmt: off
_ROWS: tuple[tuple[str, str, str, PreprocessMode, int, int, str, int, float, str], ...] = (
    ("xception", "Xception", "xception", "tf", 299, 71, "Xception",
     20861480, 79.0, "xception_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("vgg16", "VGG16", "vgg16", "caffe", 224, 32, "VGG",
     14714688, 71.3, "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("vgg19", "VGG19", "vgg19", "caffe", 224, 32, "VGG",
     20024384, 71.3, "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("resnet50", "ResNet50", "resnet", "caffe", 224, 32, "ResNet",
     23587712, 74.9, "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("resnet101", "ResNet101", "resnet", "caffe", 224, 32, "ResNet",
     42658176, 76.4, "resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("resnet152", "ResNet152", "resnet", "caffe", 224, 32, "ResNet",
     58370944, 76.6, "resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("resnet50_v2", "ResNet50V2", "resnet_v2", "tf", 224, 32, "ResNetV2",
     23564800, 76.0, "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("resnet101_v2", "ResNet101V2", "resnet_v2", "tf", 224, 32, "ResNetV2",
     42626560, 77.2, "resnet101v2_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("resnet152_v2", "ResNet152V2", "resnet_v2", "tf", 224, 32, "ResNetV2",
     58331648, 78.0, "resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("inception_v3", "InceptionV3", "inception_v3", "tf", 299, 75, "Inception",
     21802784, 77.9, "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("inception_resnet_v2", "InceptionResNetV2", "inception_resnet_v2", "tf", 299, 75, "Inception",
     54336736, 80.3, "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("mobilenet", "MobileNet", "mobilenet", "tf", 224, 32, "MobileNet",
     3228864, 70.4, "mobilenet_1_0_224_tf_no_top.h5"),
    ("mobilenet_v2", "MobileNetV2", "mobilenet_v2", "tf", 224, 32, "MobileNet",
     2257984, 71.3, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"),
    ("mobilenet_v3_small", "MobileNetV3Small", "mobilenet_v3", "none", 224, 32, "MobileNet",
     939120, 68.1, "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"),
    ("mobilenet_v3_large", "MobileNetV3Large", "mobilenet_v3", "none", 224, 32, "MobileNet",
     2996352, 75.6, "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5"),
    ("densenet121", "DenseNet121", "densenet", "torch", 224, 32, "DenseNet",
     7037504, 75.0, "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("densenet169", "DenseNet169", "densenet", "torch", 224, 32, "DenseNet",
     12642880, 76.2, "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("densenet201", "DenseNet201", "densenet", "torch", 224, 32, "DenseNet",
     18321984, 77.3, "densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("nasnet_mobile", "NASNetMobile", "nasnet", "tf", 224, 32, "NASNet",
     4269716, 74.4, "nasnet_mobile_no_top.h5"),
    ("nasnet_large", "NASNetLarge", "nasnet", "tf", 331, 32, "NASNet",
     84916818, 82.5, "nasnet_large_no_top.h5"),
    ("efficientnet_b0", "EfficientNetB0", "efficientnet", "none", 224, 32, "EfficientNet",
     4049571, 77.1, "efficientnetb0_notop.h5"),
    ("efficientnet_b1", "EfficientNetB1", "efficientnet", "none", 240, 32, "EfficientNet",
     6575239, 79.1, "efficientnetb1_notop.h5"),
    ("efficientnet_b2", "EfficientNetB2", "efficientnet", "none", 260, 32, "EfficientNet",
     7768569, 80.1, "efficientnetb2_notop.h5"),
    ("efficientnet_b3", "EfficientNetB3", "efficientnet", "none", 300, 32, "EfficientNet",
     10783535, 81.6, "efficientnetb3_notop.h5"),
    ("efficientnet_b4", "EfficientNetB4", "efficientnet", "none", 380, 32, "EfficientNet",
     17673823, 82.9, "efficientnetb4_notop.h5"),
    ("efficientnet_b5", "EfficientNetB5", "efficientnet", "none", 456, 32, "EfficientNet",
     28513527, 83.6, "efficientnetb5_notop.h5"),
    ("efficientnet_b6", "EfficientNetB6", "efficientnet", "none", 528, 32, "EfficientNet",
     40960143, 84.0, "efficientnetb6_notop.h5"),
    ("efficientnet_b7", "EfficientNetB7", "efficientnet", "none", 600, 32, "EfficientNet",
     64097687, 84.3, "efficientnetb7_notop.h5"),
    ("efficientnet_v2_b0", "EfficientNetV2B0", "efficientnet_v2", "none", 224, 32, "EfficientNetV2",
     5919312, 78.7, "efficientnetv2-b0_notop.h5"),
    ("efficientnet_v2_b1", "EfficientNetV2B1", "efficientnet_v2", "none", 240, 32, "EfficientNetV2",
     6931124, 79.8, "efficientnetv2-b1_notop.h5"),
    ("efficientnet_v2_b2", "EfficientNetV2B2", "efficientnet_v2", "none", 260, 32, "EfficientNetV2",
     8769374, 80.5, "efficientnetv2-b2_notop.h5"),
    ("efficientnet_v2_b3", "EfficientNetV2B3", "efficientnet_v2", "none", 300, 32, "EfficientNetV2",
     12930622, 82.0, "efficientnetv2-b3_notop.h5"),
    ("efficientnet_v2_s", "EfficientNetV2S", "efficientnet_v2", "none", 384, 32, "EfficientNetV2",
     20331360, 83.9, "efficientnetv2-s_notop.h5"),
    ("efficientnet_v2_m", "EfficientNetV2M", "efficientnet_v2", "none", 480, 32, "EfficientNetV2",
     53150388, 85.3, "efficientnetv2-m_notop.h5"),
    ("efficientnet_v2_l", "EfficientNetV2L", "efficientnet_v2", "none", 480, 32, "EfficientNetV2",
     117746848, 85.7, "efficientnetv2-l_notop.h5"),
    ("convnext_tiny", "ConvNeXtTiny", "convnext", "none", 224, 32, "ConvNeXt",
     27820128, 81.3, "convnext_tiny_notop.h5"),
    ("convnext_small", "ConvNeXtSmall", "convnext", "none", 224, 32, "ConvNeXt",
     49454688, 82.3, "convnext_small_notop.h5"),
    ("convnext_base", "ConvNeXtBase", "convnext", "none", 224, 32, "ConvNeXt",
     87566464, 85.3, "convnext_base_notop.h5"),
    ("convnext_large", "ConvNeXtLarge", "convnext", "none", 224, 32, "ConvNeXt",
     196230336, 86.3, "convnext_large_notop.h5"),
    ("convnext_xlarge", "ConvNeXtXLarge", "convnext", "none", 224, 32, "ConvNeXt",
     348147968, 86.7, "convnext_xlarge_notop.h5"),
)
# fmt: on

SPEED_SOURCE = (
    "Keras Applications table (keras.io/api/applications): time per inference step, "
    "full network with its top, batch 32; CPU: AMD EPYC (92 cores), GPU: Tesla A100"
)
# id -> (CPU ms, GPU ms) per inference step, copied from that table. MobileNetV3, the
# EfficientNetV2 and ConvNeXt families have no figure there ("-"): their speed is None.
_SPEED_MS: dict[str, tuple[float, float]] = {
    "xception": (109.4, 8.1), "vgg16": (69.5, 4.2), "vgg19": (84.8, 4.4),
    "resnet50": (58.2, 4.6), "resnet101": (89.6, 5.2), "resnet152": (127.4, 6.5),
    "resnet50_v2": (45.6, 4.4), "resnet101_v2": (72.7, 5.4), "resnet152_v2": (107.5, 6.6),
    "inception_v3": (42.2, 6.9), "inception_resnet_v2": (130.2, 10.0),
    "mobilenet": (22.6, 3.4), "mobilenet_v2": (25.9, 3.8),
    "densenet121": (77.1, 5.4), "densenet169": (96.4, 6.3), "densenet201": (127.2, 6.7),
    "nasnet_mobile": (27.0, 6.7), "nasnet_large": (344.5, 20.0),
    "efficientnet_b0": (46.0, 4.9), "efficientnet_b1": (60.2, 5.6),
    "efficientnet_b2": (80.8, 6.5), "efficientnet_b3": (140.0, 8.8),
    "efficientnet_b4": (308.3, 15.1), "efficientnet_b5": (579.2, 25.3),
    "efficientnet_b6": (958.1, 40.4), "efficientnet_b7": (1578.9, 61.6),
}  # fmt: skip

# family -> licence. Keras Applications' code is Apache-2.0 for every family; the ImageNet weights
# were trained on ImageNet, whose terms restrict use of the images. Kept per family so a family
# with other terms differs by one entry.
_KERAS_IMAGENET_LICENCE = (
    "Keras Applications code: Apache License 2.0. ImageNet-pretrained weights; check the "
    "ImageNet terms of use for commercial use."
)
_LICENCES: dict[str, str] = {
    family: _KERAS_IMAGENET_LICENCE
    for family in (
        "Xception", "VGG", "ResNet", "ResNetV2", "Inception", "MobileNet", "DenseNet", "NASNet",
        "EfficientNet", "EfficientNetV2", "ConvNeXt",
    )
}  # fmt: skip

BACKBONES: dict[str, BackboneInfo] = {
    row[0]: BackboneInfo(
        id=row[0], keras_name=row[1], keras_module=row[2], preprocess=row[3],
        default_size=row[4], min_size=row[5], fixed_size=False, family=row[6],
        params_no_top=row[7], imagenet_top1=row[8], weights_file=row[9],
        cpu_ms=_SPEED_MS.get(row[0], (None, None))[0],
        gpu_ms=_SPEED_MS.get(row[0], (None, None))[1],
        licence=_LICENCES[row[6]],
    )
    for row in _ROWS
}  # fmt: skip


def list_backbones() -> list[BackboneInfo]:
    """Returns every registered backbone, in registry order."""
    return list(BACKBONES.values())


def get_backbone(backbone_id: str) -> BackboneInfo:
    """Returns the registry entry for ``backbone_id``.

    Raises:
        ValueError: for an unknown id; the message suggests the closest known ids.
    """
    info = BACKBONES.get(backbone_id)
    if info is not None:
        return info
    close = difflib.get_close_matches(str(backbone_id).lower(), BACKBONES, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise ValueError(
        f"Unknown backbone '{backbone_id}'.{hint} Run 'python -m core backbones' for the list."
    )


def validate_input_size(info: BackboneInfo, input_size: int) -> None:
    """Raises ``ValueError`` when ``input_size`` does not suit the backbone."""
    if info.fixed_size and input_size != info.default_size:
        raise ValueError(f"{info.keras_name} only accepts {info.default_size}x{info.default_size}.")
    if input_size < info.min_size:
        raise ValueError(
            f"{info.keras_name} needs images of at least {info.min_size}x{info.min_size} "
            f"pixels, got {input_size}."
        )
