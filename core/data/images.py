"""The one image decoder of the studio: PIL, for training, evaluation and prediction alike.

Every image the app touches goes through ``load_image``, so an EXIF-rotated photo, a CMYK JPEG,
a 16-bit PNG, a palette GIF or a transparent PNG gives the same pixels whether it is scanned,
trained on, evaluated or predicted. ``load_image_array`` adds the resize step (stretch, center
crop or pad to square) and returns raw RGB float32 in 0..255: the model does its own
preprocessing.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.config.data import RESIZE_MODES
from core.errors import DataError

ImageSource = str | os.PathLike[str] | bytes | IO[bytes]

# Above this many pixels an image is refused before decoding: a 40-megapixel photo already
# needs ~120 MB once decoded, and a crafted header can claim billions of pixels (a "pixel bomb").
MAX_IMAGE_PIXELS = 40_000_000
# Padding colour for the "pad" resize mode (black, like letterboxing in video).
PAD_COLOR = (0, 0, 0)
MIN_SIDE = 32  # smaller images are flagged: upscaling them to 224 px mostly adds blur
MAX_ASPECT = 4.0  # wider/taller than 4:1 loses most of the picture when cropped or squashed
# PIL warns about images above ~89 MP; ours (lower) refuses them with a reason instead. A module
# filter, not ``catch_warnings`` (which is not thread-safe and the scan decodes in threads).
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
FEW_COLORS = 64  # a photo has thousands of colours; a placeholder or blank image a handful


class ImageDecodeError(DataError):
    """One image file cannot be used; ``reason`` is a short phrase for the skipped-files list."""

    def __init__(self, reason: str, name: str = "") -> None:
        self.reason = reason
        super().__init__(f"Cannot read image {name!r}: {reason}." if name else f"{reason}.")


def _source_name(source: ImageSource) -> str:
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    return str(getattr(source, "name", ""))


def _open(source: ImageSource) -> Image.Image:
    """Opens (without decoding) a path, bytes or binary file object."""
    name = _source_name(source)
    data: str | os.PathLike[str] | IO[bytes]
    if isinstance(source, str | os.PathLike):
        try:
            empty = os.path.getsize(source) == 0
        except OSError as error:
            raise ImageDecodeError(f"cannot open the file ({error.strerror})", name) from error
        if empty:
            raise ImageDecodeError("empty file (0 bytes)", name)
        data = source  # PIL opens and closes the file itself
    elif isinstance(source, bytes | bytearray):
        if not source:
            raise ImageDecodeError("empty file (0 bytes)", name)
        data = io.BytesIO(source)
    else:
        data = source
    try:
        return Image.open(data)
    except UnidentifiedImageError as error:
        raise ImageDecodeError("not an image (unknown or unsupported format)", name) from error
    except Image.DecompressionBombError as error:
        raise ImageDecodeError("image is too large to decode safely", name) from error
    except (OSError, ValueError, SyntaxError) as error:
        raise ImageDecodeError(f"corrupt image header ({error})", name) from error


def _sixteen_bit_to_8bit(image: Image.Image) -> Image.Image:
    """Scales 16/32-bit grayscale to 8 bits (PIL's convert('L') would clip at 255 instead)."""
    array = np.asarray(image)
    if image.mode == "F":
        low, high = float(array.min()), float(array.max())
        scaled = (array - low) / (high - low or 1.0) * 255.0
    elif image.mode.startswith("I;16") or array.max() > 255:
        scaled = array.astype(np.float64) / 257.0  # 65535 -> 255
    else:
        scaled = array
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), mode="L")


def to_rgb(image: Image.Image) -> Image.Image:
    """Converts any PIL mode to 8-bit RGB; transparency is composited on white."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        image = _sixteen_bit_to_8bit(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode in ("P", "L", "RGB") and "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode != "RGB":
        return image.convert("RGB")
    return image


def load_image(source: ImageSource, max_pixels: int = MAX_IMAGE_PIXELS) -> Image.Image:
    """Decodes an image into 8-bit RGB the same way everywhere in the studio.

    EXIF orientation is applied; grayscale, palette, CMYK and 16-bit images become 8-bit RGB;
    transparency is composited on white; animated images give their first frame.

    Args:
        source: a file path, the file's bytes, or a binary file object.
        max_pixels: images with more pixels than this are refused before decoding.

    Returns:
        A fully loaded ``PIL.Image.Image`` in mode "RGB".

    Raises:
        ImageDecodeError: (a ``DataError``) with a short ``reason`` when the file is empty,
            not an image, truncated/corrupt or too large.
    """
    name = _source_name(source)
    image = _open(source)
    try:
        width, height = image.size
        if width * height > max_pixels:
            raise ImageDecodeError(
                f"image is too large ({width}x{height} pixels; the limit is "
                f"{max_pixels / 1e6:.0f} megapixels): resize it first",
                name,
            )
        if width < 1 or height < 1:
            raise ImageDecodeError("image has no pixels", name)
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)  # animated GIF/WebP/TIFF: use the first frame
        try:
            image.load()
            oriented = ImageOps.exif_transpose(image)
            rgb = to_rgb(oriented)
            rgb.load()
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as error:
            raise ImageDecodeError(f"truncated or corrupt image data ({error})", name) from error
        return rgb if rgb is not image else image.copy()
    finally:
        image.close()


def resize_image(image: Image.Image, size: int, resize_mode: str = "stretch") -> Image.Image:
    """Resizes an RGB image to ``size`` x ``size``.

    Args:
        image: an RGB image (see ``load_image``).
        size: the side of the square output in pixels.
        resize_mode: "stretch" (ignore the aspect ratio), "crop" (center crop to square, then
            resize) or "pad" (fit inside the square and pad with black).

    Raises:
        ValueError: on an unknown mode or a non-positive size.
    """
    if size < 1:
        raise ValueError(f"Image size must be a positive number of pixels, got {size}.")
    target = (size, size)
    method = Image.Resampling.BILINEAR
    if resize_mode == "stretch":
        return image.resize(target, method)
    if resize_mode == "crop":
        return ImageOps.fit(image, target, method=method)
    if resize_mode == "pad":
        return ImageOps.pad(image, target, method=method, color=PAD_COLOR)
    raise ValueError(f"Resize mode must be one of {', '.join(RESIZE_MODES)}; got {resize_mode!r}.")


def load_image_array(source: ImageSource, size: int, resize_mode: str = "stretch") -> np.ndarray:
    """Decodes and resizes an image into the array every model of the studio takes.

    Args:
        source: a file path, the file's bytes, or a binary file object.
        size: the side of the square output.
        resize_mode: "stretch", "crop" or "pad" (see ``resize_image``).

    Returns:
        float32 array of shape (size, size, 3), raw RGB values in 0..255.

    Raises:
        ImageDecodeError: when the image cannot be read (see ``load_image``).
        ValueError: on a bad size or resize mode.
    """
    if resize_mode not in RESIZE_MODES:
        raise ValueError(
            f"Resize mode must be one of {', '.join(RESIZE_MODES)}; got {resize_mode!r}."
        )
    image = resize_image(load_image(source), size, resize_mode)
    return np.asarray(image, dtype=np.float32)


@dataclass(frozen=True)
class ImageFacts:
    """What the dataset scan keeps about one readable image."""

    width: int
    height: int
    sha1: str  # of the file bytes: finds exact duplicates and leakage between splits
    flags: tuple[str, ...]  # "tiny", "extreme_aspect", "few_colors"


def inspect_image_file(path: str | os.PathLike[str]) -> ImageFacts:
    """Fully decodes one file (catching truncation) and returns its size, hash and flags.

    Raises:
        ImageDecodeError: with the reason the file cannot be used.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ImageDecodeError(f"cannot read the file ({error.strerror or error})") from error
    image = load_image(data)
    width, height = image.size
    flags: list[str] = []
    if min(width, height) < MIN_SIDE:
        flags.append("tiny")
    if max(width, height) / min(width, height) > MAX_ASPECT:
        flags.append("extreme_aspect")
    # Counted on the full image: any resize would blend new colours in.
    if width * height >= 16 * FEW_COLORS and image.getcolors(FEW_COLORS) is not None:
        flags.append("few_colors")
    return ImageFacts(width, height, hashlib.sha1(data).hexdigest(), tuple(flags))
