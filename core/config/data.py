"""Data settings: where the images are, how to split and resize them, how to augment them.

Both classes are frozen ``ConfigMixin`` dataclasses, so they round-trip through JSON inside a
run's ``config.json`` and reject unknown keys and out-of-range values with a plain sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from core.config.base import ConfigMixin, check_range

ResizeMode = Literal["stretch", "crop", "pad"]
RESIZE_MODES: tuple[str, ...] = ("stretch", "crop", "pad")

MAX_SHARE = 0.9  # of each class, for validation or for the test
MAX_HELD_OUT = 0.95  # validation and test together: the rest is left for training


def check_split_shares(val_ratio: float, test_ratio: float) -> None:
    """Raises ValueError unless the shares are valid and leave images for training.

    The one place of this rule: ``DataConfig`` validates with it, ``split_dataset`` checks again
    for callers that pass bare numbers (the CLI, the Data page preview).
    """
    check_range("Validation share", val_ratio, 0.0, MAX_SHARE)
    check_range("Test share", test_ratio, 0.0, MAX_SHARE)
    if val_ratio + test_ratio >= MAX_HELD_OUT:
        raise ValueError(
            "Validation and test shares together must leave images for training "
            f"(got {val_ratio:g} + {test_ratio:g})."
        )


@dataclass(frozen=True)
class AugmentConfig(ConfigMixin):
    """Random changes applied to training images only (all off by default).

    Attributes:
        flip_horizontal: mirror left-right at random.
        flip_vertical: mirror top-bottom at random.
        rotation: maximum rotation in degrees, either way (0..180).
        translation: maximum shift as a fraction of the image side (0..0.5).
        zoom: maximum zoom in or out as a fraction (0..0.9).
        contrast: maximum contrast change as a fraction (0..1).
        brightness: maximum brightness change as a fraction of the 0..255 range (0..1).
    """

    flip_horizontal: bool = False
    flip_vertical: bool = False
    rotation: float = 0.0
    translation: float = 0.0
    zoom: float = 0.0
    contrast: float = 0.0
    brightness: float = 0.0

    def __post_init__(self) -> None:
        for name in ("flip_horizontal", "flip_vertical"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"Augmentation '{name}' must be true or false.")
        check_range("Rotation (degrees)", self.rotation, 0.0, 180.0)
        check_range("Translation", self.translation, 0.0, 0.5)
        check_range("Zoom", self.zoom, 0.0, 0.9)
        check_range("Contrast", self.contrast, 0.0, 1.0)
        check_range("Brightness", self.brightness, 0.0, 1.0)

    @property
    def enabled(self) -> bool:
        """True when at least one augmentation is switched on."""
        return bool(
            self.flip_horizontal
            or self.flip_vertical
            or self.rotation
            or self.translation
            or self.zoom
            or self.contrast
            or self.brightness
        )


# The default augmentation: what the hymenoptera bench measured best for photos.
PHOTO_AUGMENTATION = AugmentConfig(flip_horizontal=True, rotation=10.0)


@dataclass(frozen=True)
class DataConfig(ConfigMixin):
    """Which dataset to use and how to split, resize and augment it.

    Attributes:
        path: the dataset folder (one sub-folder per class, or train/val/test folders).
        val_ratio: share of each class kept for validation (ignored when splits are given).
        test_ratio: share of each class kept for the final test (ignored when splits are given).
        seed: makes the split, the shuffling and the augmentation reproducible.
        resize_mode: "crop" (center crop, the default: keeps proportions), "stretch" or "pad"
            (pad to square).
        augmentation: random changes applied to training images only. The default is the
            measured recipe for photos (``PHOTO_AUGMENTATION``: mirror left-right and rotate up
            to 10 degrees; ``bench/hymenoptera.py``); ``AugmentConfig()`` switches it off.
    """

    path: str
    val_ratio: float = 0.15
    test_ratio: float = 0.15
    seed: int = 42
    resize_mode: str = "crop"
    augmentation: AugmentConfig = field(default_factory=lambda: PHOTO_AUGMENTATION)

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path.strip():
            raise ValueError("Choose a dataset folder first (the data path is empty).")
        check_split_shares(self.val_ratio, self.test_ratio)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"Seed must be a whole number >= 0, got {self.seed!r}.")
        if self.resize_mode not in RESIZE_MODES:
            raise ValueError(
                f"Resize mode must be one of {', '.join(RESIZE_MODES)}; got {self.resize_mode!r}."
            )
        if not isinstance(self.augmentation, AugmentConfig):
            raise ValueError("Augmentation settings must be an AugmentConfig.")
