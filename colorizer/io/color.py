"""sRGB <-> CIELAB (D65, 2-degree observer) as Keras ops, and the model's L/ab normalisation.

The maths follows ``skimage.color.rgb2lab`` / ``lab2rgb`` (the test suite checks against it), so
numbers in Lab units mean the same thing as in the founding report and in Zhang et al. 2016.
All functions take float tensors with channels last and work on any leading shape. They are
written with ``keras.ops``, so the same code runs inside ``tf.data`` maps and TensorFlow graphs
(TensorFlow backend) and on JAX or PyTorch (e.g. training on a lent GPU without TensorFlow).
"""

from __future__ import annotations

import numpy as np
from keras import ops

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


RGB_FROM_XYZ = tuple(map(tuple, np.linalg.inv(np.array(XYZ_FROM_RGB))))
GAMUT_TOLERANCE = 1e-4  # linear-light slack of fit_chroma's gamut test (rounding, not colour)


def _check_channels(x, name: str):
    x = ops.convert_to_tensor(x)
    shape = tuple(x.shape)
    if shape and shape[-1] not in (None, 3):
        raise ValueError(f"{name} must have 3 channels in the last axis, got shape {shape}")
    if "float" not in str(ops.dtype(x)):
        raise TypeError(f"{name} must be a float tensor (sRGB in 0..1), got {ops.dtype(x)}")
    return x


def _matvec(matrix, x):
    """Apply a 3x3 matrix to the last axis of ``x``."""
    return ops.einsum("ij,...j->...i", ops.cast(ops.convert_to_tensor(matrix), ops.dtype(x)), x)


def srgb_to_linear(rgb):
    """Undo sRGB companding: 0..1 sRGB -> 0..1 linear light."""
    return ops.where(rgb > 0.04045, ops.power((ops.maximum(rgb, 0.04045) + 0.055) / 1.055, 2.4),
                     rgb / 12.92)


def linear_to_srgb(linear):
    """Apply sRGB companding: 0..1 linear light -> 0..1 sRGB (input clipped below at 0)."""
    linear = ops.maximum(linear, 0.0)
    return ops.where(
        linear > 0.0031308,
        1.055 * ops.power(ops.maximum(linear, 0.0031308), 1.0 / 2.4) - 0.055,
        12.92 * linear,
    )


def rgb_to_lab(rgb):
    """sRGB in 0..1 (float, channels last) -> CIELAB (L 0..100, a/b about -128..127)."""
    rgb = _check_channels(rgb, "rgb")
    xyz = _matvec(XYZ_FROM_RGB, srgb_to_linear(rgb))
    xyz = xyz / ops.cast(ops.convert_to_tensor(D65_WHITE), ops.dtype(rgb))
    f = ops.where(
        xyz > _LAB_EPSILON,
        ops.power(ops.maximum(xyz, _LAB_EPSILON), 1.0 / 3.0),
        _LAB_KAPPA_SLOPE * xyz + _LAB_OFFSET,
    )
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    lightness = 116.0 * fy - 16.0
    return ops.stack([lightness, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def lightness_of_luminance(luminance):
    """Relative luminance Y (white = 1) -> CIE L (0..100); NumPy, for one channel of a photo."""
    y = np.asarray(luminance)
    f = np.where(y > _LAB_EPSILON, np.cbrt(np.maximum(y, _LAB_EPSILON)),
                 _LAB_KAPPA_SLOPE * y + _LAB_OFFSET)
    return 116.0 * f - 16.0


def lab_to_linear(lab):
    """CIELAB -> linear-light sRGB, unclipped: a colour outside the sRGB gamut has a channel
    below 0 or above 1."""
    lab = _check_channels(lab, "lab")
    lightness, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    fy = (lightness + 16.0) / 116.0
    fx = a / 500.0 + fy
    fz = ops.maximum(fy - b / 200.0, 0.0)
    f = ops.stack([fx, fy, fz], axis=-1)
    xyz = ops.where(
        f > 0.2068966, f * f * f, (f - _LAB_OFFSET) / _LAB_KAPPA_SLOPE
    ) * ops.cast(ops.convert_to_tensor(D65_WHITE), ops.dtype(lab))
    return _matvec(RGB_FROM_XYZ, xyz)


def lab_to_rgb(lab):
    """CIELAB -> sRGB in 0..1, clipped to the displayable range (as skimage's lab2rgb)."""
    return ops.clip(linear_to_srgb(lab_to_linear(lab)), 0.0, 1.0)


def fit_chroma(lab, steps: int = 8):
    """``lab`` with each pixel's chroma reduced, as little as needed (to 1/2^``steps``), to bring
    it inside the sRGB gamut; lightness and hue are kept (clipping channels instead shifts the
    hue). In-gamut pixels are unchanged; gray is always inside (L in 0..100)."""
    lab = _check_channels(lab, "lab")

    def inside(scale):
        linear = lab_to_linear(ops.concatenate([lab[..., :1], lab[..., 1:] * scale], axis=-1))
        return ops.all((linear >= -GAMUT_TOLERANCE) & (linear <= 1.0 + GAMUT_TOLERANCE),
                       axis=-1, keepdims=True)

    low = ops.zeros_like(lab[..., :1])
    high = ops.ones_like(low)
    fits = inside(high)
    for _ in range(steps):
        middle = (low + high) / 2.0
        ok = inside(middle)
        low, high = ops.where(ok, middle, low), ops.where(ok, high, middle)
    scale = ops.where(fits, high, low)
    return ops.concatenate([lab[..., :1], lab[..., 1:] * scale], axis=-1)


def normalize_l(lightness):
    """L in 0..100 -> network input."""
    return (lightness - L_CENTER) / L_SCALE


def normalize_ab(ab):
    """ab in Lab units -> network target."""
    return ab / AB_SCALE


def denormalize_ab(ab):
    """Network output -> ab in Lab units."""
    return ab * AB_SCALE


def normalization() -> dict[str, float]:
    """The constants above, as saved into a model folder's config.json."""
    return {"l_center": L_CENTER, "l_scale": L_SCALE, "ab_scale": AB_SCALE}
