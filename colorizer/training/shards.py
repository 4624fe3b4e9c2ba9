"""Training photos read from memory-mapped ``.npy`` shards, for both data sources.

``training/prepare_photos.py --shards`` writes a photo folder's pixels as ``shards/``: uint8
(N, P, P, 3) ``.npy`` files (P = 128) of at most ~60 MB, each with a ``.txt`` naming its photos,
and ``index.json`` (``{"pixels": P, "splits": {"train": [{"pixels": FILE, "photos": FILE,
"count": N}, ...], "val": [...], ...}}``), training photos in a seeded random order. When a
:class:`~colorizer.training.config.TrainConfig`'s ``data`` is such a folder (or its ``shards/`` folder),
:func:`open_splits` opens the "train" and "val" splits with ``numpy.load(mmap_mode="r")``
instead of decoding photo files: a :class:`Shards` copies only the photos a batch asks for,
so memory holds a batch, not the data set (the memory maps are page cache the system can drop).

- ``limit`` / ``val_limit`` take the first photos of a split (for training: a random sample,
  since the shards are in a seeded random order).
- Each training epoch reads the shards in a new order, photos shuffled within a window of
  :data:`SHUFFLE_WINDOW` consecutive shards (:meth:`Shards.epoch_order`), so an epoch touches a
  few shards at a time; the order is deterministic given the config's seed.
- An ``image_size`` below the shards' side is resized on the fly (Pillow, bicubic with
  antialiasing, as the photo files are decoded); a larger one is refused (it would upscale).
- The photos were filtered when the shards were written (near-gray ones dropped), so none is
  skipped here.
- The classification head's colour prior comes from the first :data:`PRIOR_PHOTOS` training
  photos (:func:`prior_sample`), a seeded random sample of the set.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from pathlib import Path
from typing import ClassVar

import numpy as np
from PIL import Image

from colorizer.io.jsonfiles import read_json

INDEX = "index.json"
MAX_INDEX_BYTES = 10_000_000  # an index lists a few hundred shards: tens of kB
SHUFFLE_WINDOW = 4  # shards whose photos are shuffled together within an epoch
PRIOR_PHOTOS = 5_000  # training photos the colour prior is computed from


@dataclasses.dataclass(frozen=True)
class Shards:
    """The photos of one split: memory-mapped shards seen as one uint8 (N, size, size, 3) array.

    Indexing (an int, slice or index array) copies only the photos asked for, resized to
    ``size`` when it is below the shards' side.
    """

    arrays: tuple[np.ndarray, ...]  # memory maps, in the index's order
    size: int
    dtype: ClassVar[np.dtype] = np.dtype(np.uint8)

    @functools.cached_property
    def starts(self) -> np.ndarray:
        """Index of each shard's first photo, and the number of photos last."""
        return np.cumsum([0, *(len(a) for a in self.arrays)])

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (int(self.starts[-1]), self.size, self.size, 3)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            return self[np.array([key])][0]
        indices = np.arange(len(self))[key] if isinstance(key, slice) else np.asarray(key)
        if indices.size and (indices.min() < -len(self) or indices.max() >= len(self)):
            raise IndexError(f"photo index out of range for {len(self)} photos")
        indices = indices % max(1, len(self))
        starts = self.starts
        shard_of = np.searchsorted(starts, indices, side="right") - 1
        out = np.empty((len(indices), self.size, self.size, 3), np.uint8)
        for shard in np.unique(shard_of):
            chosen = shard_of == shard
            pixels = self.arrays[shard][indices[chosen] - starts[shard]]
            out[chosen] = pixels if pixels.shape[1] == self.size else _resized(pixels, self.size)
        return out

    def head(self, count: int) -> "Shards":
        """The first ``count`` photos (all for 0), without copying."""
        arrays, left = [], count or len(self)
        for array in self.arrays:
            if left <= 0:
                break
            arrays.append(array[:left])
            left -= len(arrays[-1])
        return dataclasses.replace(self, arrays=tuple(arrays))

    def epoch_order(self, rng: np.random.Generator) -> np.ndarray:
        """One epoch's photo order: the shards in a random order, the photos of each window of
        :data:`SHUFFLE_WINDOW` consecutive shards shuffled together."""
        starts = self.starts
        shards = rng.permutation(len(self.arrays))
        windows = [shards[i:i + SHUFFLE_WINDOW] for i in range(0, len(shards), SHUFFLE_WINDOW)]
        return np.concatenate([
            rng.permutation(np.concatenate([np.arange(starts[s], starts[s + 1]) for s in window]))
            for window in windows] or [np.zeros(0, int)])


def shuffled_order(pixels, rng: np.random.Generator) -> np.ndarray:
    """An epoch's order of ``pixels``: :meth:`Shards.epoch_order`, or a permutation of an array."""
    if isinstance(pixels, Shards):
        return pixels.epoch_order(rng)
    return rng.permutation(len(pixels))


def prior_sample(pixels):
    """What the colour prior is computed from: the first :data:`PRIOR_PHOTOS` of shards, all
    of an array."""
    return pixels.head(PRIOR_PHOTOS) if isinstance(pixels, Shards) else pixels


def _resized(pixels: np.ndarray, size: int) -> np.ndarray:
    return np.stack([np.asarray(Image.fromarray(photo).resize((size, size), Image.BICUBIC))
                     for photo in pixels])


def shard_folder(data: str | Path) -> Path | None:
    """The shards folder of ``data`` (a prepared photo folder or its ``shards/``), or None when
    it has none. A ``shards/`` folder, or a folder of ``.npy`` files, without an index is an
    error."""
    data = Path(data)
    if not data.is_dir():
        return None
    for folder in (data / "shards", data):
        if (folder / INDEX).is_file():
            return folder
    for folder in (data / "shards", data):
        if folder.is_dir() and any(folder.glob("*.npy")):
            raise FileNotFoundError(f"{folder} holds .npy shards but no {INDEX} (written by "
                                    "training/prepare_photos.py --shards)")
    return None


def read_index(folder: Path) -> dict:
    """A shards folder's index.json, checked."""
    path = folder / INDEX
    index = read_json(path, max_bytes=MAX_INDEX_BYTES)  # size-checked; errors are one line
    if not (isinstance(index, dict) and isinstance(index.get("pixels"), int)
            and isinstance(index.get("splits"), dict)):
        raise ValueError(f"{path} must hold {{\"pixels\": SIDE, \"splits\": {{NAME: [shards]}}}}")
    return index


def open_split(folder: Path, index: dict, split: str, *, limit: int = 0,
               size: int | None = None) -> Shards:
    """The first ``limit`` photos (0 = all) of ``split``, at ``size`` px (default: the shards').

    Only the shards holding those photos are opened; a missing, truncated or misshapen shard is
    an error naming it.
    """
    side = index["pixels"]
    if size and size > side:
        raise ValueError(f"the shards in {folder} hold {side} px photos: image_size {size} "
                         f"would upscale them; train at {side} px or less")
    if split not in index["splits"]:
        raise ValueError(f"{folder / INDEX} has no {split!r} split (it has "
                         f"{', '.join(index['splits']) or 'none'})")
    arrays, wanted = [], limit or float("inf")
    for entry in index["splits"][split]:
        if sum(len(a) for a in arrays) >= wanted:
            break
        if not isinstance(entry, dict) or not isinstance(entry.get("pixels"), str):
            raise ValueError(f"{folder / INDEX}: a {split!r} shard entry must name its .npy "
                             f"file, got {entry!r}")
        path = folder / entry["pixels"]
        if not path.is_file():
            raise FileNotFoundError(f"shard {path} (named in {INDEX}) is missing")
        try:
            array = np.load(path, mmap_mode="r")
        except (ValueError, EOFError, OSError) as error:
            raise ValueError(f"{path} is not a readable .npy shard "
                             f"({str(error).splitlines()[0]})") from None
        expected = (entry.get("count"), side, side, 3)
        if array.shape != expected or array.dtype != np.uint8:
            raise ValueError(f"{path} holds {array.dtype} {array.shape}, {INDEX} says uint8 "
                             f"{expected}")
        arrays.append(array)
    return Shards(tuple(arrays), size or side).head(limit)


def open_splits(config, train_size: int | None = None) -> tuple[Shards, Shards] | None:
    """The training and validation photos of ``config.data``'s shards (None if it has none):
    ``limit`` / ``val_limit`` honoured, validation at ``image_size``, training at
    ``train_size`` (default ``image_size``; at most the shards' side)."""
    folder = shard_folder(config.data)
    if folder is None:
        return None
    index = read_index(folder)
    val = open_split(folder, index, "val", limit=config.val_limit, size=config.image_size)
    train = open_split(folder, index, "train", limit=config.limit,
                       size=min(train_size or config.image_size, index["pixels"]))
    print(f"reading {len(train)} training and {len(val)} validation photos from the "
          f"memory-mapped shards of {folder}", file=sys.stderr)
    return train, val
