"""Full-resolution colorization: predict ab at the model's size, put it on the original L.

As in Zhang et al.'s ``colorizers`` and DeOldify, only the colour channels are upsampled; the
lightness of the result is the original, full-resolution lightness of the input (for a tinted or
sepia print, its luminance), so no detail is lost whatever the model's input size.
"""

from __future__ import annotations

import weakref

import numpy as np
import tensorflow as tf
from PIL import Image

from colorizer import color, quantization
from colorizer.images import DEFAULT_MAX_PIXELS, ImageInput, read_image
from colorizer.models import create_model, get_spec
from colorizer.models.heads import head_of

# model -> {render size: rebuilt model}; weak keys, so a model's resized copies go with it.
_RESIZED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def at_size(model, size: int | None, *, cache: bool = True):
    """``model`` rebuilt for a square input of ``size`` px, sharing its weights (cached unless
    ``cache`` is False, e.g. to probe whether a size works).

    Fully convolutional models (``cnn``) work at any size divisible by 8; models with a Dense
    bottleneck or a fixed encoder input (``autoencoder``) only at their training size.
    """
    spec = get_spec(model)
    if size is None or size == spec.image_size:
        return model
    sizes = _RESIZED.setdefault(model, {}) if cache else {}
    if int(size) not in sizes:
        args = {**spec.args, "image_size": int(size)}
        if "weights" in args:
            args["weights"] = None
        try:
            resized = create_model(spec.architecture, **args)
            resized.set_weights(model.get_weights())
        except ValueError as error:
            raise ValueError(
                f"{spec.architecture} only works at its training size {spec.image_size} px, "
                f"not {size} ({error})"
            ) from None
        sizes[int(size)] = resized
    return sizes[int(size)]


def check_temperature(model, temperature: float | None) -> float | None:
    """The decoding temperature for ``model``: the paper's default for a classification head,
    None for a regression head (for which passing one is an error)."""
    if head_of(model) == "regression":
        if temperature is not None:
            raise ValueError(f"temperature applies to classification models; "
                             f"{get_spec(model).architecture} has a regression head")
        return None
    temperature = quantization.TEMPERATURE if temperature is None else float(temperature)
    if not 0.0 <= temperature <= 1.0:
        raise ValueError(f"temperature must be between 0 and 1, got {temperature}")
    return temperature


def predict_ab(model, lightness: tf.Tensor, temperature: float | None = None) -> np.ndarray:
    """Batch of L (N, S, S, 1) in 0..100 at the model's size -> ab (N, S, S, 2) in Lab units.

    A classification head's distribution is decoded with the annealed mean at ``temperature``
    (default 0.38; lower is more vivid) and upsampled to the input size.
    """
    temperature = check_temperature(model, temperature)
    lightness = tf.convert_to_tensor(lightness, tf.float32)
    # predict_on_batch runs Keras' compiled predict function (traced once per input shape):
    # an eager call walks the layers in Python, which costs more than the network at 128 px.
    output = model.predict_on_batch(color.normalize_l(lightness))
    if temperature is None:
        return np.asarray(color.denormalize_ab(output))
    return np.asarray(quantization.decode(output, lightness.shape[1], temperature))


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
             temperature: float | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
             ) -> Image.Image:
    """Colorize ``image`` (path, PIL image or array, any common mode) at its original resolution.

    The input is reduced to its luminance first, so tinted or sepia photos work too; an alpha
    channel is kept. ``size`` is the render size: the square resolution the model sees (default
    its training size; see :func:`at_size`). ``temperature`` is the annealed-mean temperature of a
    classification model (0..1, default 0.38; lower gives more vivid colour). Raises :class:`colorizer.ImageError` for unreadable,
    truncated, empty or over-large input (more than ``max_pixels`` pixels).

    >>> result = colorize("photo.jpg", load_pretrained("weights/autoencoder.flickr8k_128"))
    """
    check_temperature(model, temperature)  # before any work
    model = at_size(model, size)
    rgb, alpha = read_image(image, max_pixels=max_pixels)
    lightness = lightness_of(rgb)
    size = get_spec(model).image_size
    ab_small = predict_ab(model, model_input(lightness, size)[None], temperature)[0]
    result = Image.fromarray(compose(lightness, ab_small), mode="RGB")
    if alpha is not None:
        result.putalpha(Image.fromarray(alpha, mode="L"))
    return result
