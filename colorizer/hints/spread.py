"""Colour hints as a local edit of any model's colour: each hint recolours the region that
belongs with its point, and little else.

A model predicts ab on a grid; the edit works on a grid of the photo's aspect (at most
:data:`GRID_SIDE` px on the long side). For each hint, the geodesic distance from its point is
found over a cost that is low inside smooth regions and high across edges of the photo's
lightness, of the model's own colour and of what an ImageNet encoder sees there
(EfficientNet-Lite0 features, which mark the edge between two things of one lightness), with
``skimage.graph.MCP_Geometric`` (a minimum-cost-path search). The distance grows slowly across
a sky or a wall and jumps at the edge of an object; the weight ``exp(-(d / reach)^8)`` is 1
over the region the point belongs to and falls to 0 beyond its edges. Where several hints
reach a pixel their colours mix in proportion to their weights, and the pixel's ab moves from
the model's colour to that mix by the largest weight: at a hint's point, the hint's colour.

Elsewhere the hints' residuals (hint minus the model's colour at its point) are spread
smoothly, scaled by n^p / (n^p + AGREEMENT) for n hints (p = AGREEMENT_POWER): many
hints that a person gives tell a cast of the whole photo, one hint tells almost none, so a
single click stays local. With no hints the model's ab is returned as it is.

This is the edge-aware idea of Levin, Lischinski and Weiss (2004) made local: their
optimisation spreads one hint over the whole photo, a geodesic distance with a reach stops.
"""

from __future__ import annotations

import numpy as np

GRID_SIDE = 320  # long side (px) of the grid the edit is computed on
# The settings below were chosen on BSDS500's val split (research/hint_spread_tuning.py) for a
# leak of at most 3 ab units; benchmarks/hint_locality.py measures them on its test split.
REACH = 1.6  # the weight's scale, a share of the grid's long side (in flat-region pixels)
FALLOFF = 8  # the weight's power of distance: flat near the point, then a quick drop
L_EDGE = 1.5  # cost of a unit of lightness gradient (L units a pixel), beside 1 a pixel
AB_EDGE = 1.5  # cost of a unit of the model's colour gradient (ab units a pixel)
F_EDGE = 3.0  # cost of a unit of encoder-feature gradient (EfficientNet-Lite0, stride 8)
SEED_RADIUS = 1  # the hint's point and its neighbours within this many grid pixels
CAST_REACH = 0.25  # the scale of the hints' smooth residual (a share of the long side)
AGREEMENT = 200.0  # the residual counts n^p / (n^p + AGREEMENT) for n hints: 0.005 for one,
AGREEMENT_POWER = 3.0  # 0.04 for two, 0.38 for five, 0.83 for ten (p)


def edge_cost(lightness: np.ndarray, ab: np.ndarray, l_edge: float = L_EDGE,
              ab_edge: float = AB_EDGE, features: np.ndarray | None = None,
              f_edge: float = 0.0) -> np.ndarray:
    """The cost of passing each grid pixel: 1, plus the gradients of L and of the model's ab
    (Sobel, after a light blur) and the encoder's feature edges (:func:`feature_edges`),
    weighted by ``l_edge``, ``ab_edge`` and ``f_edge``."""
    from scipy import ndimage

    def gradient(channel: np.ndarray) -> np.ndarray:
        smooth = ndimage.gaussian_filter(channel.astype(np.float64), 0.8)
        return np.hypot(ndimage.sobel(smooth, 0), ndimage.sobel(smooth, 1)) / 8.0

    colour = np.hypot(gradient(ab[..., 0]), gradient(ab[..., 1]))
    cost = 1.0 + l_edge * gradient(lightness) + ab_edge * colour
    if features is not None and f_edge:
        cost += f_edge * features
    return cost


def feature_edges(lightness: np.ndarray, stride_index: int = 2) -> np.ndarray:
    """Where what the photo shows changes: the gradient of EfficientNet-Lite0's (ImageNet)
    features of the gray photo ``lightness`` (h, w) at its ``stride_index`` feature layer, each
    channel scaled to unit spread, taken at the features' own resolution and resized to (h, w)
    in units a grid pixel. An edge between two things of one lightness shows here."""
    import keras
    import tensorflow as tf

    from colorizer.models.efficientnet_lite import efficientnet_lite, feature_layers, preprocess

    global _ENCODER
    if _ENCODER is None or _ENCODER[0] != stride_index:
        backbone = efficientnet_lite("lite0", include_top=False)
        layer = backbone.get_layer(feature_layers()[stride_index]).output
        _ENCODER = (stride_index, keras.Model(backbone.input, layer))
    height, width = lightness.shape
    gray = np.repeat((lightness / 100.0 * 255.0)[None, ..., None], 3, axis=-1)
    side = lambda n: max(32, int(round(n / 32)) * 32)  # (the encoder's sides: multiples of 32)
    image = tf.image.resize(gray, (side(height), side(width)), "bilinear")
    features = np.asarray(_ENCODER[1](preprocess(image), training=False))[0]
    features = features / (features.std(axis=(0, 1), keepdims=True) + 1e-6)
    rows, columns = np.gradient(features, axis=(0, 1))
    magnitude = np.sqrt(np.square(rows).sum(-1) + np.square(columns).sum(-1))
    step = height / features.shape[0]  # grid pixels a feature pixel
    return tf.image.resize(magnitude[None, ..., None] / step, (height, width),
                           "bilinear").numpy()[0, ..., 0]


_ENCODER = None


def hint_weights(cost: np.ndarray, points: np.ndarray, reach: float = REACH,
                 falloff: float = FALLOFF) -> np.ndarray:
    """(K, h, w) weights of K hint points ((row, column) on the grid) over the cost map."""
    from skimage.graph import MCP_Geometric

    height, width = cost.shape
    scale = reach * max(height, width)
    weights = np.empty((len(points), height, width), np.float32)
    for k, (row, column) in enumerate(np.asarray(points, int)):
        seeds = [(r, c) for r in range(row - SEED_RADIUS, row + SEED_RADIUS + 1)
                 for c in range(column - SEED_RADIUS, column + SEED_RADIUS + 1)
                 if 0 <= r < height and 0 <= c < width]
        distance, _ = MCP_Geometric(cost).find_costs(seeds)
        weights[k] = np.exp(-np.power(distance / scale, falloff))
    return weights


def spread(lightness: np.ndarray, ab: np.ndarray, points: np.ndarray, colours: np.ndarray,
           *, reach: float = REACH, l_edge: float = L_EDGE, ab_edge: float = AB_EDGE,
           falloff: float = FALLOFF, f_edge: float = F_EDGE, stride_index: int = 2,
           smooth_reach: float = CAST_REACH, agreement: float = AGREEMENT,
           agreement_power: float = AGREEMENT_POWER) -> np.ndarray:
    """The model's ``ab`` (h, w, 2) on a grid, edited by hints at ``points`` (K, 2: row,
    column of the grid) of colours ``colours`` (K, 2: a, b); ``lightness`` (h, w) the photo's L
    on the same grid. No hints: ``ab`` itself."""
    if len(points) == 0:
        return ab
    features = feature_edges(lightness, stride_index) if f_edge else None
    weights = hint_weights(edge_cost(lightness, ab, l_edge, ab_edge, features, f_edge), points,
                           reach, falloff)
    strength = weights.max(axis=0)
    mix = np.einsum("khw,kc->hwc", weights, np.asarray(colours, np.float32)) \
        / np.maximum(weights.sum(axis=0), 1e-6)[..., None]
    edited = ab + strength[..., None] * (mix - ab)
    if smooth_reach:
        edited += (1.0 - strength)[..., None] * cast(ab, points, colours, smooth_reach,
                                                      agreement, agreement_power)
    return edited.astype(np.float32)


def cast(ab: np.ndarray, points: np.ndarray, colours: np.ndarray, reach: float,
         agreement: float, power: float = AGREEMENT_POWER) -> np.ndarray:
    """The hints' residuals (hint minus the model's colour at its point) spread smoothly over
    the photo (Gaussian weights of ``reach`` times the long side), scaled by n^p / (n^p +
    ``agreement``) for p = ``power``: many hints tell a cast of the whole photo, one hint
    tells almost none."""
    height, width = ab.shape[:2]
    points = np.asarray(points, int)
    residuals = np.asarray(colours, np.float32) - ab[points[:, 0], points[:, 1]]
    rows, columns = np.mgrid[0:height, 0:width]
    scale = reach * max(height, width)
    weights = np.exp(-((rows[None] - points[:, 0, None, None]) ** 2
                       + (columns[None] - points[:, 1, None, None]) ** 2) / scale ** 2)
    field = np.einsum("khw,kc->hwc", weights, residuals) \
        / np.maximum(weights.sum(axis=0), 1e-6)[..., None]
    n = len(points)
    return field * (n ** power / (n ** power + agreement))


def grid_shape(height: int, width: int, side: int = GRID_SIDE) -> tuple[int, int]:
    """The edit grid of a ``height`` x ``width`` photo: its aspect, the long side ``side`` at
    most (never larger than the photo)."""
    scale = min(1.0, side / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def edit(lightness: np.ndarray, ab_small: np.ndarray, hints, gain: float = 1.0,
         **settings) -> np.ndarray:
    """A model's ab (S, S, 2 or any grid) for a photo of full-resolution ``lightness``
    (H, W, 1), edited by user ``hints`` (``[(x, y, colour), ...]`` in pixels of the photo, see
    :func:`colorizer.hints.user.parse_hints`): the edit grid's ab, for
    :func:`colorizer.inference.compose_image`. No hints: ``ab_small`` itself. ``gain``: the
    chroma gain the result is composed with (vividness); the hints' colours are divided by it,
    so that a hint comes out in the colour given."""
    import tensorflow as tf

    from colorizer.io import color
    from colorizer.hints.user import parse_hints

    height, width = lightness.shape[:2]
    parsed = parse_hints(hints, width, height)
    if not parsed:
        return ab_small
    rows, columns = grid_shape(height, width)
    ab = tf.image.resize(np.asarray(ab_small, np.float32), (rows, columns), "bilinear").numpy()
    grid_l = tf.image.resize(lightness, (rows, columns), "area").numpy()[..., 0]
    points = np.array([(min(int((y + 0.5) * rows / height), rows - 1),
                        min(int((x + 0.5) * columns / width), columns - 1))
                       for x, y, _ in parsed])
    rgb = np.array([colour for _, _, colour in parsed], np.float32)[:, None, :] / 255.0
    colours = np.asarray(color.rgb_to_lab(tf.convert_to_tensor(rgb)))[:, 0, 1:] / gain
    return spread(grid_l, ab, points, colours, **settings)


def points_of_maps(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The hint points of a hint input (S, S, 5, :func:`colorizer.models.hint_input.hint_maps`): each
    patch's centre (row, column) and its a, b (Lab units), for evaluating the edit on the
    hints simulated for a hint model."""
    from scipy import ndimage

    from colorizer.io import color

    mask = maps[..., 2] > 0
    labels, count = ndimage.label(mask)
    if count == 0:
        return np.zeros((0, 2), int), np.zeros((0, 2), np.float32)
    index = np.arange(1, count + 1)
    centres = np.rint(np.array(ndimage.center_of_mass(mask, labels, index))).astype(int)
    sparse = np.asarray(color.denormalize_ab(maps[..., :2]))
    colours = np.stack([ndimage.mean(sparse[..., c], labels, index) for c in (0, 1)], 1)
    return centres, colours.astype(np.float32)
