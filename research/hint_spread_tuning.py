"""Tuning the hint spread's settings (reach, edge costs) on BSDS500's val split: the model runs
once per photo, then each setting is scored as benchmarks/hint_locality.py scores it.

    python research/hint_spread_tuning.py --photos 60 --reach 0.35 0.6 --l-edge 0.3 0.6 \\
        --ab-edge 0.2 0.4
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT / "data/bsds/BSDS500/data")
    parser.add_argument("--split", default="val")
    parser.add_argument("--model", default="lite0_unet.flickr8k_128")
    parser.add_argument("--photos", type=int, default=60)
    parser.add_argument("--reach", type=float, nargs="+", default=[0.35])
    parser.add_argument("--l-edge", type=float, nargs="+", default=[0.6])
    parser.add_argument("--ab-edge", type=float, nargs="+", default=[0.4])
    parser.add_argument("--grid", type=int, nargs="+", default=[320])
    parser.add_argument("--falloff", type=float, nargs="+", default=[2])
    parser.add_argument("--f-edge", type=float, nargs="+", default=[0.0])
    parser.add_argument("--stride-index", type=int, nargs="+", default=[2])
    parser.add_argument("--regions", type=str, default="",
                        help="JSON list of spread settings to score instead")
    args = parser.parse_args()

    import tensorflow as tf
    from PIL import Image

    import colorizer
    from colorizer.io import color
    from colorizer.hints import spread as hint_spread
    from colorizer.inference import compose, lightness_of_pixels, model_input
    from hint_locality import hint_of, hex_of, scores, segmentation

    model = colorizer.from_pretrained(args.model)
    cases = []
    for photo in sorted((args.data / "images" / args.split).glob("*.jpg"))[:args.photos]:
        rgb = np.asarray(Image.open(photo).convert("RGB"))
        labels = segmentation(args.data / "groundTruth" / args.split / f"{photo.stem}.mat")
        mask, point, hint = hint_of(rgb, labels)
        gray = np.asarray(Image.fromarray(rgb).convert("L"))
        lightness = lightness_of_pixels(gray)
        ab_small = model.predict_ab(model_input(lightness, model.image_size)[None])[0]
        lab_l = float(lightness[point[1], point[0], 0])
        cases.append((lightness, ab_small, mask, point, hint, hex_of(lab_l, hint)))
    lab = lambda image: np.asarray(color.rgb_to_lab(image.astype(np.float32) / 255.0))[..., 1:]
    if args.regions:
        import json

        original = hint_spread.spread
        for settings in json.loads(args.regions):
            hint_spread.spread = original
            if settings.pop("regions", False):
                hint_spread.spread = hint_spread.spread_regions
            results = []
            for lightness, ab_small, mask, point, hint, colour in cases:
                before = lab(compose(lightness, ab_small))
                edited = hint_spread.edit(lightness, ab_small, [(*point, colour)], **settings)
                results.append(scores(before, lab(compose(lightness, edited)), mask, point,
                                      hint, 5))
            coverage, leak, take = np.mean(results, axis=0)
            print(f"settings {settings}: coverage {coverage:.3f} leak {leak:.2f} take {take:.1f}",
                  flush=True)
        return
    for reach, l_edge, ab_edge, grid, falloff, f_edge, stride_index in itertools.product(
            args.reach, args.l_edge, args.ab_edge, args.grid, args.falloff, args.f_edge,
            args.stride_index):
        hint_spread.GRID_SIDE = grid
        results = []
        for lightness, ab_small, mask, point, hint, colour in cases:
            before = lab(compose(lightness, ab_small))
            edited = hint_spread.edit(lightness, ab_small, [(*point, colour)], reach=reach,
                                      l_edge=l_edge, ab_edge=ab_edge, falloff=falloff,
                                      f_edge=f_edge, stride_index=stride_index)
            results.append(scores(before, lab(compose(lightness, edited)), mask, point, hint, 5))
        coverage, leak, take = np.mean(results, axis=0)
        print(f"reach {reach} l_edge {l_edge} ab_edge {ab_edge} grid {grid} falloff {falloff} f_edge {f_edge} stride {stride_index}: coverage "
              f"{coverage:.3f} leak {leak:.2f} take {take:.1f}", flush=True)


if __name__ == "__main__":
    main()
