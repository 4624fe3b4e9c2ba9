"""Colorful Image Colorization (Zhang et al. 2016) style CNN, as in the founding report (5.1).

Eight conv blocks, strided convs instead of pooling, BatchNorm at the end of each block, dilated
blocks 5-6, block 8 upsamples with a transposed conv; the ab regression is made at 1/4 of the input
resolution and upsampled bilinearly to the input size (report: no softmax, MSE, Adam); with
``head="classification"`` block 8 ends in the paper's softmax over ab bins, also at 1/4 size.
``width`` scales every channel count so the network fits a CPU budget (1.0 = the paper's widths).
"""

from __future__ import annotations

import keras
from keras import layers

from colorizer.models.heads import check_head, classification_head
from colorizer.models.registry import register_model

# (channels, convs, stride of the last conv, dilation) per block, at width 1.0.
_BLOCKS = (
    (64, 2, 2, 1),
    (128, 2, 2, 1),
    (256, 3, 2, 1),
    (512, 3, 1, 1),
    (512, 3, 1, 2),
    (512, 3, 1, 2),
    (512, 3, 1, 1),
)
_BLOCK8_CHANNELS = 256


def _channels(base: int, width: float) -> int:
    return max(8, int(round(base * width)))


@register_model(size_multiple=8)
def cnn(image_size: int = 128, width: float = 1.0, head: str = "regression") -> keras.Model:
    """Report 5.1 / Zhang 2016: 8 conv blocks, dilated middle, ab at 1/4 size upsampled (Adam)."""
    if image_size % 8:
        raise ValueError(f"cnn needs an image_size divisible by 8, got {image_size}")
    check_head(head)
    if width <= 0:
        raise ValueError(f"width must be positive, got {width}")
    inputs = keras.Input((image_size, image_size, 1), name="lightness")
    x = inputs
    for index, (channels, convs, stride, dilation) in enumerate(_BLOCKS, start=1):
        for conv in range(convs):
            last = conv == convs - 1
            x = layers.Conv2D(
                _channels(channels, width),
                3,
                strides=stride if last else 1,
                dilation_rate=dilation,
                padding="same",
                activation="relu",
                name=f"conv{index}_{conv + 1}",
            )(x)
        x = layers.BatchNormalization(name=f"conv{index}_norm")(x)
    block8 = _channels(_BLOCK8_CHANNELS, width)
    x = layers.Conv2DTranspose(
        block8, 4, strides=2, padding="same", activation="relu", name="conv8_1"
    )(x)
    x = layers.Conv2D(block8, 3, padding="same", activation="relu", name="conv8_2")(x)
    x = layers.Conv2D(block8, 3, padding="same", activation="relu", name="conv8_3")(x)
    x = layers.BatchNormalization(name="conv8_norm")(x)
    if head == "classification":  # the paper's distribution at 1/4 of the input size
        return keras.Model(inputs, classification_head(x), name="cnn")
    x = layers.Conv2D(2, 1, activation="tanh", name="ab_quarter")(x)
    outputs = layers.UpSampling2D(4, interpolation="bilinear", name="ab")(x)
    return keras.Model(inputs, outputs, name="cnn")
