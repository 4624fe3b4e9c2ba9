"""Reading user images for inference: any common mode, EXIF rotation, alpha, and clear errors.

Everything a user hands to :func:`colorizer.colorize` goes through :func:`read_image`, which
returns float RGB in 0..1 (16-bit precision kept) plus the alpha channel if there was one, or
raises :class:`ImageError` with a message that names the problem.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Largest image accepted by default (pixels). Full-resolution Lab maths needs about 60 bytes a
# pixel at its peak, so 40 MP stays within ~2.5 GB; raise it with max_pixels=... if you have RAM.
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


def _array_to_float_rgb(array: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ImageError(f"{name}: expected an HxW, HxWx1, HxWx3 or HxWx4 array, got shape "
                         f"{array.shape}", "unsupported")
    if np.issubdtype(array.dtype, np.integer):
        peak = 65535.0 if array.dtype.itemsize > 1 and array.max(initial=0) > 255 else 255.0
        array = array.astype(np.float32) / peak
    elif np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ImageError(f"{name}: the array holds NaN or infinite values", "unsupported")
        array = array.astype(np.float32)
        if array.max(initial=0.0) > 1.0:
            array = array / 255.0
    elif array.dtype == bool:
        array = array.astype(np.float32)
    else:
        raise ImageError(f"{name}: unsupported array dtype {array.dtype}", "unsupported")
    array = np.clip(array, 0.0, 1.0)
    alpha = None
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    elif array.shape[-1] == 4:
        alpha = np.round(array[..., 3] * 255).astype(np.uint8)
        array = array[..., :3]
    return np.ascontiguousarray(array), alpha


def _pil_to_float_rgb(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    image = ImageOps.exif_transpose(image)
    alpha = None
    if image.mode in ("LA", "RGBA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        alpha = np.asarray(image.getchannel("A"))
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float32)
        peak = 65535.0 if values.max(initial=0) > 255 or image.mode.startswith("I;16") else 255.0
        if image.mode == "F" and values.max(initial=0) <= 1.0:
            peak = 1.0
        gray = np.clip(values / peak, 0.0, 1.0)
        return np.repeat(gray[..., None], 3, axis=-1), alpha
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return rgb, alpha


def read_image(source: ImageInput, max_pixels: int = DEFAULT_MAX_PIXELS
               ) -> tuple[np.ndarray, np.ndarray | None]:
    """A path, PIL image or array -> (float32 RGB HxWx3 in 0..1, uint8 alpha HxW or None)."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        with _open(path, max_pixels) as image:
            return _pil_to_float_rgb(image)
    if isinstance(source, Image.Image):
        _check_size(*source.size, max_pixels, "image")
        return _pil_to_float_rgb(source)
    if isinstance(source, np.ndarray):
        if source.ndim < 2:
            raise ImageError(f"array: expected an image array, got shape {source.shape}",
                             "unsupported")
        _check_size(source.shape[1], source.shape[0], max_pixels, "array")
        return _array_to_float_rgb(source, "array")
    raise ImageError(
        f"expected a file path, PIL.Image or numpy array, got {type(source).__name__}",
        "unsupported"
    )
