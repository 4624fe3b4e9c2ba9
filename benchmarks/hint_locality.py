"""Does a colour hint colour its object, and nothing else? Measured on BSDS500's human
segmentations.

    python benchmarks/hint_locality.py --data data/bsds/BSDS500/data --split test \\
        --model lite0_unet.flickr8k_128 --model lite0_unet_hints.mixed150k_128

Per photo (its first annotator's segmentation): the largest segment, one hint at its most
interior pixel (the farthest from the segment's edge), the hint's colour the photo's own colour
there (mean ab of a 5 x 5 patch) turned half way round the hue circle, its chroma raised to 30
where it is less: a colour the model could not guess. Each model colours the gray photo with
and without that hint (``Colorizer.colorize``, full resolution), and in Lab:

- coverage: the share of the segment's pixels whose ab moved at least half way from the
  no-hint result towards the hint (the projection of the move on the line to the hint);
- leak: the mean |delta ab| outside the segment, leaving out a margin of ``--margin`` px;
- take: |ab - hint| at the hint's point.

Prints the means over the photos for each model, and the time of a hinted colorization. BSDS500
comes from the ``fetch`` snapshot of ``BIDS/BSDS500`` (see training/README.md); the test split
is not in the training sets of the Flickr8k models (the mixed set holds BSDS500's photos).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def segmentation(path: Path) -> np.ndarray:
    """The first annotator's label map of one BSDS500 photo."""
    from scipy.io import loadmat

    return loadmat(path)["groundTruth"][0, 0]["Segmentation"][0, 0].astype(np.int32)


def hint_of(rgb: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, tuple[int, int],
                                                            np.ndarray]:
    """(the largest segment's mask, its most interior point (x, y), the hint's ab)."""
    from scipy import ndimage

    from colorizer.io import color

    values, counts = np.unique(labels, return_counts=True)
    mask = labels == values[np.argmax(counts)]
    inside = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    y, x = np.unravel_index(np.argmax(inside), mask.shape)
    lab = np.asarray(color.rgb_to_lab(rgb.astype(np.float32) / 255.0))
    own = lab[max(y - 2, 0):y + 3, max(x - 2, 0):x + 3, 1:].reshape(-1, 2).mean(axis=0)
    chroma = float(np.hypot(*own))
    if chroma < 1e-3:
        own, chroma = np.array([1.0, 0.0]), 1.0  # no hue: turn from red
    turned = -own / chroma * max(chroma, 30.0)
    return mask, (int(x), int(y)), turned


def hex_of(lightness: float, ab: np.ndarray) -> str:
    """The hint as "#rrggbb" (only its chroma is used; its lightness is the photo's)."""
    from colorizer.io import color

    lab = np.array([[[lightness, ab[0], ab[1]]]], np.float32)
    rgb = np.clip(np.rint(np.asarray(color.lab_to_rgb(lab))[0, 0] * 255), 0, 255).astype(int)
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def scores(before: np.ndarray, after: np.ndarray, mask: np.ndarray, point: tuple[int, int],
           hint: np.ndarray, margin: int) -> tuple[float, float, float]:
    """(coverage, leak, take) of one hinted result against the result without it (Lab)."""
    from scipy import ndimage

    move = after - before
    towards = hint[None, None, :] - before
    progress = (move * towards).sum(-1) / np.maximum((towards * towards).sum(-1), 1e-6)
    coverage = float((progress[mask] >= 0.5).mean())
    outside = ~ndimage.binary_dilation(mask, iterations=margin)
    leak = float(np.linalg.norm(move, axis=-1)[outside].mean()) if outside.any() else 0.0
    x, y = point
    take = float(np.linalg.norm(after[y, x] - hint))
    return coverage, leak, take


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data/bsds/BSDS500/data")
    parser.add_argument("--split", default="test", choices=["train", "val", "test"])
    parser.add_argument("--model", action="append", help="zoo name or folder (repeatable)")
    parser.add_argument("--photos", type=int, default=0, help="the first N photos (0: all)")
    parser.add_argument("--margin", type=int, default=5, help="px left out around the segment")
    args = parser.parse_args()

    from PIL import Image

    import colorizer
    from colorizer.io import color

    names = args.model or ["lite0_unet.flickr8k_128", "lite0_unet_hints.mixed150k_128"]
    photos = sorted((args.data / "images" / args.split).glob("*.jpg"))
    photos = photos[:args.photos] if args.photos else photos
    if not photos:
        raise SystemExit(f"hint_locality.py: error: no photos in {args.data / 'images' / args.split}")
    print(f"BSDS500 {args.split}: {len(photos)} photos, first annotator's largest segment, one "
          f"counterfactual hint at its most interior point, margin {args.margin} px")
    print("| model | coverage | leak (ab) | take (ab) | hinted colorize (s, median) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in names:
        model = colorizer.from_pretrained(name)
        results, seconds = [], []
        for photo in photos:
            rgb = np.asarray(Image.open(photo).convert("RGB"))
            labels = segmentation(args.data / "groundTruth" / args.split / f"{photo.stem}.mat")
            mask, point, hint = hint_of(rgb, labels)
            gray = Image.fromarray(rgb).convert("L")
            lab_l = float(np.asarray(color.rgb_to_lab(rgb[point[1], point[0]][None, None]
                                                      .astype(np.float32) / 255.0))[0, 0, 0])
            plain = np.asarray(model.colorize(gray))
            began = time.perf_counter()
            hinted = np.asarray(model.colorize(gray, hints=[(*point, hex_of(lab_l, hint))],
                                               hints_as_input=model.has_hints))
            seconds.append(time.perf_counter() - began)
            before, after = (np.asarray(color.rgb_to_lab(image.astype(np.float32) / 255.0))[..., 1:]
                             for image in (plain, hinted))
            results.append(scores(before, after, mask, point, hint, args.margin))
        coverage, leak, take = np.mean(results, axis=0)
        print(f"| {name} | {coverage:.2f} | {leak:.1f} | {take:.1f} | "
              f"{np.median(seconds):.2f} |", flush=True)


if __name__ == "__main__":
    main()
