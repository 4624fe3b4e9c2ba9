"""Ten ground-truth hints on Flickr8k val, spread as a local edit of the default model's colour
(colorizer.hints.spread) against the hint model: ab MSE at 128 px.

    python research/hint_spread_gt_probe.py --limit 300 --count 10 --settings '[{}]'
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(ROOT / "data/flickr8k"))
    parser.add_argument("--model", default="lite0_unet.flickr8k_128")
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--settings", default="[{}]")
    args = parser.parse_args()

    import colorizer
    from colorizer.io import color
    from colorizer.training import data
    from colorizer.hints import spread as hint_spread
    from colorizer.evaluation import metrics
    from colorizer.hints.simulator import HintSampler

    model = colorizer.from_pretrained(args.model)
    paths = data.list_images(args.data, "val")[:args.limit]
    pixels, kept, _ = data.load_images(paths, model.image_size, skip_grayscale=False)
    sampler = HintSampler(count=args.count, seed=0)
    truths, plain, hinted = [], [], {i: [] for i in range(len(json.loads(args.settings)))}
    for lightness, ab, maps in data.make_dataset(pixels, model.image_size, 32, hints=sampler):
        prediction = model.predict_ab(lightness.numpy())
        maps = maps.numpy()
        for i, settings in enumerate(json.loads(args.settings)):
            for k in range(len(prediction)):
                mask = maps[k, ..., 2] > 0
                from scipy import ndimage

                labels, n = ndimage.label(mask)
                if n == 0:
                    hinted[i].append(prediction[k])
                    continue
                index = np.arange(1, n + 1)
                centres = np.rint(np.array(ndimage.center_of_mass(mask, labels, index))).astype(int)
                sparse = color.denormalize_ab(maps[k, ..., :2])
                colours = np.stack([ndimage.mean(sparse[..., c], labels, index) for c in (0, 1)], 1)
                grid_l = lightness.numpy()[k, ..., 0] * color.L_SCALE + color.L_CENTER
                hinted[i].append(hint_spread.spread(grid_l, prediction[k], centres, colours,
                                                    **settings))
        truths.append(ab.numpy())
        plain.append(prediction)
    truth = np.concatenate(truths)
    print(f"{len(truth)} photos, {args.count} hints: no hints {metrics.ab_mse(np.concatenate(plain), truth):.1f}")
    for i, settings in enumerate(json.loads(args.settings)):
        print(f"{settings}: {metrics.ab_mse(np.stack(hinted[i]), truth):.1f}", flush=True)


if __name__ == "__main__":
    main()
