"""Evaluation against two trivial baselines, as a table, JSON and the report's "test stage" grid.

Predictors compared on the same images:
  model  the model's prediction
  gray   a = b = 0 (what the black-and-white input already is)
  mean   the mean ab of the evaluated images (the best constant colour)
Every photo goes to the network as :meth:`colorizer.Colorizer.colorize` sends it, and the
full-resolution result scored is the one ``colorize`` returns (:func:`photos_at_model_size`,
:func:`full_resolution`). Metrics (computed in :mod:`colorizer.evaluation.metrics`, named in
:mod:`colorizer.io.figures`): ab MSE at model size in Lab units (against the true ab reduced as the
input is); PSNR and SSIM of the full-resolution RGB result; colourfulness of
results and originals and mean |dCF|; AuC and the class-rebalanced AuC (each pixel weighted by
the inverse prior of its ground-truth colour bin, the prior taken from the evaluated images
themselves, so every model is weighted alike); with ``realism``, KID against the originals and
content agreement (:mod:`colorizer.evaluation.realism`).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from colorizer.evaluation import metrics
from colorizer.inference import compose, lightness_of_pixels, model_input, photo_input
from colorizer.io import color
from colorizer.io.atomic import save_figure, write_text
from colorizer.io.figures import PREDICTORS, evaluation_name
from colorizer.io.images import ImageError, float_rgb, read_pixels
from colorizer.io.photo_files import LoadReport, list_images
from colorizer.models import quantization



def photos_at_model_size(paths: Sequence[str | Path], size: int
                         ) -> tuple[np.ndarray, np.ndarray, list[str], LoadReport]:
    """Each readable photo as the network sees it (:func:`colorizer.inference.photo_input`, the
    path :meth:`colorizer.Colorizer.colorize` takes) and its true ab reduced the same way:
    (L (N, size, size, 1) in 0..100, ab (N, size, size, 2) in Lab units, the paths kept, a
    report of the unreadable ones, which are skipped)."""
    lightness, truth, kept, unreadable = [], [], [], []
    for path in paths:
        try:
            pixels, _ = read_pixels(path)
        except ImageError:
            unreadable.append(str(path))
            continue
        lightness.append(photo_input(pixels, size)[1])
        truth.append(np.asarray(model_input(color.rgb_to_lab(float_rgb(pixels))[..., 1:], size)))
        kept.append(str(path))
    report = LoadReport(len(paths), unreadable, [])
    if unreadable:  # (one warning, as the training loader gives)
        warnings.warn(report.summary(), stacklevel=2)
    if not kept:
        return np.zeros((0, size, size, 1), np.float32), np.zeros((0, size, size, 2)), kept, report
    return np.stack(lightness), np.stack(truth), kept, report


def evaluation_photos(size: int, data_path: str | Path, split: str | None, limit: int,
                      val_fraction: float, seed: int):
    """:func:`photos_at_model_size` of the first ``limit`` (0: all) photos of ``split`` of a
    folder or list file; ValueError when none is readable."""
    paths = list_images(data_path, split, val_fraction=val_fraction, seed=seed)
    if limit:
        paths = paths[:limit]
    lightness, truth, kept, report = photos_at_model_size(paths, size)
    if not kept:
        raise ValueError(f"no readable images in {data_path} ({split})")
    return lightness, truth, kept, report


def full_resolution(path: str) -> tuple[np.ndarray, np.ndarray]:
    """A photo's full-resolution L (H, W, 1), as :meth:`colorizer.Colorizer.colorize` computes
    it, and its uint8 RGB original."""
    pixels, _ = read_pixels(path)
    lightness = lightness_of_pixels(pixels)
    return lightness, np.round(float_rgb(pixels) * 255.0).astype(np.uint8)


def evaluate(model, data_path: str | Path, *, split: str | None = "val", batch_size: int = 32,
             limit: int = 0, grid_images: int = 8, output: str | Path | None = None,
             val_fraction: float = 0.2, seed: int = 0, temperature: float | None = None,
             name: str | None = None, vividness: float | None = None,
             realism: bool = True) -> dict[str, Any]:
    """Evaluate ``model`` on ``split`` of ``data_path``; write metrics.json and grid.png to output.

    ``temperature`` decodes a classification model (default 0.38). ``vividness`` (0..100;
    default the model's own) is the chroma gain, as :meth:`colorizer.Colorizer.colorize` takes it (ab MSE and AuC
    are of the ab before it). ``realism`` adds KID and content agreement (an ImageNet
    classifier judges every result and original). ``name`` is what cards and tables call this
    evaluation (default :func:`colorizer.io.figures.evaluation_name`'s, e.g. "flickr8k val").
    """
    from colorizer.vividness import chroma_gain

    temperature = model.check_temperature(temperature)
    vividness = model.default_vividness if vividness is None else vividness
    gain = chroma_gain(vividness)
    title = name or evaluation_name({"data": str(data_path), "split": split})
    lightness_small, ab_true, kept, report = evaluation_photos(
        model.image_size, data_path, split, limit, val_fraction, seed)
    judge = None
    if realism:  # (built once the photos are there: a bad folder fails before it)
        from colorizer.evaluation.realism import Judge, content_agreement, kid

        judge = Judge()
    ab_model = np.concatenate([model.predict_ab(lightness_small[i:i + batch_size], temperature)
                               for i in range(0, len(kept), batch_size)])
    del lightness_small
    rebalance = quantization.inverse_prior_weights(ab_true)
    mean_ab = ab_true.reshape(-1, 2).mean(axis=0)
    predictions = {
        "model": ab_model,
        "gray": np.zeros_like(ab_true),
        "mean": np.broadcast_to(mean_ab, ab_true.shape),
    }
    per_image = {name: {k: [] for k in ("psnr", "ssim", "colourfulness", "delta_cf")}
                 for name in PREDICTORS}
    curves = {name: [] for name in PREDICTORS}
    rebalanced_curves = {name: [] for name in PREDICTORS}
    original_cf = []
    grid = []
    for index, path in enumerate(kept):
        lightness, original = full_resolution(path)
        cf_original = metrics.colourfulness(original)
        original_cf.append(cf_original)
        if judge is not None:
            judge.add("original", original)
        results = {}
        for name in PREDICTORS:
            result = compose(lightness, predictions[name][index],
                             gain if name == "model" else 1.0)
            results[name] = result
            if judge is not None:
                judge.add(name, result)
            scores = per_image[name]
            scores["psnr"].append(metrics.psnr(result, original))
            scores["ssim"].append(metrics.ssim(result, original))
            cf = metrics.colourfulness(result)
            scores["colourfulness"].append(cf)
            scores["delta_cf"].append(abs(cf - cf_original))
            curves[name].append(metrics.accuracy_curve(predictions[name][index], ab_true[index]))
            rebalanced_curves[name].append(metrics.accuracy_curve(
                predictions[name][index], ab_true[index], rebalance[index]))
        if len(grid) < grid_images:
            grid.append((results["gray"], results["model"], original))

    summary: dict[str, Any] = {
        **summary_header(model, data_path, split, kept, report),
        "temperature": temperature,
        "vividness": float(vividness),
        "name": title,
        "mean_ab": [float(v) for v in mean_ab],
        "original_colourfulness": float(np.mean(original_cf)),
        "results": {},
    }
    for name in PREDICTORS:
        summary["results"][name] = {
            "ab_mse": metrics.ab_mse(predictions[name], ab_true),
            **{k: float(np.mean(v)) for k, v in per_image[name].items()},
            "auc": 100.0 * metrics.auc(np.mean(curves[name], axis=0)),
            "auc_rebalanced": 100.0 * metrics.auc(np.mean(rebalanced_curves[name], axis=0)),
        }
        if judge is not None:
            scores = summary["results"][name]
            scores["content"] = content_agreement(judge.top1(name), judge.top1("original"))
            if len(kept) >= 2:  # (KID compares sets: one photo has none)
                scores["kid"], scores["kid_error"] = kid(judge.features("original"),
                                                         judge.features(name))
    if judge is not None:
        summary["judge"] = judge.name
    if output is not None:
        output = Path(output)
        output.mkdir(parents=True, exist_ok=True)
        write_text(output / "metrics.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
        if grid:
            save_grid(grid, output / "grid.png")
    return summary


def summary_header(model, data_path, split, kept: list[str], report) -> dict[str, Any]:
    """What every evaluation summary starts with: the data, the images and the model."""
    return {
        "data": str(data_path),
        "split": split,
        "images": len(kept),
        "skipped_unreadable": report.unreadable,
        "image_size": model.image_size,
        "model": model.architecture,
        "model_args": model.spec.args,
    }


def save_grid(rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]], path: Path) -> None:
    """The report's test stage: one row per image, gray input | prediction | original."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(rows), 3, figsize=(9, 3 * len(rows)), squeeze=False)
    for row, images in zip(axes, rows):
        for axis, image, title in zip(row, images, ("gray input", "prediction", "original")):
            axis.imshow(image)
            axis.set_title(title)
            axis.axis("off")
    save_figure(figure, path, dpi=80)
