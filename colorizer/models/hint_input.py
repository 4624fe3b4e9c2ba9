"""A hint model's hint input (Zhang et al. 2017): hint points -> the maps the network sees.

A hint is a point (x, y in model pixels, x to the right, y down, 0-based) whose colour (a, b in
Lab units) is known over a small square patch around it. A hint model sees, besides L, a map of
``HINT_CHANNELS`` channels at model size (:func:`hint_maps`)::

    a_hint / 110, b_hint / 110   the hinted ab over each patch (0 elsewhere; overlaps averaged)
    mask                         1 over the patches, 0 elsewhere
    a_fill / 110, b_fill / 110   the inverse-distance-weighted (power 2) spread of the hints'
                                 ab over the whole map, from the patch centres (0 with no hints)

The dense fill is given because a network fed only the sparse map hardly learned to use it,
while with the fill it learned at once (measured on 2026-11-27). The fill is also the
non-learned baseline the evaluation compares against (:func:`idw_fill`).

Hint points come from the training simulator (:mod:`colorizer.hints.simulator`) or from a
person's hints (:mod:`colorizer.hints.user`). The map functions are written with ``keras.ops``
(any backend, NumPy input, or inside tf.data with the TensorFlow backend).
"""

from __future__ import annotations

import numpy as np
from keras import ops

from colorizer.io import color

HINT_CHANNELS = 5
POINT_FIELDS = 5  # x, y, a, b, patch side
IDW_POWER = 2.0
_TINY = 1e-12


def _as_points(points):
    points = ops.cast(ops.convert_to_tensor(points), "float32")
    return ops.reshape(points, (-1, POINT_FIELDS))


def patch_cover(points, size: int):
    """(K, size, size) float: 1 where point k's patch lies (clipped to the map), else 0.

    A patch of side p covers columns [x - (p - 1) // 2, ... + p), likewise rows, cut at the map's
    edges (so a patch at a corner is smaller)."""
    points = _as_points(points)
    coords = ops.arange(size, dtype="float32")
    half = ops.floor((points[:, 4] - 1.0) / 2.0)
    x0, y0 = points[:, 0] - half, points[:, 1] - half
    x1, y1 = x0 + points[:, 4], y0 + points[:, 4]
    cols = ops.cast((coords[None, :] >= x0[:, None]) & (coords[None, :] < x1[:, None]), "float32")
    rows = ops.cast((coords[None, :] >= y0[:, None]) & (coords[None, :] < y1[:, None]), "float32")
    return rows[:, :, None] * cols[:, None, :]


def idw_fill(points, size: int, power: float = IDW_POWER):
    """(size, size, 2) ab (Lab units): the hints' ab spread by inverse-distance weighting.

    Weights are 1 / d^power from each point's centre; at a centre pixel the point's own ab is
    returned (to float precision). With no points the fill is 0 (gray)."""
    points = _as_points(points)
    coords = ops.arange(size, dtype="float32")
    dy2 = ops.square(coords[None, :, None] - points[:, 1][:, None, None])
    dx2 = ops.square(coords[None, None, :] - points[:, 0][:, None, None])
    weights = ops.power(ops.maximum(dy2 + dx2, _TINY), -power / 2.0)  # (K, S, S)
    total = ops.sum(weights, axis=0)
    ab = ops.einsum("kyx,kc->yxc", weights, points[:, 2:4])
    return ab / ops.maximum(total, _TINY)[..., None]


def hint_maps(points, size: int, power: float = IDW_POWER):
    """The network's hint input (size, size, HINT_CHANNELS) for hint points (K, 5).

    ``points`` rows are (x, y, a, b, patch side), x and y in model pixels, a and b in Lab units;
    K may be 0 (a map of zeros: the model then colours as without hints)."""
    points = _as_points(points)
    cover = patch_cover(points, size)
    count = ops.sum(cover, axis=0)
    sparse = ops.einsum("kyx,kc->yxc", cover, points[:, 2:4]) / ops.maximum(count, 1.0)[..., None]
    mask = ops.minimum(count, 1.0)[..., None]
    fill = idw_fill(points, size, power)
    return ops.concatenate([color.normalize_ab(sparse), mask, color.normalize_ab(fill)], axis=-1)


def patch_means(ab, points):
    """Replace the a, b of each point with the mean ground-truth ``ab`` (S, S, 2) over its patch."""
    points = _as_points(points)
    ab = ops.cast(ops.convert_to_tensor(ab), "float32")
    cover = patch_cover(points, ab.shape[0] if ab.shape[0] is not None else ops.shape(ab)[0])
    sums = ops.einsum("kyx,yxc->kc", cover, ab)
    means = sums / ops.maximum(ops.sum(cover, axis=(1, 2)), 1.0)[:, None]
    return ops.concatenate([points[:, :2], means, points[:, 4:]], axis=-1)
