"""The one decoder: colour modes, EXIF, frames, resize modes and refusals give the right pixels."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.data.images import ImageDecodeError, inspect_image_file, load_image, load_image_array


def _pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, int, int]:
    red, green, blue = image.getpixel(xy)  # type: ignore[misc]
    return int(red), int(green), int(blue)


def _bytes(image: Image.Image, fmt: str = "PNG", **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def test_rgb_array_shape_dtype_and_range(tmp_path: Path):
    path = tmp_path / "x.png"
    Image.new("RGB", (50, 30), (10, 20, 30)).save(path)
    array = load_image_array(path, 24)
    assert array.shape == (24, 24, 3) and array.dtype == np.float32
    np.testing.assert_allclose(array[12, 12], [10, 20, 30])


def test_sources_path_bytes_and_file_object_agree(tmp_path: Path):
    path = tmp_path / "x.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(path)
    from_path = load_image_array(path, 8)
    from_bytes = load_image_array(path.read_bytes(), 8)
    with open(path, "rb") as handle:
        from_file = load_image_array(handle, 8)
    assert np.array_equal(from_path, from_bytes) and np.array_equal(from_path, from_file)


def test_grayscale_becomes_three_equal_channels():
    image = load_image(_bytes(Image.new("L", (4, 4), 77)))
    assert image.mode == "RGB" and image.getpixel((0, 0)) == (77, 77, 77)


def test_transparency_is_composited_on_white():
    transparent = load_image(_bytes(Image.new("RGBA", (4, 4), (255, 0, 0, 0))))
    half = load_image(_bytes(Image.new("RGBA", (4, 4), (0, 0, 0, 128))))
    assert _pixel(transparent, (0, 0)) == (255, 255, 255)
    assert 120 <= _pixel(half, (0, 0))[0] <= 135


def test_palette_with_transparent_index_is_white():
    image = Image.new("P", (4, 4), 3)
    image.putpalette([0, 0, 0] * 3 + [255, 0, 0] + [0, 0, 0] * 252)
    data = _bytes(image, "PNG", transparency=3)
    assert _pixel(load_image(data), (1, 1)) == (255, 255, 255)


def test_cmyk_jpeg_becomes_rgb():
    data = _bytes(Image.new("RGB", (16, 16), (200, 30, 30)).convert("CMYK"), "JPEG", quality=95)
    red, green, blue = _pixel(load_image(data), (8, 8))
    assert red > 150 and green < 80 and blue < 80


def test_16bit_png_is_scaled_not_clipped():
    pixels = np.full((4, 4), 32768, dtype=np.uint16)  # mid-grey in 16 bits
    value = _pixel(load_image(_bytes(Image.fromarray(pixels))), (0, 0))[0]
    assert 125 <= value <= 130  # convert("L") alone would clip this to 255


def test_exif_orientation_is_applied():
    image = Image.new("RGB", (60, 40), (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 30, 40))  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    loaded = load_image(_bytes(image, "JPEG", exif=exif.tobytes(), quality=95))
    assert loaded.size == (40, 60)
    assert _pixel(loaded, (20, 10))[0] > 200 and _pixel(loaded, (20, 50))[0] < 50


def test_animated_gif_gives_first_frame():
    frames = [Image.new("RGB", (8, 8), color) for color in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    red, _, blue = _pixel(load_image(buffer.getvalue()), (4, 4))
    assert red > 200 and blue < 50


def test_resize_modes_crop_pad_stretch():
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    image.paste((0, 255, 0), (0, 0, 10, 20))  # green left quarter
    data = _bytes(image)
    crop = load_image_array(data, 20, "crop")
    pad = load_image_array(data, 20, "pad")
    stretch = load_image_array(data, 20, "stretch")
    assert crop[10, 1, 0] > 200  # center crop cut the green quarter away
    assert pad[1, 10].sum() == 0 and pad[10, 10, 0] > 200  # black bars above, picture inside
    assert stretch[10, 1, 1] > 200  # stretched: green stays on the left


def test_unknown_resize_mode_is_refused():
    with pytest.raises(ValueError, match="Resize mode"):
        load_image_array(_bytes(Image.new("RGB", (4, 4))), 8, "squash")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"hello world, not a picture", "not an image"),
        (_bytes(Image.new("RGB", (64, 64)), "JPEG")[:150], "corrupt image header"),
    ],
)
def test_unusable_bytes_raise_with_reason(data: bytes, reason: str):
    with pytest.raises(ImageDecodeError) as info:
        load_image(data)
    assert reason in info.value.reason


def test_pixel_limit_refuses_before_decoding():
    with pytest.raises(ImageDecodeError, match="too large"):
        load_image(_bytes(Image.new("RGB", (100, 100))), max_pixels=5_000)


def test_inspect_flags_tiny_aspect_and_few_colors(tmp_path: Path):
    Image.new("RGB", (300, 20), (5, 5, 5)).save(tmp_path / "flat.png")
    facts = inspect_image_file(tmp_path / "flat.png")
    assert (facts.width, facts.height) == (300, 20)
    assert set(facts.flags) == {"tiny", "extreme_aspect", "few_colors"}
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(tmp_path / "n.png")
    assert inspect_image_file(tmp_path / "n.png").flags == ()
