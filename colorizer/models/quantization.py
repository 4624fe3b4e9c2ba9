"""Colour classes for the classification head (Zhang et al. 2016): ab bins, soft-encoding, prior,
class rebalancing and annealed-mean decoding.

The ab plane is cut into a grid of ``GRID`` x ``GRID`` cells; a cell is a class when some 8-bit
sRGB colour falls into it (:func:`ab_bins`). Ground-truth ab values are soft-encoded onto their
``NEIGHBOURS`` nearest bin centres with Gaussian weights (``SIGMA``); the empirical prior of a
training set, smoothed with the same Gaussian, gives the rebalancing weights
``w ~ ((1 - lambda) p + lambda / Q)^-1`` normalised so that ``sum(p * w) = 1``; predictions are
decoded with the annealed mean ``softmax(log z / T) . centres``.

Why 261 bins and not the paper's 313: the bins are the cells of the 10 x 10 ab grid that some
8-bit sRGB colour falls into, computed from the gamut on first use (the projection of the sRGB
solid onto the ab plane is the projection of its surface, so the six faces of the RGB cube are
enough). That gives 261 cells spanning a = -90..100 and b = -110..90, the same extent as the
paper's 313; the paper's set holds 52 more cells inside that box that no sRGB colour reaches.
None of the gamut tests we tried gives 313 (cell centres in gamut at some L: 225; cells that
sRGB colours reach: 261; cells touching the convex hull of the sRGB ab: 270; other illuminants:
262-340), so we keep the cells a photo can produce: the others could never be a target.
Targets are soft-encoded at the resolution of the predicted distribution (1/4 of the input for
``cnn``, as in the paper; 1/2 for the others).

The tensor functions use ``keras.ops`` (they run inside the loss on any Keras backend); the prior
is plain NumPy.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Iterable

import numpy as np
from keras import ops

from colorizer.io import color
from colorizer.io.atomic import write_text
from colorizer.io.jsonfiles import read_json

GRID = 10.0  # bin size in Lab units
SIGMA = 5.0  # Gaussian of the soft-encoding and of the prior smoothing (Lab units)
NEIGHBOURS = 5  # bins each ground-truth colour is soft-encoded onto (the paper's choice)
REBALANCE_LAMBDA = 0.5  # mix of prior and uniform distribution in the rebalancing weights
TEMPERATURE = 0.38  # the paper's annealed-mean temperature
MAX_PRIOR_BYTES = 1_000_000  # a prior.json is about 14 kB (261 bins)


@functools.lru_cache(maxsize=4)
def ab_bins(grid: float = GRID) -> np.ndarray:
    """Centres (Q, 2) of the ``grid``-spaced ab cells that some 8-bit sRGB colour falls into.

    The projection of the sRGB solid onto the ab plane is the projection of its surface, so the
    six faces of the RGB cube (256 x 256 levels each) reach every cell any 8-bit colour reaches.
    Centres sit on multiples of ``grid`` and cells are half-open ``[c - grid/2, c + grid/2)``.
    """
    levels = np.arange(256, dtype=np.float32) / 255.0
    u, v = np.meshgrid(levels, levels, indexing="ij")
    faces = []
    for value in (0.0, 1.0):
        for axis in range(3):
            channels = [u, v]
            channels.insert(axis, np.full_like(u, value))
            faces.append(np.stack(channels, axis=-1).reshape(-1, 3))
    ab = ops.convert_to_numpy(color.rgb_to_lab(np.concatenate(faces)))[:, 1:]
    cells = np.unique(np.floor(ab / grid + 0.5).astype(np.int64), axis=0)
    return (cells * grid).astype(np.float32)


def _squared_distances(ab, centres):
    """(..., 2) ab and (Q, 2) centres -> (..., Q) squared distances, via one matmul."""
    centres = ops.cast(ops.convert_to_tensor(centres), ops.dtype(ab))
    return ops.maximum(
        ops.sum(ab * ab, axis=-1, keepdims=True)
        - 2.0 * ops.matmul(ab, ops.transpose(centres))
        + ops.sum(centres * centres, axis=-1),
        0.0,
    )


def nearest_bin(ab, centres=None) -> np.ndarray:
    """ab (..., 2) in Lab units -> index (...) of the nearest bin centre (NumPy)."""
    centres = ab_bins() if centres is None else centres
    ab = np.asarray(ab, np.float32)
    flat = ops.convert_to_numpy(_squared_distances(ab.reshape(-1, 2), centres))
    return np.argmin(flat, axis=-1).reshape(ab.shape[:-1])


def nearest_bins(ab, centres=None, *, neighbours: int = NEIGHBOURS, sigma: float = SIGMA):
    """ab (..., 2) in Lab units -> (indices, weights), each (..., neighbours), nearest first.

    The weights are ``exp(-d^2 / (2 sigma^2))`` over the chosen bins, normalised to sum to 1:
    the soft-encoding in sparse form (see :func:`soft_encode` for the dense one).
    """
    centres = ab_bins() if centres is None else centres
    ab = ops.convert_to_tensor(ab)
    negative, indices = ops.top_k(-_squared_distances(ab, centres), neighbours)
    return indices, ops.softmax(negative / (2.0 * sigma**2), axis=-1)


def soft_encode(ab, centres=None, *, neighbours: int = NEIGHBOURS, sigma: float = SIGMA):
    """ab (..., 2) in Lab units -> soft class distribution (..., Q) over the bins."""
    centres = ab_bins() if centres is None else centres
    indices, weights = nearest_bins(ab, centres, neighbours=neighbours, sigma=sigma)
    one_hot = ops.one_hot(indices, len(centres), dtype=weights.dtype)
    return ops.sum(one_hot * weights[..., None], axis=-2)


def annealed_mean(probabilities, centres=None, temperature: float = TEMPERATURE):
    """Class distribution (..., Q) -> ab (..., 2) in Lab units: ``softmax(log z / T) . centres``.

    ``temperature`` 1 gives the mean of the distribution; towards 0 it approaches the mode, and 0
    is the mode itself.
    """
    centres = ab_bins() if centres is None else centres
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    probabilities = ops.convert_to_tensor(probabilities)
    centres = ops.cast(ops.convert_to_tensor(centres), probabilities.dtype)
    if temperature == 0:
        return ops.take(centres, ops.argmax(probabilities, axis=-1), axis=0)
    logits = ops.log(ops.maximum(probabilities, 1e-12)) / temperature
    return ops.matmul(ops.softmax(logits, axis=-1), centres)


def decode(probabilities, size: int, temperature: float = TEMPERATURE):
    """A predicted distribution (N, h, w, Q) -> ab (N, size, size, 2) in Lab units: the annealed
    mean, upsampled bilinearly to the model's input size (the paper's decoding)."""
    ab = annealed_mean(probabilities, temperature=temperature)
    if ab.shape[1] == size:
        return ab
    return ops.image.resize(ab, (size, size), interpolation="bilinear")


def smooth(distribution: np.ndarray, centres: np.ndarray, sigma: float = SIGMA) -> np.ndarray:
    """A distribution over the bins blurred with a Gaussian of ``sigma`` in ab, renormalised."""
    distances = np.sum((centres[:, None, :] - centres[None, :, :]) ** 2, axis=-1)
    kernel = np.exp(-distances / (2.0 * sigma**2))
    blurred = kernel @ np.asarray(distribution, np.float64)
    return blurred / blurred.sum()


def empirical_prior(ab_batches: Iterable[np.ndarray], centres: np.ndarray | None = None, *,
                    sigma: float = SIGMA) -> np.ndarray:
    """Share of ground-truth pixels per bin (nearest bin), smoothed with ``sigma``: shape (Q,).

    ``ab_batches`` yields arrays (..., 2) of ab in Lab units (e.g. one per batch of images).
    """
    centres = ab_bins() if centres is None else centres
    counts = sum(np.bincount(nearest_bin(ab, centres).ravel(), minlength=len(centres))
                 for ab in ab_batches)
    if np.sum(counts) == 0:
        raise ValueError("no pixels to compute a colour prior from")
    return smooth(counts / np.sum(counts), centres, sigma)


def inverse_prior_weights(ab: np.ndarray) -> np.ndarray:
    """Per-pixel weights (...) = 1 / p(nearest bin of each ab), p the smoothed prior of ``ab``
    itself: the weighting of the class-rebalanced AuC."""
    centres = ab_bins()
    nearest = np.stack([nearest_bin(image, centres) for image in ab])
    counts = np.bincount(nearest.ravel(), minlength=len(centres))
    return 1.0 / smooth(counts / nearest.size, centres)[nearest]


def prior_from_images(pixels: np.ndarray, *, chunk: int = 256, sigma: float = SIGMA) -> np.ndarray:
    """The smoothed colour prior of uint8 RGB images (N, H, W, 3), e.g. a training set's cache."""

    def ab_chunks():
        for start in range(0, len(pixels), chunk):
            rgb = np.asarray(pixels[start:start + chunk], np.float32) / 255.0
            yield ops.convert_to_numpy(color.rgb_to_lab(rgb))[..., 1:]

    return empirical_prior(ab_chunks(), sigma=sigma)


def describe_prior(prior: np.ndarray, top: int = 5) -> str:
    """One paragraph about a prior: bins in use, entropy, the most common colours."""
    centres = ab_bins()
    used = int(np.sum(prior > 1e-6))
    entropy = float(-np.sum(prior[prior > 0] * np.log2(prior[prior > 0])))
    common = ", ".join(f"({a:+.0f}, {b:+.0f}) {100 * prior[i]:.1f}%"
                       for i in np.argsort(prior)[::-1][:top] for a, b in [centres[i]])
    return (f"{used} of {len(prior)} bins above 1e-6, entropy {entropy:.2f} bits "
            f"(uniform: {np.log2(len(prior)):.2f}); most common ab bins: {common}")


def rebalancing_weights(prior: np.ndarray, lam: float = REBALANCE_LAMBDA) -> np.ndarray:
    """``w ~ ((1 - lam) p + lam / Q)^-1``, normalised so that ``sum(p * w) = 1``."""
    prior = np.asarray(prior, np.float64)
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lambda must be between 0 and 1, got {lam}")
    weights = 1.0 / ((1.0 - lam) * prior + lam / len(prior))
    return weights / np.sum(prior * weights)


def save_prior(prior: np.ndarray, path: str | Path, **facts) -> Path:
    """Write a prior with its bins (and any ``facts``, e.g. the images it came from) as JSON."""
    path = Path(path)
    centres = ab_bins()
    if len(prior) != len(centres):
        raise ValueError(f"prior has {len(prior)} entries, the bins are {len(centres)}")
    record = {"grid": GRID, "sigma": SIGMA, "bins": centres.tolist(),
              "prior": [float(p) for p in prior], **facts}
    write_text(path, json.dumps(record, indent=1) + "\n")  # atomically
    return path


def load_prior(path: str | Path) -> np.ndarray:
    """Read a prior written by :func:`save_prior`, checking it is over this version's bins."""
    path = Path(path)
    try:
        record = read_json(path, max_bytes=MAX_PRIOR_BYTES)
        prior = np.asarray(record["prior"], np.float64)
        bins = np.asarray(record["bins"], np.float32)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path} is not a colour prior file: {error}") from None
    if bins.shape != ab_bins().shape or not np.allclose(bins, ab_bins()):
        raise ValueError(f"{path} holds a prior over other bins ({len(bins)}) than these "
                         f"({len(ab_bins())})")
    if prior.shape != (len(bins),):
        raise ValueError(f"{path} is not a colour prior file: its prior has shape {prior.shape}, "
                         f"its bins need ({len(bins)},)")
    return prior
