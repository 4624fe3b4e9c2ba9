"""The two output heads every architecture can be built with (``head=`` of ``create_model``).

``regression``: 2 channels, tanh, the normalised ab (trained with MSE, as the founding report).
``classification``: a softmax over the ab bins of :mod:`colorizer.models.quantization` (trained with the
class-rebalanced cross-entropy, decoded with the annealed mean; Zhang et al. 2016). The
classification head sits on a coarser feature map than the regression output (the paper's
distribution is at 1/4 of the input size); decoding upsamples the ab it gives.
"""

from __future__ import annotations

import keras
from keras import layers

from colorizer.models.registry import HEADS, check_head  # noqa: F401  (re-exported)
from colorizer.models.quantization import ab_bins


# What a head means for a user, as the model card says it: (what it predicts, its limitation);
# {temperature}: the model's default decoding temperature.
HEAD_CARD_TEXT = {
    "regression": (
        "predicts the colour channels ab",
        "A regression model averages the plausible colours of an object: results tend towards "
        "muted, brownish tones, and objects whose colour is ambiguous (clothes, cars, walls) get "
        "washed-out colour."),
    "classification": (
        "predicts, per pixel, a distribution over quantised ab colours (Zhang et al. 2016), "
        "decoded with the annealed mean (`temperature=`, default {temperature}; lower is bolder)",
        "Colour classes give vivid colour, sometimes the wrong one: an object whose colour is "
        "ambiguous may get a confident colour it never had."),
}


def classification_head(features) -> keras.KerasTensor:
    """1x1 conv to one logit per ab bin, softmax: the per-pixel colour distribution."""
    return layers.Conv2D(len(ab_bins()), 1, activation="softmax", name="ab_distribution")(features)
