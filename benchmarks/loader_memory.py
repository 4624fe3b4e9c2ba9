"""Time and memory of the training input pipeline on many photos (issue 17's groundwork).

    /usr/bin/time -v python benchmarks/loader_memory.py /work/data/mixed150k --photos 20000
    python benchmarks/loader_memory.py /work/data/mixed150k --photos 20000 --shards

Stages, each timed, with the process's peak resident memory (RSS) after it:

1. ``colorizer.data.load_images`` on a seeded sample of --photos training photos at --size px
   (what ``colorizer train`` does before the first epoch);
2. one pass of ``colorizer.data.make_dataset`` over those pixels (shuffled, flipped, batches of
   32 as in the shipped configs), no model: the pipeline's own cost.

With --shards, stage 1 instead reads the same number of photos from the folder's ``shards/``
(``training/prepare_photos.py --shards``) as memory maps and copies them into one array.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from colorizer import data  # noqa: E402


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux


def from_shards(folder: Path, count: int) -> np.ndarray:
    index = json.loads((folder / "shards" / "index.json").read_text())
    arrays, total = [], 0
    for shard in index["splits"]["train"]:
        if total >= count:
            break
        pixels = np.load(folder / "shards" / shard["pixels"], mmap_mode="r")
        arrays.append(pixels[: count - total])
        total += len(arrays[-1])
    return np.concatenate(arrays)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="photo folder with train.txt")
    parser.add_argument("--photos", type=int, default=20000)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shards", action="store_true", help="read shards/ instead of files")
    args = parser.parse_args()

    print(f"start: peak RSS {peak_gb():.2f} GB", flush=True)
    start = time.time()
    if args.shards:
        pixels = from_shards(args.data, args.photos)
        what = f"{len(pixels)} photos from shards"
    else:
        paths = data.list_images(args.data, "train")
        paths = sorted(random.Random(args.seed).sample(paths, min(args.photos, len(paths))))
        pixels, _, report = data.load_images(paths, args.size, warn=False)
        what = f"load_images: {report.kept} of {report.requested} photos kept"
    seconds = time.time() - start
    print(f"{what} at {pixels.shape[1]} px: {seconds:.1f} s ({len(pixels) / seconds:.0f} "
          f"photos/s), array {pixels.nbytes / 1e9:.2f} GB, peak RSS {peak_gb():.2f} GB",
          flush=True)

    start = time.time()
    batches = 0
    for _ in data.make_dataset(pixels, args.size, 32, shuffle=True, augment=("flip",),
                               seed=args.seed):
        batches += 1
    seconds = time.time() - start
    print(f"make_dataset, one pass: {batches} batches in {seconds:.1f} s "
          f"({len(pixels) / seconds:.0f} photos/s), peak RSS {peak_gb():.2f} GB", flush=True)


if __name__ == "__main__":
    main()
