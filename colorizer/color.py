"""sRGB <-> CIELAB (D65, 2-degree observer) as TensorFlow ops, and the model's L/ab normalisation.

The maths follows ``skimage.color.rgb2lab`` / ``lab2rgb`` (the test suite checks against it), so
numbers in Lab units mean the same thing as in the founding report and in Zhang et al. 2016.
All functions take float tensors with channels last and work on any leading shape, so they can be
used inside ``tf.data`` maps and inside Keras models alike.
"""

from __future__ import annotations

import tensorflow as tf

# Reference white of the D65 illuminant, 2-degree observer (as skimage).
D65_WHITE = (0.95047, 1.0, 1.08883)

# Linear sRGB -> XYZ (IEC 61966-2-1, the matrix skimage uses).
XYZ_FROM_RGB = (
    (0.412453, 0.357580, 0.180423),
    (0.212671, 0.715160, 0.072169),
    (0.019334, 0.119193, 0.950227),
)

# CIE constants: epsilon = (6/29)^3 and the slope of the linear segment of f(t).
_LAB_EPSILON = 0.008856
_LAB_KAPPA_SLOPE = 7.787
_LAB_OFFSET = 16.0 / 116.0

# Model-side normalisation (the reference implementation of Zhang et al.): the network sees
# (L - L_CENTER) / L_SCALE and predicts ab / AB_SCALE.
L_CENTER = 50.0
L_SCALE = 100.0
AB_SCALE = 110.0


def _check_channels(x: tf.Tensor, name: str) -> tf.Tensor:
    x = tf.convert_to_tensor(x)
    if x.shape.rank is not None and x.shape.rank >= 1 and x.shape[-1] not in (None, 3):
        raise ValueError(f"{name} must have 3 channels in the last axis, got shape {x.shape}")
    if not x.dtype.is_floating:
        raise TypeError(f"{name} must be a float tensor (sRGB in 0..1), got {x.dtype}")
    return x


def srgb_to_linear(rgb: tf.Tensor) -> tf.Tensor:
    """Undo sRGB companding: 0..1 sRGB -> 0..1 linear light."""
    return tf.where(rgb > 0.04045, tf.pow((rgb + 0.055) / 1.055, 2.4), rgb / 12.92)


def linear_to_srgb(linear: tf.Tensor) -> tf.Tensor:
    """Apply sRGB companding: 0..1 linear light -> 0..1 sRGB (input clipped below at 0)."""
    linear = tf.maximum(linear, 0.0)
    return tf.where(
        linear > 0.0031308,
        1.055 * tf.pow(tf.maximum(linear, 0.0031308), 1.0 / 2.4) - 0.055,
        12.92 * linear,
    )


def rgb_to_lab(rgb: tf.Tensor) -> tf.Tensor:
    """sRGB in 0..1 (float, channels last) -> CIELAB (L 0..100, a/b about -128..127)."""
    rgb = _check_channels(rgb, "rgb")
    matrix = tf.constant(XYZ_FROM_RGB, dtype=rgb.dtype)
    xyz = tf.linalg.matvec(matrix, srgb_to_linear(rgb))
    xyz = xyz / tf.constant(D65_WHITE, dtype=rgb.dtype)
    f = tf.where(
        xyz > _LAB_EPSILON,
        tf.pow(tf.maximum(xyz, _LAB_EPSILON), 1.0 / 3.0),
        _LAB_KAPPA_SLOPE * xyz + _LAB_OFFSET,
    )
    fx, fy, fz = tf.unstack(f, axis=-1)
    lightness = 116.0 * fy - 16.0
    return tf.stack([lightness, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def lab_to_rgb(lab: tf.Tensor) -> tf.Tensor:
    """CIELAB -> sRGB in 0..1, clipped to the displayable range (as skimage's lab2rgb)."""
    lab = _check_channels(lab, "lab")
    lightness, a, b = tf.unstack(lab, axis=-1)
    fy = (lightness + 16.0) / 116.0
    fx = a / 500.0 + fy
    fz = tf.maximum(fy - b / 200.0, 0.0)
    f = tf.stack([fx, fy, fz], axis=-1)
    xyz = tf.where(
        f > 0.2068966, tf.pow(f, 3.0), (f - _LAB_OFFSET) / _LAB_KAPPA_SLOPE
    ) * tf.constant(D65_WHITE, dtype=lab.dtype)
    rgb_from_xyz = tf.linalg.inv(tf.constant(XYZ_FROM_RGB, dtype=tf.float64))
    linear = tf.linalg.matvec(tf.cast(rgb_from_xyz, lab.dtype), xyz)
    return tf.clip_by_value(linear_to_srgb(linear), 0.0, 1.0)


def normalize_l(lightness: tf.Tensor) -> tf.Tensor:
    """L in 0..100 -> network input."""
    return (lightness - L_CENTER) / L_SCALE


def normalize_ab(ab: tf.Tensor) -> tf.Tensor:
    """ab in Lab units -> network target."""
    return ab / AB_SCALE


def denormalize_ab(ab: tf.Tensor) -> tf.Tensor:
    """Network output -> ab in Lab units."""
    return ab * AB_SCALE


def normalization() -> dict[str, float]:
    """The constants above, as saved into a model folder's config.json."""
    return {"l_center": L_CENTER, "l_scale": L_SCALE, "ab_scale": AB_SCALE}
