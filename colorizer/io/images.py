"""Reading user images for inference: any common mode, EXIF rotation, alpha, and clear errors.

Everything a user hands to :meth:`colorizer.Colorizer.colorize` goes through :func:`read_pixels`, which
returns the pixels as compactly as they came (uint8, or uint16 for 16-bit and float input) plus
the alpha channel if there was one, or raises :class:`ImageError` with a message that names the
problem; :func:`read_image` gives the same as float RGB in 0..1 (16-bit precision kept).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Largest image accepted by default (pixels). colorize() needs about 12 bytes a pixel of the
# photo on top of the loaded model (the photo as decoded, its L in float32, the result image;
# the Lab maths goes a band of rows at a time): a 40 MP photo peaked at 1.42 GB with the default
# model (benchmarks/memory.py). Raise it with max_pixels=... if you have the RAM.
DEFAULT_MAX_PIXELS = 40_000_000
# zlib level of the PNGs we write: level 1 encodes a 2048 px result about 5x faster than Pillow's
# default 6, for files about 15% larger.
PNG_COMPRESS_LEVEL = 1

ImageInput = Union[str, os.PathLike, Image.Image, np.ndarray]


class ImageError(ValueError):
    """An input image that cannot be colorized: unreadable, truncated, empty or too large.

    ``reason`` names the problem in one word (one of :data:`REASONS`) and ``size`` is the
    image's (width, height) where known, for callers that word the message their own way.
    """

    def __init__(self, message: str, reason: str = "unreadable",
                 size: tuple[int, int] | None = None):
        super().__init__(message)
        self.reason = reason
        self.size = size


# missing: no such file; empty: no bytes or no pixels; unreadable: not an image; damaged:
# truncated or corrupt data; bomb: too large to open safely; too_large: over max_pixels;
# too_small: under min_side; unsupported: an object or array that is no image.
REASONS = ("missing", "empty", "unreadable", "damaged", "bomb", "too_large", "too_small",
           "unsupported")


def _check_size(width: int, height: int, max_pixels: int, name: str, min_side: int = 1) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(f"{name}: the image is empty ({width}x{height})", "empty",
                         (width, height))
    if width * height > max_pixels:
        raise ImageError(
            f"{name}: {width}x{height} = {width * height:,} pixels is more than the limit of "
            f"{max_pixels:,}; shrink the image or raise max_pixels", "too_large", (width, height)
        )
    if min(width, height) < min_side:
        raise ImageError(f"{name}: {width}x{height} is too small (at least {min_side} pixels a "
                         "side)", "too_small", (width, height))


def _open(path: Path, max_pixels: int, min_side: int = 1) -> Image.Image:
    if not path.is_file():
        raise ImageError(f"{path}: no such file", "missing")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: the file is empty (0 bytes)", "empty")
    try:
        image = Image.open(path)
    except Image.DecompressionBombError as error:
        raise ImageError(f"{path}: image is too large to open safely ({error})", "bomb") from None
    except (UnidentifiedImageError, OSError) as error:
        raise ImageError(f"{path}: not a readable image ({error})") from None
    _check_size(*image.size, max_pixels, str(path), min_side)
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"{path}: the image data is damaged or truncated ({error})", "damaged",
                         image.size) from None
    return image


def check_image(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS,
                min_side: int = 1) -> tuple[int, int]:
    """Open and decode the image file ``path`` as :func:`read_image` would, without converting
    it: its (width, height), or :class:`ImageError`. ``min_side`` refuses smaller images."""
    with _open(Path(path), max_pixels, min_side) as image:
        return image.size


EXIF_ORIENTATION = 0x0112
# Rows converted at a time where a whole-image temporary would cost several bytes a pixel.
BAND_PIXELS = 1 << 20


def _bands(height: int, width: int):
    """Row ranges of about BAND_PIXELS pixels covering an image of ``height`` rows."""
    rows = max(1, BAND_PIXELS // max(1, width))
    for top in range(0, height, rows):
        yield slice(top, min(height, top + rows))


def _codes_of_floats(array: np.ndarray, peak: float = 1.0) -> np.ndarray:
    """Float values in 0..peak -> 16-bit codes (uint16), a band at a time."""
    scale = 65535.0 / peak
    codes = np.empty(array.shape, np.uint16)
    for band in _bands(array.shape[0], int(np.prod(array.shape[1:], dtype=np.int64))):
        values = np.asarray(array[band], np.float32) * np.float32(scale)
        codes[band] = np.rint(np.clip(values, 0.0, 65535.0))
    return codes


def _array_to_pixels(array: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ImageError(f"{name}: expected an HxW, HxWx1, HxWx3 or HxWx4 array, got shape "
                         f"{array.shape}", "unsupported")
    alpha = None
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ImageError(f"{name}: the array holds NaN or infinite values", "unsupported")
        peak = 255.0 if array.max(initial=0.0) > 1.0 else 1.0  # over every channel, alpha too
    if array.ndim == 3 and array.shape[-1] == 4:
        alpha, array = array[..., 3], array[..., :3]
    if array.dtype == bool:
        pixels = array.astype(np.uint8) * np.uint8(255)
        alpha = None if alpha is None else alpha.astype(np.uint8) * np.uint8(255)
    elif np.issubdtype(array.dtype, np.integer):
        sixteen = array.dtype.itemsize > 1 and array.max(initial=0) > 255
        peak = 65535 if sixteen else 255
        pixels = (array if array.dtype == (np.uint16 if sixteen else np.uint8)
                  else np.clip(array, 0, peak).astype(np.uint16 if sixteen else np.uint8))
        if alpha is not None:
            alpha = np.clip(np.round(alpha.astype(np.float64) * (255.0 / peak)), 0, 255
                            ).astype(np.uint8)
    elif np.issubdtype(array.dtype, np.floating):
        pixels = _codes_of_floats(array, peak)
        if alpha is not None:
            alpha = np.round(np.clip(alpha / peak, 0.0, 1.0) * 255).astype(np.uint8)
    else:
        raise ImageError(f"{name}: unsupported array dtype {array.dtype}", "unsupported")
    return np.ascontiguousarray(pixels), alpha


def _pil_to_pixels(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    if image.getexif().get(EXIF_ORIENTATION, 1) != 1:  # (exif_transpose would copy anyway)
        image = ImageOps.exif_transpose(image)
    alpha = None
    if image.mode in ("LA", "RGBA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        alpha = np.asarray(image.getchannel("A"))
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image)
        if image.mode == "F":
            top = values.max(initial=0)
            return _codes_of_floats(values, 1.0 if top <= 1.0 else 255.0 if top <= 255 else 65535.0
                                    ), alpha
        if values.max(initial=0) > 255 or image.mode.startswith("I;16"):
            return np.clip(values, 0, 65535).astype(np.uint16), alpha
        return np.clip(values, 0, 255).astype(np.uint8), alpha
    if image.mode == "L":
        return np.asarray(image), alpha
    if image.mode == "1":
        return np.asarray(image.convert("L")), alpha
    return np.asarray(image if image.mode == "RGB" else image.convert("RGB")), alpha


def read_pixels(source: ImageInput, max_pixels: int = DEFAULT_MAX_PIXELS
                ) -> tuple[np.ndarray, np.ndarray | None]:
    """A path, PIL image or array -> (pixels, uint8 alpha HxW or None), as compact as it comes.

    ``pixels`` is HxW (gray) or HxWx3 (RGB), uint8 (0..255) or uint16 (16-bit codes, 0..65535;
    float input is rounded to these): 1 to 6 bytes a pixel, where float RGB would take 12.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        with _open(path, max_pixels) as image:
            return _pil_to_pixels(image)
    if isinstance(source, Image.Image):
        _check_size(*source.size, max_pixels, "image")
        return _pil_to_pixels(source)
    if isinstance(source, np.ndarray):
        if source.ndim < 2:
            raise ImageError(f"array: expected an image array, got shape {source.shape}",
                             "unsupported")
        _check_size(source.shape[1], source.shape[0], max_pixels, "array")
        return _array_to_pixels(source, "array")
    raise ImageError(
        f"expected a file path, PIL.Image or numpy array, got {type(source).__name__}",
        "unsupported"
    )


def float_rgb(pixels: np.ndarray) -> np.ndarray:
    """Pixels of :func:`read_pixels` -> float32 RGB HxWx3 in 0..1."""
    peak = np.float32(65535.0 if pixels.dtype == np.uint16 else 255.0)
    rgb = pixels.astype(np.float32) / peak
    return np.repeat(rgb[..., None], 3, axis=-1) if rgb.ndim == 2 else rgb


def read_image(source: ImageInput, max_pixels: int = DEFAULT_MAX_PIXELS
               ) -> tuple[np.ndarray, np.ndarray | None]:
    """A path, PIL image or array -> (float32 RGB HxWx3 in 0..1, uint8 alpha HxW or None).

    12 bytes a pixel: :meth:`colorizer.Colorizer.colorize` works from :func:`read_pixels` instead.
    """
    pixels, alpha = read_pixels(source, max_pixels)
    return float_rgb(pixels), alpha
