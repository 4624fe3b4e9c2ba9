"""Side-by-side PNG of several models on the same photos: gray input | each model | original.

    python benchmarks/side_by_side.py --models lite0_unet.flickr8k_128 \
        lite0_unet_classification.mixed150k_128 --images examples/*.jpg -o docs/heads.png
    python benchmarks/side_by_side.py --models ... --data data/flickr8k --limit 6 \
        -o runs/heads_val.png          # validation photos: research-only, keep out of git

Each model colorizes the full-resolution photo (its default decoding and vividness;
``--temperature`` for the classification models; ``NAME@V`` sets vividness V); the colourfulness
of each result is printed under it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", required=True,
                        help="zoo names or model folders; NAME@V: at vividness V")
    parser.add_argument("--images", nargs="*", default=[], help="photo files")
    parser.add_argument("--data", help="or: a dataset folder (its val split)")
    parser.add_argument("--limit", type=int, default=6, help="photos taken from --data")
    parser.add_argument("--temperature", type=float, help="for classification models")
    parser.add_argument("--width", type=int, default=320, help="width of each panel in px")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    import colorizer
    from colorizer.training import data
    from colorizer.io.images import read_image
    from colorizer.evaluation.metrics import colourfulness

    paths = list(args.images) + (data.list_images(args.data, "val")[:args.limit] if args.data
                                 else [])
    if not paths:
        raise SystemExit("no photos: pass --images and/or --data")
    models = []
    for spec in args.models:
        name, _, vividness = spec.partition("@")
        model = colorizer.from_pretrained(name)
        models.append((spec, model.with_vividness(float(vividness)) if vividness else model))
    columns = 2 + len(models)
    figure, axes = plt.subplots(len(paths), columns, figsize=(3.2 * columns, 2.6 * len(paths)),
                                squeeze=False)
    for row, path in zip(axes, paths):
        rgb, _ = read_image(path)
        original = Image.fromarray(np.round(rgb * 255).astype(np.uint8))
        panels = [("gray input", original.convert("L").convert("RGB"))]
        for name, model in models:
            temperature = args.temperature if model.default_temperature is not None else None
            folder = Path(name.partition("@")[0])
            label = (f"{folder.parts[-3].rsplit('.', 1)[-1]} epoch {folder.name}"  # a run's
                     if folder.parent.name == "epochs" else folder.name)           # epochs/NNN
            panels.append((f"{label} (vividness {model.default_vividness:g})",
                           model.colorize(original, temperature=temperature)))
        panels.append(("original", original))
        for axis, (title, image) in zip(row, panels):
            scale = args.width / image.width
            shown = image.resize((args.width, round(image.height * scale)))
            axis.imshow(shown)
            cf = colourfulness(np.asarray(image.convert("RGB")))
            axis.set_title(f"{title}\nCF {cf:.1f}", fontsize=8)
            axis.axis("off")
    figure.tight_layout()
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.output, dpi=80)
    print(f"wrote {args.output} ({len(paths)} photos x {len(models)} models)")


if __name__ == "__main__":
    main()
