"""Vividness on every model: colourfulness, PSNR and speckle at 0 / 25 / 50 / 75 / 100.

    python benchmarks/vividness.py --data data/flickr8k --limit 100

Each zoo model (or --models) colorizes the gray version of each validation photo at full
resolution (``Colorizer.colorize(..., vividness=v)``, its own decoding otherwise). Per setting,
the means over the photos of:

- CF: Hasler & Suesstrunk colourfulness of the result (the originals' printed beside);
- PSNR (dB) of the result's RGB against the original's;
- speckle (%): the share of coloured pixels (chroma >= 10) of the result reduced to 128 px
  whose hue is more than 60 degrees from the hue of the mean ab of their 9 x 9 neighbourhood:
  isolated hue flips, the blotchy speckle of a colour-class decoding pushed too far. A chroma
  gain keeps every pixel's hue (the gamut fit reduces chroma only), so it moves only as pixels
  of chroma just under 10 cross that line.

Prints a Markdown table a model and whether CF rose at every step; asserts nothing.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

SETTINGS = (0, 25, 50, 75, 100)


def speckle(rgb: np.ndarray, side: int = 128, window: int = 9, degrees: float = 60.0) -> float:
    """Percent of pixels with chroma >= 10 whose hue is over ``degrees`` from that of their
    ``window`` x ``window`` neighbourhood's mean ab, on the result reduced to ``side`` px (the
    models' colour grid: at full resolution the upsampled colour is smooth). A classification
    model decoded at its mode (temperature 0) scores 0.02-0.4 % on Flickr8k photos, at its own
    temperature 0."""
    from PIL import Image
    from scipy import ndimage

    from colorizer.io import color

    small = Image.fromarray(rgb)
    small.thumbnail((side, side), Image.Resampling.BOX)
    ab = np.asarray(color.rgb_to_lab(np.asarray(small, np.float32) / 255.0))[..., 1:]
    around = np.stack([ndimage.uniform_filter(ab[..., c], window) for c in (0, 1)], -1)
    coloured = np.hypot(ab[..., 0], ab[..., 1]) >= 10
    if not coloured.any():
        return 0.0
    cosine = (ab * around).sum(-1) / np.maximum(
        np.hypot(ab[..., 0], ab[..., 1]) * np.hypot(around[..., 0], around[..., 1]), 1e-6)
    flipped = (cosine < np.cos(np.radians(degrees))) & coloured
    return float(100.0 * flipped.sum() / coloured.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/flickr8k", help="a dataset folder (val split)")
    parser.add_argument("--limit", type=int, default=100, help="photos (the first of val)")
    parser.add_argument("--models", nargs="*", help="zoo names or folders (default: the zoo)")
    args = parser.parse_args()

    from PIL import Image

    import colorizer
    from colorizer.training import data
    from colorizer.evaluation import metrics

    names = args.models or [entry.name for entry in colorizer.list_pretrained()]
    paths = data.list_images(args.data, "val")[:args.limit]
    originals = [np.asarray(Image.open(path).convert("RGB")) for path in paths]
    grays = [np.asarray(Image.fromarray(rgb).convert("L")) for rgb in originals]
    real = np.mean([metrics.colourfulness(rgb) for rgb in originals])
    print(f"{args.data} val, first {len(paths)} photos at full resolution; originals' CF "
          f"{real:.1f}\n")
    print("| model | " + " | ".join(f"v {v}: CF / PSNR / speckle %" for v in SETTINGS)
          + " | CF up at every step |")
    print("| --- |" + " --- |" * (len(SETTINGS) + 1))
    for name in names:
        model = colorizer.from_pretrained(name)
        rows = []
        for vividness in SETTINGS:
            scores = []
            for gray, rgb in zip(grays, originals):
                result = np.asarray(model.colorize(gray, vividness=vividness))
                scores.append((metrics.colourfulness(result), metrics.psnr(result, rgb),
                               speckle(result)))
            rows.append(np.mean(scores, axis=0))
        rising = all(later[0] > earlier[0] for earlier, later in zip(rows, rows[1:]))
        print(f"| {name} | " + " | ".join(f"{cf:.1f} / {psnr:.2f} / {spots:.2f}"
                                         for cf, psnr, spots in rows)
              + f" | {'yes' if rising else 'no'} |", flush=True)


if __name__ == "__main__":
    main()
