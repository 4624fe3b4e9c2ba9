"""Simulated hints for training and evaluation (Zhang et al. 2017's recipe).

:class:`HintSampler` draws a photo's hint points from its ground truth: the number of points is
geometric (p = 1/8) except for a share of photos with none, positions uniform or Gaussian around
the centre, patches of 1..9 px whose mean ab is the hint. It is deterministic given its integer
key (stateless TensorFlow random ops), so a validation set gets the same hints every epoch; it
is meant for tf.data maps.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from colorizer.models.hint_input import hint_maps, patch_means


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
