"""Full-resolution colorization: predict ab at the model's size, put it on the original L.

As in Zhang et al.'s ``colorizers`` and DeOldify, only the colour channels are upsampled; the
lightness of the result is the original, full-resolution lightness of the input (for a tinted or
sepia print, its luminance), so no detail is lost whatever the model's input size. The steps are
orchestrated by :meth:`colorizer.Colorizer.colorize`; this module holds the image-side pieces.
"""

from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf
from PIL import Image

from colorizer.io import color


def model_input(channels, size: int) -> tf.Tensor:
    """Full-resolution L (H, W, 1), or any channels (H, W, C) -> (size, size, C), area-averaged
    (antialiased): how a photo is brought to the model's square."""
    return tf.image.resize(channels, (size, size), method="area")


def photo_input(pixels: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of :func:`colorizer.io.images.read_pixels` -> (their full-resolution L (H, W, 1), the
    network's input at ``size``: that L area-averaged to (size, size, 1), in 0..100).

    The one way from a photo to the network: :meth:`colorizer.Colorizer.colorize` (and so the
    demo and the CLI), ``colorizer evaluate`` and its ``--hints`` all go through it, so the
    published figures measure what users get.
    """
    lightness = lightness_of_pixels(pixels)
    return lightness, np.asarray(model_input(lightness, size))


# sRGB -> linear light for 16-bit codes: a lookup replaces a power per channel and pixel.
_LINEAR_OF_CODE = np.asarray(color.srgb_to_linear(np.arange(65536, dtype=np.float64) / 65535.0),
                             np.float32)
_LINEAR_OF_BYTE = _LINEAR_OF_CODE[np.arange(256) * 257]  # 8-bit v is the 16-bit code 257 v
_LUMINANCE = np.asarray(color.XYZ_FROM_RGB[1], np.float32)  # linear RGB -> Y (white = 1)
# Rows of the full-resolution maths done at a time: its temporaries then take a few MB, not
# tens of bytes a pixel of the whole photo.
BAND_PIXELS = 1 << 18


def _bands(height: int, width: int, pixels: int = BAND_PIXELS):
    rows = max(1, pixels // max(1, width))
    for top in range(0, height, rows):
        yield slice(top, min(height, top + rows))


def _lightness_of_linear(linear: np.ndarray) -> np.ndarray:
    """Linear RGB (..., 3) -> L (...), float32."""
    return color.lightness_of_luminance(linear @ _LUMINANCE).astype(np.float32)


@functools.cache
def _lightness_of_gray(levels: int) -> np.ndarray:
    """L of each gray level v = (v, v, v) of an 8-bit (256) or 16-bit (65536) image."""
    linear = _LINEAR_OF_BYTE if levels == 256 else _LINEAR_OF_CODE
    return _lightness_of_linear(np.repeat(linear[:, None], 3, axis=1))


def lightness_of_pixels(pixels: np.ndarray) -> np.ndarray:
    """Pixels of :func:`colorizer.io.images.read_pixels` (uint8 or uint16 codes, HxW gray or HxWx3
    RGB) -> Lab L (H, W, 1) float32, the same as ``lightness_of`` of their float RGB.

    Gray pixels are one table lookup; RGB pixels go a band of rows at a time, so the only
    full-size array made is the result (4 bytes a pixel).
    """
    if pixels.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"expected uint8 or uint16 pixels, got {pixels.dtype}")
    height, width = pixels.shape[:2]
    result = np.empty((height, width, 1), np.float32)
    if pixels.ndim == 2:
        table = _lightness_of_gray(256 if pixels.dtype == np.uint8 else 65536)
        for band in _bands(height, width):
            result[band, :, 0] = table[pixels[band]]
        return result
    linear = _LINEAR_OF_BYTE if pixels.dtype == np.uint8 else _LINEAR_OF_CODE
    for band in _bands(height, width):
        result[band, :, 0] = _lightness_of_linear(linear[pixels[band]])
    return result


def lightness_of(rgb) -> np.ndarray:
    """float RGB (H, W, 3) in 0..1 -> Lab L (H, W, 1), as ``color.rgb_to_lab`` computes it.

    L depends on the luminance Y alone, so only Y is computed (through a 16-bit lookup of the
    sRGB curve, exact for 8- and 16-bit images): several times faster on a full-size photo.
    Computed a band of rows at a time (the result is the only full-size array made).
    """
    rgb = np.asarray(rgb)
    height, width = rgb.shape[:2]
    result = np.empty((height, width, 1), np.float32)
    for band in _bands(height, width):
        codes = np.rint(np.clip(np.asarray(rgb[band], np.float32), 0.0, 1.0) * 65535.0
                        ).astype(np.uint16)
        result[band, :, 0] = _lightness_of_linear(_LINEAR_OF_CODE[codes])
    return result


@tf.function(input_signature=[tf.TensorSpec([None, None, 1], tf.float32),
                              tf.TensorSpec([None, None, 2], tf.float32),
                              tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int32),
                              tf.TensorSpec([None], tf.float32), tf.TensorSpec([], tf.float32)])
def _compose_band(lightness, ab_rows, lower, upper, lerp, gain):
    """One band of rows: bilinear between two rows of the width-resized ab, then Lab -> RGB.
    A chroma ``gain`` other than 1 scales ab, then brings each pixel back inside the sRGB gamut
    by its chroma (:func:`colorizer.io.color.fit_chroma`), so hues hold."""
    top, bottom = tf.gather(ab_rows, lower), tf.gather(ab_rows, upper)
    lab = tf.concat([lightness, top + (bottom - top) * lerp[:, None, None]], axis=-1)
    lab = tf.cond(gain == 1.0, lambda: lab, lambda: _gained(lab, gain))
    return tf.cast(tf.round(color.lab_to_rgb(lab) * 255.0), tf.uint8)


def _gained(lab, gain):
    """``lab`` with its chroma times ``gain``, the pixels it takes outside sRGB fitted back."""
    lab = tf.concat([lab[..., :1], lab[..., 1:] * gain], axis=-1)
    linear = color.lab_to_linear(lab)
    outside = tf.where(tf.reduce_any((linear < 0.0) | (linear > 1.0), axis=-1))
    return tf.tensor_scatter_nd_update(lab, outside, color.fit_chroma(tf.gather_nd(lab, outside)))


def _composed_bands(lightness: np.ndarray, ab_small: np.ndarray, gain: float = 1.0):
    """(rows, uint8 RGB of those rows) covering the result of :func:`compose`.

    The ab upsampling is ``tf.image.resize(ab_small, (H, W), "bilinear")`` split in two: the
    width once (S x W, small), then the height per band with TensorFlow's own half-pixel
    weights (in float32, as its kernel computes them), so no full-size ab or Lab array exists.
    """
    height, width = lightness.shape[:2]
    rows_in = ab_small.shape[0]
    ab_rows = tf.image.resize(tf.convert_to_tensor(ab_small, tf.float32), (rows_in, width),
                              method="bilinear")
    scale = np.float32(rows_in) / np.float32(height)
    for band in _bands(height, width):
        source = (np.arange(band.start, band.stop, dtype=np.float32) + np.float32(0.5)) * scale \
            - np.float32(0.5)
        floor = np.floor(source)
        lower = np.maximum(floor, 0).astype(np.int32)
        upper = np.minimum(np.ceil(source), rows_in - 1).astype(np.int32)
        yield band, _compose_band(lightness[band], ab_rows, lower, upper,
                                  (source - floor).astype(np.float32),
                                  tf.constant(gain, tf.float32)).numpy()


def compose_image(lightness: np.ndarray, ab_small: np.ndarray,
                  gain: float = 1.0) -> Image.Image:
    """:func:`compose` as a PIL RGB image, its bands pasted straight in (no full-size array
    besides the image)."""
    result = Image.new("RGB", (lightness.shape[1], lightness.shape[0]))
    for band, rgb in _composed_bands(lightness, ab_small, gain):
        result.paste(Image.fromarray(rgb, mode="RGB"), (0, band.start))
    return result


def compose(lightness: np.ndarray, ab_small: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """Original L (H, W, 1) + ab at model size (S, S, 2) -> uint8 RGB (H, W, 3); ``gain``
    scales the chroma (see :func:`_compose_band`).

    Done a band of rows at a time: besides the result, memory for a few MB of rows only.
    """
    result = np.empty((*lightness.shape[:2], 3), np.uint8)
    for band, rgb in _composed_bands(lightness, ab_small, gain):
        result[band] = rgb
    return result
