"""How fast a photo re-renders when a person adds a colour hint (the demo's loop).

    python benchmarks/hints_latency.py --model lite0_unet.flickr8k_128 --side 1024 --hints 10

Any model takes hints: a model without hint inputs runs as it does without them and its colour
is then edited (colorizer.hints.spread); a hint model (lite0_unet_hints.*) takes them as input.

The photo (examples/1909Chicago.jpg, its longer side resized to --side px) is decoded once, as
the demo holds an upload; each re-render is ``model.colorize(pixels, hints=...)`` with --hints
points at seeded random places and colours (full-resolution result, no file written), after
--warmup runs. Prints the median and spread of --runs re-renders; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

PHOTO = Path(__file__).resolve().parent.parent / "examples" / "1909Chicago.jpg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lite0_unet.flickr8k_128",
                        help="zoo name, model or run folder (default: the recommended model)")
    parser.add_argument("--side", type=int, default=1024, help="longer side of the photo (px)")
    parser.add_argument("--hints", type=int, default=10)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    import numpy as np
    from PIL import Image

    import colorizer
    from colorizer.io.images import read_image

    model = colorizer.from_pretrained(args.model)
    image = Image.open(PHOTO).convert("L")
    scale = args.side / max(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)),
                         Image.Resampling.LANCZOS)
    pixels, _ = read_image(image)  # decoded once, as the demo keeps an upload
    rng = np.random.default_rng(0)
    times = []
    for index in range(args.warmup + args.runs):
        hints = [(float(rng.uniform(0, image.width)), float(rng.uniform(0, image.height)),
                  tuple(int(v) for v in rng.integers(0, 256, 3))) for _ in range(args.hints)]
        start = time.perf_counter()
        model.colorize(pixels, hints=hints)
        if index >= args.warmup:
            times.append(time.perf_counter() - start)
    print(f"{args.model}: {image.width}x{image.height} px with {args.hints} hints: re-render "
          f"median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}) "
          f"over {args.runs} runs after {args.warmup} warm-up")


if __name__ == "__main__":
    main()
