"""Colour hints (Zhang et al. 2017): hint points -> the network's hint input, and a simulator.

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

:class:`HintSampler` simulates a user's hints for training and evaluation from the ground truth
(the paper's recipe): the number of points is geometric (p = 1/8) except for a share of photos
with none, positions uniform or Gaussian around the centre, patches of 1..9 px whose mean ab is
the hint. It is deterministic given its integer key (stateless TensorFlow random ops), so a
validation set gets the same hints every epoch.

The map functions are written with ``keras.ops`` (any backend, NumPy input, or inside tf.data
with the TensorFlow backend); the sampler uses TensorFlow and is meant for tf.data maps.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from keras import ops

from colorizer import color

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


@dataclasses.dataclass(frozen=True)
class HintSampler:
    """Simulated user hints (Zhang et al. 2017), deterministic given an integer key.

    ``count`` fixes the number of points (evaluation); otherwise a photo gets none with
    probability ``no_hint_share`` and else a geometric number of points (1, 2, ... with
    P(n) = p (1 - p)^(n - 1), mean 1/p), at most ``max_points``. Each point is uniform over the photo or, with probability
    ``gaussian_share``, Gaussian around the centre (sigma = size / 4); its patch side is uniform
    in 1..``max_patch``.
    """

    p: float = 1.0 / 8.0
    no_hint_share: float = 0.25
    max_points: int = 64
    max_patch: int = 9
    gaussian_share: float = 0.5
    count: int | None = None
    seed: int = 0

    def __post_init__(self):
        if not 0.0 < self.p <= 1.0:
            raise ValueError(f"p must be in (0, 1], got {self.p}")
        if not 0.0 <= self.no_hint_share <= 1.0:
            raise ValueError(f"no_hint_share must be in [0, 1], got {self.no_hint_share}")
        if self.max_points < 1 or self.max_patch < 1:
            raise ValueError("max_points and max_patch must be at least 1")
        if not 0.0 <= self.gaussian_share <= 1.0:
            raise ValueError(f"gaussian_share must be in [0, 1], got {self.gaussian_share}")
        if self.count is not None and self.count < 0:
            raise ValueError(f"count must be >= 0, got {self.count}")

    def points(self, ab, key):
        """(n, 5) hint points for one photo's ground-truth ``ab`` (S, S, 2, Lab units); TF."""
        import tensorflow as tf

        size = int(ab.shape[0])
        seeds = tf.random.experimental.stateless_split(
            tf.stack([tf.cast(key, tf.int64), tf.constant(self.seed, tf.int64)]), num=6)
        if self.count is not None:
            n = tf.constant(self.count, tf.int32)
        else:
            u = tf.random.stateless_uniform([2], seeds[0], minval=1e-7, maxval=1.0)
            geometric = 1.0 + tf.floor(tf.math.log(u[1]) / np.log1p(-self.p)) if self.p < 1 \
                else tf.constant(1.0)
            n = tf.where(u[0] < self.no_hint_share, 0.0,
                         tf.minimum(geometric, float(self.max_points)))
            n = tf.cast(n, tf.int32)
        uniform = tf.random.stateless_uniform(tf.stack([n, 2]), seeds[1], maxval=size,
                                              dtype=tf.int32)
        gaussian = tf.random.stateless_normal(tf.stack([n, 2]), seeds[2],
                                              mean=(size - 1) / 2.0, stddev=size / 4.0)
        gaussian = tf.cast(tf.clip_by_value(tf.round(gaussian), 0.0, size - 1.0), tf.int32)
        pick = tf.random.stateless_uniform(tf.stack([n, 1]), seeds[3]) < self.gaussian_share
        xy = tf.cast(tf.where(pick, gaussian, uniform), tf.float32)
        patch = tf.random.stateless_uniform(tf.stack([n, 1]), seeds[4], minval=1,
                                            maxval=self.max_patch + 1, dtype=tf.int32)
        points = tf.concat([xy, tf.zeros([n, 2]), tf.cast(patch, tf.float32)], axis=-1)
        return patch_means(ab, points)

    def maps(self, ab, key):
        """The hint input (S, S, 5) of one photo with simulated hints; TF (tf.data maps)."""
        return hint_maps(self.points(ab, key), int(ab.shape[0]))


# --- hints a person gives: points on the original photo, sRGB colours ---------------------------

# A person's hint covers a square of this side (model pixels) around the point: the simulated
# hints of training cover 1..9 px, and a click names the colour of a region, not of one pixel.
USER_PATCH = 3
# The most hints a photo takes: the hint maps hold a model-size plane per hint while they are
# made (256 x 128 x 128 floats: 16 MB), so an API call with millions of points cannot exhaust
# memory. Training simulates at most HintSampler.max_points (64).
MAX_HINTS = 256
# The most bytes of hints JSON read (256 hints take about 13 kB).
MAX_HINTS_BYTES = 1_000_000


def parse_colour(colour) -> tuple[int, int, int]:
    """An 8-bit sRGB colour from (r, g, b) or "#rrggbb"; ValueError otherwise."""
    if isinstance(colour, str):
        text = colour.strip()
        if len(text) != 7 or text[0] != "#":
            raise ValueError(f"a hint colour must be '#rrggbb', got {colour!r}")
        try:
            return tuple(int(text[i:i + 2], 16) for i in (1, 3, 5))
        except ValueError:
            raise ValueError(f"a hint colour must be '#rrggbb', got {colour!r}") from None
    try:
        values = tuple(colour)
    except TypeError:
        raise ValueError(f"a hint colour must be (r, g, b) or '#rrggbb', got {colour!r}") from None
    if len(values) != 3 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                   and 0 <= v <= 255 for v in values):
        raise ValueError(f"a hint colour must be three integers 0..255, got {colour!r}")
    return tuple(int(v) for v in values)


def parse_hints(hints, width: int, height: int) -> list[tuple[float, float, tuple[int, int, int]]]:
    """Check hints ``[(x, y, colour), ...]`` (or dicts with "x", "y", "color") against a photo of
    ``width`` x ``height`` pixels: x, y in its pixels (x to the right, y down, 0-based), colour
    (r, g, b) 0..255 or "#rrggbb". ValueError names the first bad hint; more than
    :data:`MAX_HINTS` hints are refused (the hint maps take memory per hint)."""
    if not isinstance(hints, (list, tuple)):
        raise ValueError(f"hints must be a list of (x, y, colour), got {type(hints).__name__}")
    if len(hints) > MAX_HINTS:
        raise ValueError(f"at most {MAX_HINTS} hints, got {len(hints)}")
    parsed = []
    for index, hint in enumerate(hints):
        if isinstance(hint, dict):
            unknown = sorted(set(hint) - {"x", "y", "color"})
            if unknown or not {"x", "y", "color"} <= set(hint):
                raise ValueError(f"hint {index} must have the keys x, y and color, got "
                                 f"{sorted(hint)}")
            hint = (hint["x"], hint["y"], hint["color"])
        try:
            x, y, colour = hint
        except (TypeError, ValueError):
            raise ValueError(f"hint {index} must be (x, y, colour), got {hint!r}") from None
        try:
            parsed.append((*check_point(x, y, width, height), parse_colour(colour)))
        except ValueError as error:
            raise ValueError(f"hint {index}: {error}") from None
    return parsed


def check_point(x, y, width: int, height: int) -> tuple[float, float]:
    """(x, y) as floats when the point lies on a ``width`` x ``height`` photo (x to the right,
    y down, 0-based); ValueError otherwise."""
    for name, value, limit in (("x", x, width), ("y", y, height)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ValueError(f"{name} must be a number of pixels, got {value!r} "
                             f"({type(value).__name__})")
        if not 0 <= value < limit:
            raise ValueError(f"{name} = {value!r} is outside the photo (0 <= {name} < {limit})")
    return float(x), float(y)


def read_hints_json(text: str | bytes) -> list[dict]:
    """Hints as the CLI and the web API take them: a JSON list of {"x", "y", "color"}, at most
    :data:`MAX_HINTS_BYTES` (ValueError otherwise, one line)."""
    from colorizer.jsonfiles import parse_json

    return _hint_list(parse_json(text, "hints", max_bytes=MAX_HINTS_BYTES, plural=True),
                      "hints")


def read_hints_file(path) -> list[dict]:
    """:func:`read_hints_json` of a file, its size checked before it is read; errors name it."""
    from colorizer.jsonfiles import read_json

    return _hint_list(read_json(path, max_bytes=MAX_HINTS_BYTES), f"{path}: hints")


def _hint_list(hints, name: str) -> list[dict]:
    if not isinstance(hints, list):
        raise ValueError(f'{name} must be a JSON list of {{"x": .., "y": .., "color": '
                         '"#rrggbb"}')
    return hints


def user_points(hints, width: int, height: int, size: int) -> np.ndarray:
    """Checked hints on a ``width`` x ``height`` photo -> hint points (K, 5) at model size
    ``size``: the point's model pixel, the colour's a, b (its lightness is not used: the photo
    keeps its own) and the patch side :data:`USER_PATCH`."""
    parsed = parse_hints(hints, width, height)
    if not parsed:
        return np.zeros((0, POINT_FIELDS), np.float32)
    xy = np.array([(x, y) for x, y, _ in parsed], np.float64)
    scale = np.array([size / width, size / height])
    model_xy = np.clip(np.floor((xy + 0.5) * scale), 0, size - 1)  # the model pixel holding it
    rgb = np.array([colour for _, _, colour in parsed], np.float32)[:, None, :] / 255.0
    ab = np.asarray(color.rgb_to_lab(ops.convert_to_tensor(rgb)))[:, 0, 1:]
    patch = np.full((len(parsed), 1), USER_PATCH, np.float64)
    return np.concatenate([model_xy, ab, patch], axis=1).astype(np.float32)
