"""Pack a dataset into a small bundle of JPEGs for training on a lent GPU (64 MiB travel limit).

    python training/make_device_bundle.py data/flickr8k .bundle --val-limit 300

Decodes with the project's pipeline (resize to --size, no grayscale or unreadable files), then
writes train.tar and val.tar of JPEGs (quality --quality, chroma kept at full resolution: 4:4:4
at quality 80 keeps the colour that 4:2:0 loses, about 5.7 KiB per 128 px photo). The bundle stays out of git
(.git/info/exclude) and holds research-only photos: never commit it. It also prints how much
colour the re-encoding loses: the gray baseline's ab MSE on the bundle's validation photos and
on the same photos as the pipeline decodes them from the originals.
"""

from __future__ import annotations

import argparse
import io
import os
import tarfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from colorizer import data  # noqa: E402

from colorizer.io import color


def gray_ab_mse(pixels: np.ndarray) -> float:
    """ab MSE of predicting gray (a = b = 0), i.e. the mean squared chroma, in Lab units."""
    lab = np.asarray(color.rgb_to_lab(pixels.astype(np.float32) / 255.0))
    return float(np.mean(lab[..., 1:] ** 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("output", type=Path)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--quality", type=int, default=80)
    parser.add_argument("--val-limit", type=int, default=300)
    parser.add_argument("--subsampling", type=int, default=0, choices=[0, 1, 2],
                        help="JPEG chroma subsampling: 0 = 4:4:4 (default), 2 = 4:2:0")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    for split, limit in (("train", None), ("val", args.val_limit or None)):
        pixels, _, _ = data.load_images(data.list_images(args.data, split)[:limit], args.size)
        with tarfile.open(args.output / f"{split}.tar", "w") as tar:
            for index, image in enumerate(pixels):
                buffer = io.BytesIO()
                Image.fromarray(image).save(buffer, "JPEG", quality=args.quality,
                                            subsampling=args.subsampling)
                info = tarfile.TarInfo(f"{index:05d}.jpg")
                info.size = buffer.tell()
                buffer.seek(0)
                tar.addfile(info, buffer)
        size = (args.output / f"{split}.tar").stat().st_size / 2**20
        print(f"{split}: {len(pixels)} images, {size:.1f} MiB")
    with tarfile.open(args.output / "val.tar") as tar:
        bundled = np.stack([np.asarray(Image.open(tar.extractfile(m)).convert("RGB"))
                            for m in tar.getmembers()])
    print(f"gray baseline ab MSE on the {len(pixels)} validation photos: "
          f"{gray_ab_mse(bundled):.1f} from the bundle, {gray_ab_mse(pixels):.1f} from the originals")


if __name__ == "__main__":
    main()
