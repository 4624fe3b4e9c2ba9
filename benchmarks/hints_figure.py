"""Before/after figure of colour hints: gray | the model without hints | with hints (dots).

    python benchmarks/hints_figure.py --model lite0_unet.flickr8k_128 \
        --image examples/paperboy.jpg --hints examples/paperboy.hints.json \
        -o docs/hint_one_click.png

The hints file is the CLI's (a JSON list of {"x", "y", "color"} in the photo's pixels). Each
hint is drawn on the last panel as a dot of its colour with a white ring.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def draw_hints(image, hints, radius: int):
    """A copy of ``image`` with each hint (x, y, (r, g, b)) drawn as a ringed dot."""
    from PIL import ImageDraw

    image = image.copy()
    draw = ImageDraw.Draw(image)
    for x, y, colour in hints:
        box = (x - radius, y - radius, x + radius, y + radius)
        draw.ellipse(box, fill=colour, outline="white", width=max(2, radius // 3))
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="any model: zoo name or folder")
    parser.add_argument("--image", required=True, help="the photo")
    parser.add_argument("--hints", required=True, help="JSON list of {x, y, color}")
    parser.add_argument("--width", type=int, default=400, help="width of each panel in px")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    import colorizer
    from colorizer.io.atomic import save_figure
    from colorizer.hints.user import parse_hints, read_hints_json

    model = colorizer.from_pretrained(args.model)
    photo = Image.open(args.image)
    hints = parse_hints(read_hints_json(Path(args.hints).read_text()), *photo.size)
    panels = [("gray input", photo.convert("L").convert("RGB")),
              (f"{Path(args.model).name}, no hints", model.colorize(photo)),
              (f"with the {len(hints)} hint{'s' * (len(hints) != 1)} shown",
               draw_hints(model.colorize(photo, hints=hints), hints,
                          radius=max(4, photo.width // 80)))]
    figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6))
    for axis, (title, image) in zip(axes, panels):
        axis.imshow(image.resize((args.width, round(image.height * args.width / image.width))))
        axis.set_title(title, fontsize=9)
        axis.axis("off")
    save_figure(figure, Path(args.output), dpi=80)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
