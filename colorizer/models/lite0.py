"""Colorizers on the ImageNet-pretrained EfficientNet-Lite0 encoder.

``lite0_decoder`` is the founding report's pretrained design (section 5.3) with Lite0 in place of
Xception; ``lite0_unet`` adds skip connections from five scales into a light bilinear decoder.
Both see the gray photo as a 3-channel image in the range the encoder was trained on.
"""

from __future__ import annotations

import keras
from keras import layers

from colorizer.models import efficientnet_lite as lite
from colorizer.models.heads import check_head, classification_head
from colorizer.models.hint_input import HINT_CHANNELS
from colorizer.models.registry import register_model


def _encoder(image_size: int, weights: str | None, features: tuple[str, ...],
             variant: str = "lite0") -> keras.Model:
    backbone = lite.efficientnet_lite(variant, (image_size, image_size, 3), include_top=False,
                                      weights=weights)
    outputs = [backbone.get_layer(name).output for name in features]
    encoder = keras.Model(backbone.input, outputs if len(outputs) > 1 else outputs[0],
                          name=f"efficientnet_{variant}")
    encoder.trainable = False
    return encoder


def _gray_as_rgb(lightness):
    """Normalised L ((L - 50) / 100, in -0.5..0.5) -> 3 equal channels in about -1..1."""
    x = layers.Concatenate(name="gray_rgb")([lightness, lightness, lightness])
    return layers.Rescaling(2.0, name="to_encoder_range")(x)


def _check_encoder_scale(name: str, image_size: int, encoder_scale: int) -> None:
    if encoder_scale not in (1, 2):
        raise ValueError(f"encoder_scale must be 1 or 2, got {encoder_scale}")
    if image_size % 32:
        raise ValueError(f"{name} needs an image_size divisible by 32, got {image_size}")


def _to_encoder_size(rgb, encoder_scale: int):
    """The encoder's input: the 3-channel gray photo, upsampled ``encoder_scale`` times."""
    if encoder_scale == 1:
        return rgb
    return layers.UpSampling2D(encoder_scale, interpolation="bilinear",
                               name="to_encoder_size")(rgb)


DECODER_TRANSPOSES = (512, 128, 64, 32)  # lite0_decoder's Conv2DTranspose widths before ab


@register_model(size_multiple=32)
def lite0_decoder(image_size: int = 128, weights: str | None = "imagenet",
                  head: str = "regression", encoder_scale: int = 1) -> keras.Model:
    """Report 5.3 on EfficientNet-Lite0 (ImageNet, frozen) + Conv2DTranspose layers to ab (Adam).

    The encoder's last features (1/32 of its input) are doubled by each Conv2DTranspose up to
    the input size: five layers, or four with ``encoder_scale`` 2, where the encoder sees the
    photo upsampled twice (its features are then 1/16 of the model's input; the widest
    transposed layer is the one left out).
    """
    check_head(head)
    _check_encoder_scale("lite0_decoder", image_size, encoder_scale)
    inputs = keras.Input((image_size, image_size, 1), name="lightness")
    # The report's learned gray -> 3 channel conv, started at the plain gray mapping.
    x = layers.Conv2D(3, 1, kernel_initializer=keras.initializers.Constant(2.0),
                      name="gray_to_rgb")(inputs)
    x = _to_encoder_size(x, encoder_scale)
    x = _encoder(image_size * encoder_scale, weights, ("head_relu",))(x)
    for channels in DECODER_TRANSPOSES[encoder_scale - 1:]:
        x = layers.Conv2DTranspose(channels, 3, strides=2, padding="same", activation="relu")(x)
    if head == "classification":  # the distribution at 1/2 of the input size
        return keras.Model(inputs, classification_head(x), name="lite0_decoder")
    outputs = layers.Conv2DTranspose(2, 3, strides=2, padding="same", activation="tanh",
                                     name="ab")(x)
    return keras.Model(inputs, outputs, name="lite0_decoder")


def _conv_block(x, channels: int, name: str):
    for index in (1, 2):
        x = layers.Conv2D(channels, 3, padding="same", use_bias=False, name=f"{name}_conv{index}")(x)
        x = layers.BatchNormalization(name=f"{name}_bn{index}")(x)
        x = layers.ReLU(name=f"{name}_relu{index}")(x)
    return x


# The hint map's gain: the hint layers' learning rate relative to the rest (see lite0_unet).
HINT_GAIN = 10.0
DECODER_CHANNELS = (192, 96, 64, 32, 24)  # lite0_unet's levels, from the deepest (1/16) up


@register_model(size_multiple=32)
def lite0_unet(image_size: int = 128, weights: str | None = "imagenet",
               decoder_channels: tuple[int, ...] | None = None, head: str = "regression",
               encoder_scale: int = 1, hints: bool = False, hint_film: bool = True,
               encoder: str = "lite0") -> keras.Model:
    """EfficientNet-Lite0 (ImageNet) U-Net: skips at strides 2-32, bilinear decoder (Adam).

    ``encoder_scale`` 2 shows the encoder the photo upsampled twice (256 px for a 128 px model,
    near ImageNet's 224), so its features are twice as fine; the decoder then has one level
    less (its deepest input is at 1/16) and the encoder's first features are at full size.
    ``decoder_channels`` (one per level, deepest first) defaults to the last entries of
    ``DECODER_CHANNELS``. ``encoder`` picks a larger EfficientNet-Lite (``"lite1"``, ``"lite2"``:
    deeper, and Lite2 wider, at the same strides; their ImageNet weights are made by
    ``tools/convert_efficientnet_lite.py``).

    The classification head reads the decoder at 1/2 of the input size (the last, full-size
    level and its ``decoder_channels`` entry are not built): a 261-way softmax per pixel at full
    size would cost four times the memory for colour that is upsampled anyway.

    ``hints`` adds a second input ``hints`` (S, S, 5; :func:`colorizer.models.hint_input.hint_maps`: the
    hinted ab, their mask and their inverse-distance fill) for user-guided colouring (Zhang et al.
    2017). It joins the decoder, not the encoder: the pretrained encoder expects a gray photo,
    while the decoder is where colour is formed, at every scale. The map is average-pooled to each
    decoder level and added to that level's upsampled features through a 1x1 conv, and once
    more to the ab output before its tanh. Those convs have no bias and start at zero, so with
    no hints (a map of zeros) the model computes exactly what the same model without hints does,
    and one warm-started from a hint-less model (``train.warm_start`` copies the layers by name)
    starts out colouring exactly as it did. The map is first multiplied by ``HINT_GAIN``: Adam
    moves each weight by about the learning rate per step, so zero-started hint kernels, which
    must grow to about 1 / HINT_GAIN, learn HINT_GAIN times faster than the rest (without it,
    one epoch on Flickr8k at 1e-3 brought them to only ~0.085). Regression head only.

    ``hint_film`` (the default) makes the hints modulate the features as well as shift them
    (FiLM, Perez et al. 2018): each level becomes ``x * (1 + scale) + shift``, where ``scale``
    and a second shift come from zero-started 1x1 convs of the local map beside its mean over
    the whole photo. An additive map alone cannot tone colour down: where every hint is near
    gray, its fill is near zero and adds nothing, so such a model kept its own colour and lost
    1 dB to the plain fill on the least colourful photos; the global mean also tells every
    pixel what the hints say overall. Still exactly the hint-less model with no hints.
    """
    check_head(head)
    if hints and head != "regression":
        raise ValueError("hints=True needs the regression head (a classification head does not "
                         "take hints yet)")
    _check_encoder_scale("lite0_unet", image_size, encoder_scale)
    lite.check_variant(encoder)
    inputs = keras.Input((image_size, image_size, 1), name="lightness")
    if hints:
        hint_input = keras.Input((image_size, image_size, HINT_CHANNELS), name="hints")
        hint_map = layers.Rescaling(HINT_GAIN, name="hints_gain")(hint_input)
        hint_mean = layers.GlobalAveragePooling2D(keepdims=True, name="hints_mean")(hint_map) \
            if hint_film else None
    rgb = _to_encoder_size(_gray_as_rgb(inputs), encoder_scale)
    skips = _encoder(image_size * encoder_scale, weights, lite.feature_layers(encoder),
                     encoder)(rgb)
    x = skips[-1]
    # From the deepest features up to full size, where the gray input itself joins the skip.
    levels = [[skip] for skip in skips[-2::-1]]
    if encoder_scale == 1:
        levels.append([inputs])
    else:
        levels[-1].append(inputs)
    decoder_channels = tuple(decoder_channels or DECODER_CHANNELS[-len(levels):])
    if len(decoder_channels) != len(levels):
        raise ValueError(f"decoder_channels needs {len(levels)} entries at encoder_scale "
                         f"{encoder_scale}, got {len(decoder_channels)}")
    levels = list(zip(levels, decoder_channels))
    if head == "classification":
        levels = levels[:-1]
    for level, (level_skips, channels) in enumerate(levels):
        x = layers.Conv2D(channels, 1, name=f"up{level}_reduce")(x)
        x = layers.UpSampling2D(2, interpolation="bilinear", name=f"up{level}_resize")(x)
        if hints:
            x = _add_hints(x, hint_map, hint_mean, channels, image_size, f"up{level}")
        x = layers.Concatenate(name=f"up{level}_skip")([x, *level_skips])
        x = _conv_block(x, channels, f"up{level}")
    if head == "classification":
        return keras.Model(inputs, classification_head(x), name="lite0_unet")
    if not hints:
        outputs = layers.Conv2D(2, 1, activation="tanh", name="ab")(x)
        return keras.Model(inputs, outputs, name="lite0_unet")
    x = layers.Conv2D(2, 1, name="ab")(x)  # the same layer as above, its tanh applied after
    x = _add_hints(x, hint_map, hint_mean, 2, image_size, "ab")
    outputs = layers.Activation("tanh", name="ab_tanh")(x)
    return keras.Model({"lightness": inputs, "hints": hint_input}, outputs, name="lite0_unet")


def _hint_conv(inputs, channels: int, name: str):
    """A zero-initialised, bias-free 1x1 conv: zero until it learns, and zero for a zero map."""
    return layers.Conv2D(channels, 1, use_bias=False, kernel_initializer="zeros", name=name)(inputs)


def _add_hints(x, hint_map, hint_mean, channels: int, image_size: int, name: str):
    """``x`` + a 1x1 conv of the hint map pooled to x's size; with ``hint_mean`` (the map's mean
    over the photo) also ``x * scale + shift`` from the local map beside that mean."""
    factor = image_size // x.shape[1]
    if factor > 1:
        hint_map = layers.AveragePooling2D(factor, name=f"{name}_hints_pool")(hint_map)
    terms = [x, _hint_conv(hint_map, channels, f"{name}_hints")]
    if hint_mean is not None:
        mean = layers.UpSampling2D(x.shape[1], name=f"{name}_hints_spread")(hint_mean) \
            if x.shape[1] > 1 else hint_mean
        both = layers.Concatenate(name=f"{name}_hints_both")([hint_map, mean])
        scale = _hint_conv(both, channels, f"{name}_hints_scale")
        terms += [layers.Multiply(name=f"{name}_hints_scaled")([x, scale]),
                  _hint_conv(mean, channels, f"{name}_hints_global")]
    return layers.Add(name=f"{name}_hinted")(terms)
