"""Training losses and metrics, written with keras.ops (any Keras backend)."""

from __future__ import annotations

from keras import ops

from colorizer import color


def ab_mse(y_true, y_pred):
    """Keras metric: MSE of normalised ab, reported in Lab units (the report's validation loss)."""
    return ops.mean(ops.square(y_true - y_pred)) * color.AB_SCALE**2
