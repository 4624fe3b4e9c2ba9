"""The founding report's autoencoder (section 5.2): exactly its layer table, 9,753,154 params."""

from __future__ import annotations

import keras
from keras import layers

from colorizer.models.heads import check_head, classification_head
from colorizer.models.registry import register_model


@register_model
def autoencoder(image_size: int = 128, head: str = "regression") -> keras.Model:
    """Report 5.2: 4 strided convs, Dense bottleneck of 256, 4 transposed convs (RMSprop)."""
    if image_size % 16:
        raise ValueError(f"autoencoder needs an image_size divisible by 16, got {image_size}")
    check_head(head)
    bottleneck = image_size // 16
    model = keras.Sequential(
        [
            keras.Input((image_size, image_size, 1), name="lightness"),
            layers.Conv2D(32, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2D(64, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2D(128, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2D(256, 3, strides=2, padding="same", activation="relu"),
            layers.Flatten(),
            layers.Dense(256, activation="relu"),
            layers.Dense(bottleneck * bottleneck * 256, activation="relu"),
            layers.Reshape((bottleneck, bottleneck, 256)),
            layers.Conv2DTranspose(256, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2DTranspose(128, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu"),
        ],
        name="autoencoder",
    )
    if head == "classification":  # the distribution at 1/2 of the input size
        return keras.Model(model.inputs, classification_head(model.outputs[0]), name="autoencoder")
    model.add(layers.Conv2DTranspose(2, 3, strides=2, padding="same", activation="tanh", name="ab"))
    return model
