"""The two output heads every architecture can be built with (``head=`` of ``create_model``).

``regression``: 2 channels, tanh, the normalised ab (trained with MSE, as the founding report).
``classification``: a softmax over the ab bins of :mod:`colorizer.quantization` (trained with the
class-rebalanced cross-entropy, decoded with the annealed mean; Zhang et al. 2016). The
classification head sits on a coarser feature map than the regression output (the paper's
distribution is at 1/4 of the input size); decoding upsamples the ab it gives.
"""

from __future__ import annotations

import keras
from keras import layers

from colorizer.models.registry import HEADS, check_head  # noqa: F401  (re-exported)
from colorizer.quantization import ab_bins


def classification_head(features) -> keras.KerasTensor:
    """1x1 conv to one logit per ab bin, softmax: the per-pixel colour distribution."""
    return layers.Conv2D(len(ab_bins()), 1, activation="softmax", name="ab_distribution")(features)
