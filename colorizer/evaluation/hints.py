"""Evaluation with simulated user hints (``colorizer evaluate --hints 0,1,2,5,10``).

For each number of hints N, every photo gets N points sampled from its own ground truth with a
fixed seed (the training simulator's patches, :class:`colorizer.hints.simulator.HintSampler` with
``count=N``). Two predictors are scored on the same hints:

  model     a hint model's prediction, or for any other model its colour edited by the hints
            (:mod:`colorizer.hints.spread`, each patch a hint at its centre)
  idw_fill  the non-learned baseline: the hints' ab spread by inverse-distance weighting (the
            fill channels of the model's own hint input), over the photo's own L

Photos reach the network as in :mod:`colorizer.evaluation.evaluate` (the path of ``Colorizer.colorize``).
Metrics as there: ab MSE at model size (Lab units) and PSNR of the full-resolution RGB result. The curves against N are drawn like Zhang et al. 2017, figure 4.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from colorizer.evaluation import metrics
from colorizer.evaluation.evaluate import evaluation_photos, full_resolution, summary_header
from colorizer.hints.simulator import HintSampler
from colorizer.hints.spread import points_of_maps, spread
from colorizer.hub.folder_files import HINT_CURVES_NAME, HINT_METRICS_NAME
from colorizer.inference import compose
from colorizer.io import color
from colorizer.io.atomic import save_figure, write_text
from colorizer.io.figures import HINT_PREDICTORS

PREDICTORS = HINT_PREDICTORS
METRICS_NAME = HINT_METRICS_NAME
CURVES_NAME = HINT_CURVES_NAME


def parse_counts(text: str) -> list[int]:
    """"0,1,10" -> [0, 1, 10]; a clear ValueError for anything else."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--hints takes comma-separated numbers of hints, e.g. 0,10; got {text!r}"
                         ) from None
    if not counts or min(counts) < 0:
        raise ValueError(f"--hints takes numbers of hints >= 0, e.g. 0,10; got {text!r}")
    return sorted(set(counts))


def _predict(model, lightness: np.ndarray, ab_true: np.ndarray, count: int, batch_size: int,
             seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Model-size ab (Lab units) of the model and of the IDW fill, with ``count`` hints drawn
    from ``ab_true``: the n-th photo gets the hints of the n-th key of a stream seeded with
    ``seed`` (as the training pipeline's validation batches)."""
    import tensorflow as tf

    sampler = HintSampler(count=count, seed=seed)
    keys = list(tf.data.Dataset.random(seed=seed).take(len(lightness)).as_numpy_iterator())
    predictions, fills = [], []
    for start in range(0, len(lightness), batch_size):
        grid_l = lightness[start:start + batch_size]
        hints = np.stack([np.asarray(sampler.maps(tf.constant(ab_true[start + k]), keys[start + k]))
                          for k in range(len(grid_l))])
        if model.has_hints:
            predictions.append(model.predict_ab(grid_l, hints=hints))
        else:  # the model's own colour, edited where the hints are
            plain = model.predict_ab(grid_l)
            predictions.append(np.stack([spread(grid_l[k, ..., 0], plain[k],
                                                *points_of_maps(hints[k]))
                                         for k in range(len(plain))]))
        fills.append(color.denormalize_ab(hints[..., 3:5]))
    return np.concatenate(predictions), np.concatenate(fills)


def evaluate_hints(model, data_path: str | Path, counts: Sequence[int], *,
                   split: str | None = "val", batch_size: int = 32, limit: int = 0,
                   seed: int = 0, val_fraction: float = 0.2,
                   output: str | Path | None = None) -> dict[str, Any]:
    """Score ``model`` and the IDW fill with each number of hints in ``counts``.

    Writes hint_metrics.json and hint_curves.png to ``output`` when given."""
    counts = sorted(set(int(n) for n in counts))
    if not counts or counts[0] < 0:
        raise ValueError(f"numbers of hints must be >= 0, got {list(counts)}")
    lightness_small, ab_true, kept, report = evaluation_photos(
        model.image_size, data_path, split, limit, val_fraction, seed)
    results: dict[str, dict[str, dict[str, float]]] = {name: {} for name in PREDICTORS}
    for count in counts:
        ab_model, ab_fill = _predict(model, lightness_small, ab_true, count, batch_size, seed)
        predictions = {"model": ab_model, "idw_fill": ab_fill}
        psnrs = {name: [] for name in PREDICTORS}
        for index, path in enumerate(kept):
            lightness, original = full_resolution(path)
            for name in PREDICTORS:
                psnrs[name].append(metrics.psnr(compose(lightness, predictions[name][index]),
                                                original))
        for name in PREDICTORS:
            results[name][str(count)] = {"ab_mse": metrics.ab_mse(predictions[name], ab_true),
                                         "psnr": float(np.mean(psnrs[name]))}
    summary: dict[str, Any] = {
        **summary_header(model, data_path, split, kept, report),
        "hints": counts,
        "hint_seed": seed,
        "results": results,
    }
    if output is not None:
        output = Path(output)
        output.mkdir(parents=True, exist_ok=True)
        write_text(output / METRICS_NAME, json.dumps(summary, indent=2, sort_keys=True) + "\n")
        plot_curves(summary, output / CURVES_NAME)
    return summary


def plot_curves(summary: dict[str, Any], path: Path) -> None:
    """PSNR and ab MSE against the number of hints, model and IDW fill (the paper's figure)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = summary["hints"]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, key, title in ((axes[0], "psnr", "PSNR (dB)"), (axes[1], "ab_mse", "ab MSE")):
        for name, label in (("model", summary["model"] + " with hints"),
                            ("idw_fill", "inverse-distance fill of the hints")):
            axis.plot(counts, [summary["results"][name][str(n)][key] for n in counts], "o-",
                      label=label)
        if len(counts) > 1 and counts[0] == 0 and counts[-1] / max(counts[1], 1) > 10:
            axis.set_xscale("symlog", linthresh=1)
        axis.set_xlabel("ground-truth hints per photo")
        axis.set_title(f"{title}, {summary['images']} {summary['split'] or ''} photos at "
                       f"{summary['image_size']} px")
        axis.grid(alpha=0.3)
        axis.legend()
    save_figure(figure, path, dpi=100)
