"""The founding report's pretrained model (section 5.3): frozen Xception + transposed-conv decoder."""

from __future__ import annotations

import keras
from keras import layers

from colorizer.models.heads import check_head, classification_head
from colorizer.models.registry import register_model


@register_model(size_multiple=32)
def xception_decoder(image_size: int = 128, weights: str | None = "imagenet",
                     head: str = "regression") -> keras.Model:
    """Report 5.3: gray->3 channel conv, frozen Xception encoder, 5 Conv2DTranspose to ab.

    ``weights="imagenet"`` uses Keras' download/cache of the ImageNet weights (needs internet
    once); ``weights=None`` builds the same graph with random weights (offline tests).
    """
    if image_size % 32 or image_size < 96:
        raise ValueError(f"xception_decoder needs image_size >= 96 divisible by 32, got {image_size}")
    encoder = keras.applications.Xception(
        include_top=False, weights=weights, input_shape=(image_size, image_size, 3)
    )
    encoder.trainable = False
    check_head(head)
    model = keras.Sequential(
        [
            keras.Input((image_size, image_size, 1), name="lightness"),
            layers.Conv2D(3, 3, padding="same", name="gray_to_rgb"),
            encoder,
            layers.Conv2DTranspose(512, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2DTranspose(128, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu"),
        ],
        name="xception_decoder",
    )
    if head == "classification":  # the distribution at 1/2 of the input size
        return keras.Model(model.inputs, classification_head(model.outputs[0]),
                           name="xception_decoder")
    model.add(layers.Conv2DTranspose(2, 3, strides=2, padding="same", activation="tanh", name="ab"))
    return model
