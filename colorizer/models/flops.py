"""Counting a model's floating-point operations per image (2 per multiply-add), by layer type.

Convolutions, transposed convolutions and dense layers carry almost all of the work in these
networks; element-wise layers (BatchNorm, activations, resizing) are left out.
"""

from __future__ import annotations

import math

import keras
from keras import layers


def _layer_flops(layer) -> int:
    if isinstance(layer, keras.Model):
        return model_flops(layer)
    output = layer.output.shape
    if isinstance(layer, layers.SeparableConv2D):
        kh, kw = layer.kernel_size
        channels_in = layer.input.shape[-1]
        pixels = math.prod(output[1:3])
        return 2 * pixels * channels_in * (kh * kw * layer.depth_multiplier + layer.filters)
    if isinstance(layer, layers.DepthwiseConv2D):
        kh, kw = layer.kernel_size
        return 2 * kh * kw * math.prod(output[1:])
    if isinstance(layer, layers.Conv2DTranspose):
        kh, kw = layer.kernel_size
        input_shape = layer.input.shape
        return 2 * kh * kw * math.prod(input_shape[1:]) * layer.filters
    if isinstance(layer, layers.Conv2D):
        kh, kw = layer.kernel_size
        channels_in = layer.input.shape[-1]
        return 2 * kh * kw * channels_in * math.prod(output[1:]) // layer.groups
    if isinstance(layer, layers.Dense):
        return 2 * layer.input.shape[-1] * layer.units
    return 0


def model_flops(model: keras.Model) -> int:
    """FLOPs of one forward pass for one image at the model's built input size."""
    return sum(_layer_flops(layer) for layer in model.layers)
