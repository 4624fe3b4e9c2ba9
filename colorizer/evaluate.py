"""Evaluation against two trivial baselines, as a table, JSON and the report's "test stage" grid.

Predictors compared on the same images:
  model  the model's prediction
  gray   a = b = 0 (what the black-and-white input already is)
  mean   the mean ab of the evaluated images (the best constant colour)
Metrics (computed in :mod:`colorizer.metrics`, named in :mod:`colorizer.schema`): ab MSE at
model size in Lab units; PSNR and SSIM of the full-resolution RGB result; colourfulness of
results and originals and mean |dCF|; AuC and the class-rebalanced AuC (each pixel weighted by
the inverse prior of its ground-truth colour bin, the prior taken from the evaluated images
themselves, so every model is weighted alike); with ``realism``, KID against the originals and
content agreement (:mod:`colorizer.realism`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from colorizer import data, metrics, quantization
from colorizer.atomic import save_figure, write_text
from colorizer.images import read_image
from colorizer.inference import compose, lightness_of
from colorizer.schema import METRICS, evaluation_name, markdown_row

PREDICTORS = ("model", "gray", "mean")


def _predict_all(model, pixels: np.ndarray, batch_size: int, temperature: float | None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Model-size ab truth and prediction (Lab units) for cached uint8 pixels."""
    truths, predictions = [], []
    size = pixels.shape[1]
    for lightness, ab in data.make_dataset(pixels, size, batch_size):
        predictions.append(model.predict_ab(lightness, temperature))
        truths.append(ab.numpy())
    return np.concatenate(truths), np.concatenate(predictions)


def evaluate(model, data_path: str | Path, *, split: str | None = "val", batch_size: int = 32,
             limit: int = 0, grid_images: int = 8, output: str | Path | None = None,
             val_fraction: float = 0.2, seed: int = 0, temperature: float | None = None,
             name: str | None = None, vividness: float | None = None,
             realism: bool = True) -> dict[str, Any]:
    """Evaluate ``model`` on ``split`` of ``data_path``; write metrics.json and grid.png to output.

    ``temperature`` decodes a classification model (default 0.38). ``vividness`` (0..100) is
    the model's chroma gain, as :meth:`colorizer.Colorizer.colorize` takes it (ab MSE and AuC
    are of the ab before it). ``realism`` adds KID and content agreement (an ImageNet
    classifier judges every result and original). ``name`` is what cards and tables call this
    evaluation (default :func:`colorizer.schema.evaluation_name`'s, e.g. "flickr8k val").
    """
    from colorizer.inference import chroma_gain

    temperature = model.check_temperature(temperature)
    gain = chroma_gain(vividness)
    title = name or evaluation_name({"data": str(data_path), "split": split})
    size = model.image_size
    paths = data.list_images(data_path, split, val_fraction=val_fraction, seed=seed)
    if limit:
        paths = paths[:limit]
    pixels, kept, report = data.load_images(paths, size, skip_grayscale=False)
    if not kept:
        raise ValueError(f"no readable images in {data_path} ({split})")
    judge = None
    if realism:  # (built once the photos are there: a bad folder fails before it)
        from colorizer.realism import Judge, content_agreement, kid

        judge = Judge()
    ab_true, ab_model = _predict_all(model, pixels, batch_size, temperature)
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
        rgb, _ = read_image(path)
        original = np.round(rgb * 255.0).astype(np.uint8)
        lightness = lightness_of(rgb)
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
        "vividness": 0.0 if vividness is None else float(vividness),
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
        summary["judge"] = f"EfficientNet-{judge.variant.capitalize()} (ImageNet)"
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


def format_table(summary: dict[str, Any]) -> str:
    """The results of :func:`evaluate` as a Markdown table."""
    lines = [markdown_row(["predictor", *(m.label for m in METRICS)]),
             "|" + " --- |" * (len(METRICS) + 1)]
    for name in PREDICTORS:
        scores = summary["results"][name]
        lines.append(markdown_row([name, *(m.fmt.format(scores[m.key]) if m.key in scores
                                          else "-" for m in METRICS)]))
    # The originals against themselves: their own CF, and the metrics' best values.
    originals = {m.key: m.original for m in METRICS if m.original is not None}
    originals["colourfulness"] = summary["original_colourfulness"]
    lines.append(markdown_row(["original", *(m.fmt.format(originals[m.key]) if m.key in originals
                                             else "" for m in METRICS)]))
    return "\n".join(lines)


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
