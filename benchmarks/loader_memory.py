"""Time and memory of the training input pipeline on many photos (issue 17's groundwork).

    /usr/bin/time -v python benchmarks/loader_memory.py /work/data/mixed150k --photos 20000
    python benchmarks/loader_memory.py /work/data/mixed150k --photos 20000 --shards

Stages, each timed, with the process's peak resident memory (RSS) after it:

1. ``colorizer.training.data.load_images`` on a seeded sample of --photos training photos at --size px
   (what ``colorizer train`` does before the first epoch);
2. one pass of ``colorizer.training.data.make_dataset`` over those pixels (shuffled, flipped, batches of
   32 as in the shipped configs), no model: the pipeline's own cost.

With --shards, stage 1 instead opens the first --photos training photos of the folder's
``shards/`` (``training/prepare_photos.py --shards``) as memory maps
(:func:`colorizer.training.shards.open_split`, what ``colorizer train`` does with such a folder), and
stage 2 is the pass of ``make_dataset`` over them: photos read from the maps batch by batch in
a seeded windowed order, never copied into one array. Besides the peak RSS it prints the
resident memory now, split into anonymous memory (the process's own) and mapped files (shard
pages in the page cache, which the system may drop). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from colorizer import shards  # noqa: E402
from colorizer.training import data
from colorizer.training.config import TrainConfig  # noqa: E402


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux


def resident() -> str:
    """Resident memory now: anonymous and file-backed (memory maps), from /proc (Linux)."""
    status = Path("/proc/self/status")
    if not status.is_file():
        return ""
    fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
    anon, files = (int(fields[k].split()[0]) / 1e6 for k in ("RssAnon", "RssFile"))
    return f", resident now {anon:.2f} GB anonymous + {files:.2f} GB mapped files"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="photo folder with train.txt")
    parser.add_argument("--photos", type=int, default=20000)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shards", action="store_true", help="read shards/ instead of files")
    parser.add_argument("--augment", default="flip", help="augmentations of the pass "
                        "(comma-separated: flip, crop)")
    args = parser.parse_args()
    augment = tuple(a for a in args.augment.split(",") if a)

    print(f"start: peak RSS {peak_gb():.2f} GB", flush=True)
    start = time.time()
    if args.shards:
        # As colorizer train opens them (TfDataSource.load).
        config = TrainConfig(data=str(args.data), image_size=args.size, limit=args.photos,
                             val_limit=1, augment=list(augment))
        opened = shards.open_splits(config, data.cache_size(args.size, augment))
        if opened is None:
            sys.exit(f"error: {args.data} has no shards/index.json")
        pixels = opened[0]
        what = f"{len(pixels)} photos memory-mapped from {len(pixels.arrays)} shards"
    else:
        paths = data.list_images(args.data, "train")
        paths = sorted(random.Random(args.seed).sample(paths, min(args.photos, len(paths))))
        pixels, _, report = data.load_images(paths, args.size, warn=False)
        what = f"load_images: {report.kept} of {report.requested} photos kept"
    seconds = time.time() - start
    print(f"{what} at {pixels.shape[1]} px: {seconds:.1f} s ({len(pixels) / seconds:.0f} "
          f"photos/s), {np.prod(pixels.shape) / 1e9:.2f} GB, peak RSS {peak_gb():.2f} GB"
          f"{resident()}",
          flush=True)

    start = time.time()
    batches = 0
    for _ in data.make_dataset(pixels, args.size, 32, shuffle=True, augment=augment,
                               seed=args.seed):
        batches += 1
    seconds = time.time() - start
    print(f"make_dataset, one pass: {batches} batches in {seconds:.1f} s "
          f"({len(pixels) / seconds:.0f} photos/s), peak RSS {peak_gb():.2f} GB{resident()}",
          flush=True)


if __name__ == "__main__":
    main()
