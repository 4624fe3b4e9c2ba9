"""Quality metrics, defined once: ab MSE, PSNR, SSIM, colourfulness (Hasler & Suesstrunk 2003),
AuC (Zhang et al. 2016).

All take NumPy arrays; ab values are in Lab units and RGB images are uint8.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

# Zhang et al. 2016 raw accuracy: thresholds 0..150 on the ab distance.
AUC_THRESHOLDS = np.arange(0, 151, dtype=np.float32)


def ab_mse(ab_pred: np.ndarray, ab_true: np.ndarray) -> float:
    """Mean over pixels and both channels of the squared ab error (Lab units)."""
    return float(np.mean((np.asarray(ab_pred, np.float64) - np.asarray(ab_true, np.float64)) ** 2))


_IMAGE_PAIR = [tf.TensorSpec([None, None, 3], tf.uint8)] * 2


@tf.function(input_signature=_IMAGE_PAIR)
def _psnr(result: tf.Tensor, original: tf.Tensor) -> tf.Tensor:
    return tf.image.psnr(result, original, max_val=255)


# tf.image.ssim's constants: 11-tap Gaussian window of sigma 1.5, K1 = 0.01, K2 = 0.03.
_SSIM_TAPS, _SSIM_SIGMA, _SSIM_K1, _SSIM_K2 = 11, 1.5, 0.01, 0.03


@tf.function(input_signature=_IMAGE_PAIR)
def _ssim(result: tf.Tensor, original: tf.Tensor) -> tf.Tensor:
    """tf.image.ssim(result, original, max_val=255), with its 2-D Gaussian window applied as two
    1-D passes (the same window, separable): about 5x faster on a CPU at photo sizes."""
    x = tf.cast(result, tf.float32)[None]
    y = tf.cast(original, tf.float32)[None]
    taps = tf.range(_SSIM_TAPS, dtype=tf.float32) - (_SSIM_TAPS - 1) / 2
    window = tf.nn.softmax(-taps**2 / (2.0 * _SSIM_SIGMA**2))
    vertical = tf.tile(tf.reshape(window, [-1, 1, 1, 1]), [1, 1, 3, 1])
    horizontal = tf.tile(tf.reshape(window, [1, -1, 1, 1]), [1, 1, 3, 1])

    def blur(image):
        image = tf.nn.depthwise_conv2d(image, vertical, [1, 1, 1, 1], "VALID")
        return tf.nn.depthwise_conv2d(image, horizontal, [1, 1, 1, 1], "VALID")

    c1, c2 = (_SSIM_K1 * 255.0) ** 2, (_SSIM_K2 * 255.0) ** 2
    mean_x, mean_y = blur(x), blur(y)
    num0, den0 = 2.0 * mean_x * mean_y, mean_x**2 + mean_y**2
    luminance = (num0 + c1) / (den0 + c1)
    structure = (2.0 * blur(x * y) - num0 + c2) / (blur(x * x + y * y) - den0 + c2)
    return tf.reduce_mean(luminance * structure)


def psnr(result: np.ndarray, original: np.ndarray) -> float:
    """PSNR in dB of two uint8 RGB images (peak 255)."""
    return float(_psnr(result, original))


def ssim(result: np.ndarray, original: np.ndarray) -> float:
    """SSIM of two uint8 RGB images (TensorFlow's 11x11 Gaussian window, per channel, averaged)."""
    return float(_ssim(result, original))


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colourfulness of a uint8 RGB image (0 for gray)."""
    rgb = np.asarray(rgb, np.float64)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    rg = red - green
    yb = 0.5 * (red + green) - blue
    spread = np.sqrt(rg.std() ** 2 + yb.std() ** 2)
    mean = np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    return float(spread + 0.3 * mean)


def accuracy_curve(ab_pred: np.ndarray, ab_true: np.ndarray,
                   pixel_weights: np.ndarray | None = None) -> np.ndarray:
    """Share of pixels (optionally weighted) whose ab error is within each AUC threshold."""
    distance = np.linalg.norm(
        np.asarray(ab_pred, np.float32) - np.asarray(ab_true, np.float32), axis=-1
    ).ravel()
    weights = np.ones_like(distance) if pixel_weights is None else np.ravel(pixel_weights)
    order = np.argsort(distance)
    cumulative = np.concatenate([[0.0], np.cumsum(weights[order], dtype=np.float64)])
    within = np.searchsorted(distance[order], AUC_THRESHOLDS, side="right")
    return cumulative[within] / cumulative[-1]


def auc(curve: np.ndarray) -> float:
    """Area under an accuracy curve over thresholds 0..150, normalised to 0..1."""
    return float(np.trapezoid(curve, AUC_THRESHOLDS) / (AUC_THRESHOLDS[-1] - AUC_THRESHOLDS[0]))
