"""Where a hint model wins or loses against the inverse-distance fill, and a non-learned bar.

    python research/probe_hints.py --model weights/lite0_unet_hints.flickr8k_128 \
        --base lite0_unet.flickr8k_128 --data data/flickr8k --limit 150 --hints 10

On the first --limit photos of val.txt at model size, with --hints points sampled from each
photo's ground truth (the evaluation's seeded simulator, as `colorizer evaluate --hints`):

1. the hint model's and the fill's ab MSE and ab PSNR (peak 100, per photo, then averaged) by
   fifths of the photos' own colourfulness (mean ab magnitude): where the model loses;
2. with --base (a model without hint inputs), a non-learned predictor: the base model's colour
   plus the inverse-distance spread of the hints' residuals (hint ab minus the base model's ab at
   the hint's pixel): a bar any learned hint model should clear.
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a hint model")
    parser.add_argument("--base", help="a model without hint inputs, for the residual spread")
    parser.add_argument("--data", required=True)
    parser.add_argument("--limit", type=int, default=150)
    parser.add_argument("--hints", type=int, default=10)
    args = parser.parse_args()

    import tensorflow as tf

    import colorizer
    from colorizer import color, data
    from colorizer.hints import HintSampler, idw_fill

    model = colorizer.from_pretrained(args.model)
    size = model.image_size
    paths = data.list_images(args.data, "val")[:args.limit]
    pixels, _, _ = data.load_images(paths, size, skip_grayscale=False)
    sampler = HintSampler(count=args.hints, seed=0)
    truth, predicted, fill, lightness = [], [], [], []
    for batch_l, batch_ab, hints in data.make_dataset(pixels, size, 32, hints=sampler):
        hints = hints.numpy()
        predicted.append(model.predict_ab(batch_l.numpy(), hints=hints))
        fill.append(color.denormalize_ab(hints[..., 3:5]))
        truth.append(batch_ab.numpy())
        lightness.append(batch_l.numpy())
    truth, predicted, fill, lightness = map(np.concatenate, (truth, predicted, fill, lightness))

    def mse(prediction):  # per photo
        return ((prediction - truth) ** 2).mean(axis=(1, 2, 3))

    def psnr(errors):
        return 10 * np.log10(100.0 ** 2 / np.maximum(errors, 1e-3))

    print(f"{len(truth)} photos of {args.data} val, {args.hints} hints, {size} px")
    print(f"ab MSE: model {mse(predicted).mean():.1f}, fill {mse(fill).mean():.1f}")
    colourfulness = np.sqrt((truth ** 2).sum(-1)).mean(axis=(1, 2))
    gain = psnr(mse(predicted)) - psnr(mse(fill))
    print("| photos' mean ab magnitude | model ab MSE | fill ab MSE | model - fill ab PSNR dB |")
    print("| ---: | ---: | ---: | ---: |")
    for part in np.array_split(np.argsort(colourfulness), 5):
        print(f"| {colourfulness[part].mean():.1f} | {mse(predicted)[part].mean():.1f} | "
              f"{mse(fill)[part].mean():.1f} | {gain[part].mean():+.2f} |")
    if args.base:
        base = colorizer.from_pretrained(args.base)
        auto = base.predict_ab(lightness)
        spread = np.empty_like(auto)
        # The same points as above: make_dataset keys each photo's hints with this sequence.
        keys = tf.data.Dataset.random(seed=sampler.seed).take(len(truth)).as_numpy_iterator()
        for index, key in enumerate(keys):
            points = sampler.points(tf.constant(truth[index]), key).numpy()
            columns, rows = points[:, 0].astype(int), points[:, 1].astype(int)
            residuals = points.copy()
            residuals[:, 2:4] -= auto[index, rows, columns]
            spread[index] = auto[index] + np.asarray(idw_fill(residuals, size))
            assert np.allclose(np.asarray(idw_fill(points, size)), fill[index], atol=1e-2)
        print(f"base model {mse(auto).mean():.1f}; base + spread of the hints' residuals "
              f"{mse(spread).mean():.1f}")


if __name__ == "__main__":
    main()
