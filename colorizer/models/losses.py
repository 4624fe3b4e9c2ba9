"""Training losses and metrics, written with keras.ops (any Keras backend).

Every model trains on the same batches: normalised L in, normalised ab (input size) as target.
A regression head is trained with MSE; a classification head with the class-rebalanced
cross-entropy of Zhang et al. 2016 against the soft-encoded target, which the loss computes from
the ab target itself (pooled to the size of the predicted distribution). Both report ``ab_mse``
in Lab units; for a classification head on the annealed-mean decoding.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from colorizer.io import color
from colorizer.models import quantization


def ab_mse(y_true, y_pred):
    """Keras metric: MSE of normalised ab, reported in Lab units (the report's validation loss)."""
    return ops.mean(ops.square(y_true - y_pred)) * color.AB_SCALE**2


def _pool_to(ab, like):
    """Average-pool an ab target (N, S, S, 2) down to the spatial size of ``like``."""
    factor = ab.shape[1] // like.shape[1]
    if factor == 1:
        return ab
    return ops.average_pool(ab, factor, strides=factor, padding="valid")


class RebalancedCrossEntropy(keras.losses.Loss):
    """Cross-entropy of the predicted distribution against the soft-encoded ab target, each
    pixel weighted by the rebalancing weight of its nearest bin (Zhang et al. 2016, eq. 2-4)."""

    def __init__(self, prior: np.ndarray, lam: float = quantization.REBALANCE_LAMBDA,
                 name: str = "rebalanced_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.lam = lam
        self.prior = np.asarray(prior, np.float64)
        self.weights = quantization.rebalancing_weights(self.prior, lam).astype(np.float32)
        self.centres = quantization.ab_bins()

    def call(self, y_true, y_pred):
        ab = color.denormalize_ab(_pool_to(y_true, y_pred))
        indices, soft = quantization.nearest_bins(ab, self.centres)
        log_p = ops.log(ops.maximum(y_pred, 1e-7))
        cross_entropy = -ops.sum(soft * ops.take_along_axis(log_p, indices, axis=-1), axis=-1)
        return cross_entropy * ops.take(ops.convert_to_tensor(self.weights), indices[..., 0])

    def get_config(self):
        return {**super().get_config(), "prior": self.prior.tolist(), "lam": self.lam}


def annealed_ab_mse(temperature: float = quantization.TEMPERATURE):
    """Keras metric ``ab_mse`` for a classification head: annealed-mean ab vs the target."""

    def ab_mse(y_true, y_pred):  # noqa: F811 (same metric name as the regression one)
        ab = quantization.decode(y_pred, y_true.shape[1], temperature)
        return ops.mean(ops.square(color.denormalize_ab(y_true) - ab))

    return ab_mse


def objective(head: str, prior: np.ndarray | None = None,
              lam: float = quantization.REBALANCE_LAMBDA, *, temperature: float | None = None):
    """(loss, metrics) to compile a model with the given head (a classification head needs the
    training set's colour prior; its ab MSE metric decodes at ``temperature``, the model's own:
    ``ModelSpec.default_temperature``)."""
    if head == "classification":
        if prior is None:
            raise ValueError("a classification head needs a colour prior to train")
        return RebalancedCrossEntropy(prior, lam), [
            annealed_ab_mse(quantization.TEMPERATURE if temperature is None else temperature)]
    return "mse", [ab_mse]
