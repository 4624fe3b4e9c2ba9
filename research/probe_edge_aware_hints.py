"""Does an edge-aware spread of the hints beat the inverse-distance one? (Levin et al. 2004)

    python research/probe_edge_aware_hints.py --model lite0_unet_hints.flickr8k_128 \
        --base lite0_unet.flickr8k_128 --data data/flickr8k --limit 150 --hints 10

On the first --limit photos of val.txt at model size, with --hints points sampled from each
photo's ground truth (the evaluation's seeded simulator, as `colorizer evaluate --hints`), ab MSE
and mean per-photo ab PSNR (peak 100) of:

  idw                  the hints spread by inverse-distance weighting (the evaluation's baseline)
  levin                the hints spread by "Colorization using Optimization" (Levin, Lischinski and
                       Weiss 2004): each pixel's ab the affinity-weighted mean of its 3x3
                       neighbours', affinities Gaussian in L with the window's variance, the
                       hints' patches fixed; one sparse solve per photo
  base                 --base (a model without hint inputs), no hints
  base + idw/levin     --base plus the spread of the hints' residuals (hint minus base)
  model, model + levin the hint model, and plus the Levin spread of its own residuals

and how closely the hint model's mean ab over each hinted patch matches the hint. It tells how
far a better non-learned spread goes towards issue 16's targets.
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.sparse as sparse
import scipy.sparse.linalg as linalg


def levin_spread(lightness: np.ndarray, fixed: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(H, W, 2) ab: ``values`` where ``fixed`` > 0, elsewhere spread by L-affinity (Levin 2004)."""
    h, w = lightness.shape
    index = np.arange(h * w).reshape(h, w)
    padded = np.pad(lightness, 1, mode="edge")
    padded_index = np.pad(index, 1, constant_values=-1)
    shifts = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    neighbour_l = np.stack([padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dy, dx in shifts], -1)
    neighbour_i = np.stack([padded_index[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
                            for dy, dx in shifts], -1)
    valid = neighbour_i >= 0
    window = np.concatenate([neighbour_l, lightness[..., None]], -1)
    inside = np.concatenate([valid, np.ones((h, w, 1), bool)], -1)
    mean = (window * inside).sum(-1) / inside.sum(-1)
    variance = np.maximum((((window - mean[..., None]) ** 2) * inside).sum(-1) / inside.sum(-1),
                          1e-4)
    weights = np.exp(-(neighbour_l - lightness[..., None]) ** 2 / (2 * variance[..., None])) * valid
    weights /= np.maximum(weights.sum(-1, keepdims=True), 1e-12)
    rows = np.repeat(index[..., None], len(shifts), -1)[valid]
    affinity = sparse.csr_matrix((weights[valid], (rows, neighbour_i[valid])), shape=(h * w,) * 2)
    fixed = fixed.reshape(-1) > 0
    if not fixed.any():
        return np.zeros((h, w, 2))
    system = (sparse.diags((~fixed).astype(float)) @ (sparse.identity(h * w) - affinity)
              + sparse.diags(fixed.astype(float))).tocsc()
    solve = linalg.factorized(system)
    return np.stack([solve(np.where(fixed, values[..., c].reshape(-1), 0.0)) for c in (0, 1)],
                    -1).reshape(h, w, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a hint model")
    parser.add_argument("--base", required=True, help="a model without hint inputs")
    parser.add_argument("--data", required=True)
    parser.add_argument("--limit", type=int, default=150)
    parser.add_argument("--hints", type=int, default=10)
    args = parser.parse_args()

    import tensorflow as tf

    import colorizer
    from colorizer import data
    from colorizer.hints import HintSampler, idw_fill, patch_cover

    model = colorizer.from_pretrained(args.model)
    size = model.image_size
    paths = data.list_images(args.data, "val")[:args.limit]
    pixels, _, _ = data.load_images(paths, size, skip_grayscale=False)
    sampler = HintSampler(count=args.hints, seed=0)
    truth, hinted, lightness = [], [], []
    for batch_l, batch_ab, hints in data.make_dataset(pixels, size, 32, hints=sampler):
        hinted.append(model.predict_ab(batch_l.numpy(), hints=hints.numpy()))
        truth.append(batch_ab.numpy())
        lightness.append(batch_l.numpy())
    truth, hinted, lightness = map(np.concatenate, (truth, hinted, lightness))
    base = colorizer.from_pretrained(args.base).predict_ab(lightness)
    names = ("idw", "levin", "base", "base + idw", "base + levin", "model", "model + levin")
    predictions = {name: np.empty_like(truth) for name in names}
    # The same points as the model saw: make_dataset keys each photo's hints with this sequence.
    keys = tf.data.Dataset.random(seed=sampler.seed).take(len(truth)).as_numpy_iterator()
    misses = []  # |the hint model's mean ab over a hint's patch - the hint's ab|, per hint
    for i, key in enumerate(keys):
        points = sampler.points(tf.constant(truth[i]), key).numpy()
        cover = np.asarray(patch_cover(points, size))
        count = cover.sum(0)
        values = np.einsum("kyx,kc->yxc", cover, points[:, 2:4]) / np.maximum(count, 1)[..., None]
        misses += [np.linalg.norm(hinted[i][patch > 0].mean(0) - point[2:4])
                   for patch, point in zip(cover, points)]
        l_units = lightness[i, ..., 0]  # L, 0..100
        residual = points.copy()
        residual[:, 2:4] -= base[i, points[:, 1].astype(int), points[:, 0].astype(int)]
        predictions["idw"][i] = np.asarray(idw_fill(points, size))
        predictions["levin"][i] = levin_spread(l_units, count, values)
        predictions["base"][i] = base[i]
        predictions["base + idw"][i] = base[i] + np.asarray(idw_fill(residual, size))
        predictions["base + levin"][i] = base[i] + levin_spread(l_units, count, values - base[i])
        predictions["model"][i] = hinted[i]
        predictions["model + levin"][i] = hinted[i] + levin_spread(l_units, count,
                                                                   values - hinted[i])
    print(f"{len(truth)} photos of {args.data} val, {args.hints} hints, {size} px")
    print(f"the hint model's ab over a hint's patch misses the hint by {np.mean(misses):.2f} "
          f"(median {np.median(misses):.2f}) Lab units")
    print("| predictor | ab MSE | ab PSNR dB |\n| --- | ---: | ---: |")
    for name in names:
        errors = ((predictions[name] - truth) ** 2).mean(axis=(1, 2, 3))
        print(f"| {name} | {errors.mean():.1f} | "
              f"{np.mean(10 * np.log10(100.0 ** 2 / np.maximum(errors, 1e-3))):.2f} |")


if __name__ == "__main__":
    main()
