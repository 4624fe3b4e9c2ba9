"""Train zoo models from their configs on a lent GPU: Keras 3 on JAX, no TensorFlow needed.

    KERAS_BACKEND=jax python training/train_device.py --bundle .bundle --runs /tmp/runs \
        training/configs/lite0_unet.flickr8k_128.json

The same loop as ``colorizer train`` (:func:`colorizer.training.loop.train`: stages, optimizer, EMA,
checkpoints, resume, time limit), fed with NumPy batches (:class:`colorizer.training.sources.ArraySource`)
from the JPEG bundle of ``training/make_device_bundle.py``, since the photo folder itself does not
travel. It writes the same run folders (config.json, history.csv, curves.png, model/), so
``colorizer export`` and ``colorizer evaluate`` work on them unchanged. ``--time-limit`` sets each
run's ``time_limit``; ``--resume`` continues the runs in ``--runs``. Config fields the NumPy source
cannot honour (crop augmentation, a distribution strategy) are refused before training.

Single-machine: one process on one GPU (Keras on JAX, no distribution strategy). To train on
several machines use ``colorizer train --strategy multiworker`` on TensorFlow (training/README.md,
"Multi-worker training").
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from colorizer.training.sources import ArraySource  # noqa: E402
from colorizer.training.config import TrainConfig  # noqa: E402
from colorizer.training.loop import train  # noqa: E402


def read_bundle(tar_path: Path) -> np.ndarray:
    """All JPEGs of a bundle tar as uint8 (N, S, S, 3)."""
    with tarfile.open(tar_path) as tar:
        blobs = [tar.extractfile(member).read() for member in tar.getmembers() if member.isfile()]
    with ThreadPoolExecutor(16) as pool:
        images = list(pool.map(lambda b: np.asarray(Image.open(io.BytesIO(b)).convert("RGB")),
                               blobs))
    return np.stack(images)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Single-machine: one process on one GPU; multi-worker training is "
               "`colorizer train --strategy multiworker` on TensorFlow.")
    parser.add_argument("configs", nargs="+", type=Path, help="training/configs/NAME.json")
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--runs", type=Path, required=True, help="folder for the run folders")
    parser.add_argument("--time-limit", type=float, default=600, help="seconds per run")
    parser.add_argument("--limit", type=int, default=0, help="first N images (smoke tests)")
    parser.add_argument("--resume", action="store_true", help="continue the runs in --runs")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    pixels = tuple(read_bundle(args.bundle / f"{split}.tar") for split in ("train", "val"))
    print(f"{len(pixels[0])} training / {len(pixels[1])} validation images ready in "
          f"{time.perf_counter() - start:.0f} s on Keras {keras.__version__} "
          f"({keras.backend.backend()})", flush=True)
    for path in args.configs:
        config = TrainConfig.load(path)
        config = dataclasses.replace(config, output=str(args.runs / path.stem),
                                     time_limit=args.time_limit,
                                     limit=args.limit or config.limit,
                                     val_limit=args.limit or config.val_limit)
        started = time.perf_counter()
        train(config, resume=args.resume, source=ArraySource(pixels))
        print(f"{config.model}: {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
