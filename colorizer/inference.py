"""Full-resolution colorization: predict ab at the model's size, put it on the original L.

As in Zhang et al.'s ``colorizers`` and DeOldify, only the colour channels are upsampled; the
lightness of the result is the original, full-resolution lightness of the input (for a tinted or
sepia print, its luminance), so no detail is lost whatever the model's input size. The steps are
orchestrated by :meth:`colorizer.Colorizer.colorize`; this module holds the image-side pieces.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from PIL import Image

from colorizer import color
from colorizer.images import DEFAULT_MAX_PIXELS, ImageInput


def model_input(lightness: tf.Tensor, size: int) -> tf.Tensor:
    """Full-resolution L (H, W, 1) -> the model's square input (size, size, 1), antialiased."""
    return tf.image.resize(lightness, (size, size), method="area")


# sRGB -> linear light for 16-bit codes: a lookup replaces a power per channel and pixel.
_LINEAR_OF_CODE = np.asarray(color.srgb_to_linear(np.arange(65536, dtype=np.float64) / 65535.0),
                             np.float32)
_LUMINANCE = np.asarray(color.XYZ_FROM_RGB[1], np.float32)  # linear RGB -> Y (white = 1)


def lightness_of(rgb) -> np.ndarray:
    """float RGB (H, W, 3) in 0..1 -> Lab L (H, W, 1), as ``color.rgb_to_lab`` computes it.

    L depends on the luminance Y alone, so only Y is computed (through a 16-bit lookup of the
    sRGB curve, exact for 8- and 16-bit images): several times faster on a full-size photo.
    """
    codes = np.rint(np.clip(np.asarray(rgb, np.float32), 0.0, 1.0) * 65535.0).astype(np.uint16)
    luminance = _LINEAR_OF_CODE[codes] @ _LUMINANCE
    return color.lightness_of_luminance(luminance)[..., None].astype(np.float32)


@tf.function(input_signature=[tf.TensorSpec([None, None, 1], tf.float32),
                              tf.TensorSpec([None, None, 2], tf.float32)])
def _compose(lightness: tf.Tensor, ab_small: tf.Tensor) -> tf.Tensor:
    ab = tf.image.resize(ab_small, tf.shape(lightness)[:2], method="bilinear")
    rgb = color.lab_to_rgb(tf.concat([lightness, ab], axis=-1))
    return tf.cast(tf.round(rgb * 255.0), tf.uint8)


def compose(lightness: np.ndarray, ab_small: np.ndarray) -> np.ndarray:
    """Original L (H, W, 1) + ab at model size (S, S, 2) -> uint8 RGB (H, W, 3)."""
    return _compose(tf.convert_to_tensor(lightness, tf.float32),
                    tf.convert_to_tensor(ab_small, tf.float32)).numpy()


def colorize(image: ImageInput, model, *, size: int | None = None,
             temperature: float | None = None, max_pixels: int = DEFAULT_MAX_PIXELS,
             hints=None) -> Image.Image:
    """``model.colorize(image, ...)``: see :meth:`colorizer.Colorizer.colorize`.

    >>> result = colorize("photo.jpg", from_pretrained("lite0_unet.flickr8k_128"))  # doctest: +SKIP
    """
    return model.colorize(image, size=size, temperature=temperature, max_pixels=max_pixels,
                          hints=hints)
