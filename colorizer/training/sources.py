"""The training loop's data source without TensorFlow: Pillow decoding, NumPy batches through a
Keras ``PyDataset``, for any Keras backend (e.g. JAX on a GPU machine that has no TensorFlow).

It honours the data fields of :class:`~colorizer.training.config.TrainConfig` that it can (image size,
limits, flip augmentation, seed) and refuses the others with a clear error: random crops and
distribution strategies need the tf.data source (:class:`colorizer.training.data.TfDataSource`).
It is single-machine: one process, one device; multi-worker training is TensorFlow's.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence

import keras
import numpy as np
from PIL import Image

from colorizer.io import color
from colorizer.io.photo_files import GRAY_CHROMA, GRAY_PIXEL_SHARE, split_paths
from colorizer.training import shards


def decode_resized(path: str, size: int) -> np.ndarray | None:
    """A file as uint8 RGB (size, size, 3), bicubic with antialiasing; None if unreadable."""
    try:
        with Image.open(path) as image:
            image = image.convert("RGB").resize((size, size), Image.Resampling.BICUBIC)
            return np.asarray(image, np.uint8)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def colored_share(pixels: np.ndarray) -> np.ndarray:
    """Share of each image's pixels whose chroma exceeds GRAY_CHROMA (N images -> N shares)."""
    lab = np.asarray(color.rgb_to_lab(keras.ops.convert_to_tensor(pixels / 255.0, "float32")))
    return (np.linalg.norm(lab[..., 1:], axis=-1) > GRAY_CHROMA).mean(axis=(1, 2))


def load_pixels(paths: Sequence[str], size: int, *, threads: int = 8) -> np.ndarray:
    """Decode ``paths`` to uint8 (N, size, size, 3), skipping unreadable and near-gray files (one
    warning counts them), as :func:`colorizer.training.data.load_images` does with tf.data."""
    with ThreadPoolExecutor(threads) as pool:
        decoded = list(pool.map(lambda path: decode_resized(path, size), paths))
    readable = [image for image in decoded if image is not None]
    pixels = np.stack(readable) if readable else np.zeros((0, size, size, 3), np.uint8)
    shares = np.concatenate([colored_share(pixels[i:i + 256]) for i in range(0, len(pixels), 256)]
                            ) if len(pixels) else np.zeros((0,))
    keep = shares >= GRAY_PIXEL_SHARE
    skipped = len(paths) - int(keep.sum())
    if skipped:
        warnings.warn(f"skipped {skipped} of {len(paths)} images: "
                      f"{len(paths) - len(readable)} unreadable, {int((~keep).sum())} "
                      "near-grayscale", stacklevel=2)
    return pixels[keep]


class PixelBatches(keras.utils.PyDataset):
    """Batches of ``pair(L, ab)`` from uint8 pixels (an array or memory-mapped
    :class:`~colorizer.training.shards.Shards`, indexed per batch): shuffled every epoch
    (:func:`colorizer.training.shards.shuffled_order`) and flipped left-right with probability 1/2 when
    training, in order otherwise."""

    def __init__(self, pixels: np.ndarray, batch_size: int, pair: Callable, *,
                 shuffle: bool = False, flip: bool = False, seed: int = 0,
                 drop_remainder: bool = False):
        super().__init__()
        self.pixels, self.batch_size, self.pair = pixels, batch_size, pair
        self.shuffle, self.flip, self.drop_remainder = shuffle, flip, drop_remainder
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(len(pixels))
        self.on_epoch_end()

    def __len__(self) -> int:
        count = len(self.pixels) / self.batch_size
        return max(1, math.floor(count)) if self.drop_remainder else math.ceil(count)

    def __getitem__(self, index: int):
        chosen = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        rgb = self.pixels[chosen].astype(np.float32) / 255.0
        if self.flip:
            flipped = self.rng.random(len(chosen)) < 0.5
            rgb[flipped] = rgb[flipped, :, ::-1]
        lab = np.asarray(color.rgb_to_lab(keras.ops.convert_to_tensor(rgb)))
        return tuple(np.asarray(part) for part in self.pair(lab[..., :1], lab[..., 1:]))

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self.order = shards.shuffled_order(self.pixels, self.rng)


class ArraySource:
    """NumPy data source for the training loop; ``pixels`` = (train, val) uint8 arrays already
    decoded (e.g. a GPU bundle), or None to decode the config's data folder with Pillow.

    Single-machine only: it trains on Keras' default device of one process (one GPU under JAX)
    and has no distribution strategy; multi-worker training needs the tf.data source
    (``--strategy multiworker`` on TensorFlow, :class:`colorizer.training.data.TfDataSource`).
    """

    is_chief = True  # the one process writes the run folder
    workers = 1

    def __init__(self, pixels: tuple[np.ndarray, np.ndarray] | None = None):
        self.pixels = pixels

    def any_worker(self, flag: bool) -> bool:
        return flag

    def check(self, config) -> None:
        unsupported = [a for a in config.augment if a != "flip"]
        if unsupported:
            raise ValueError(f"augment {unsupported} needs the tf.data source (TensorFlow); the "
                             "NumPy source supports 'flip' only")
        if config.strategy != "default":
            raise ValueError(f"strategy {config.strategy!r} needs TensorFlow; the NumPy source "
                             "trains on one machine, on Keras' default device")
        if config.model_args.get("hints", False):
            raise ValueError("a hint model's simulated hints need the tf.data source "
                             "(TensorFlow); the NumPy source has none")
        if config.uses_realism_losses:
            raise ValueError("the realism losses' training step is written for TensorFlow "
                             "(colorizer.training.realism_losses); the NumPy source has none")
        if config.epoch_photos:
            raise ValueError("epoch_photos needs the tf.data source (TensorFlow)")

    def scope(self):
        return contextlib.nullcontext()

    def load(self, config) -> tuple[np.ndarray, np.ndarray]:
        """uint8 pixels of the training and validation images: memory-mapped
        :class:`~colorizer.training.shards.Shards` when the data folder has shards."""
        if self.pixels is None:
            opened = shards.open_splits(config)
            if opened is not None:
                return opened
            train_paths, val_paths = split_paths(config)
            return (load_pixels(train_paths, config.image_size),
                    load_pixels(val_paths, config.image_size))
        train, val = self.pixels
        for name, array in (("training", train), ("validation", val)):
            if array.shape[1:] != (config.image_size, config.image_size, 3):
                raise ValueError(f"the {name} pixels are {array.shape[1:]}, the config trains at "
                                 f"{config.image_size} px")
        return (train[: config.limit or None], val[: config.val_limit or None])

    def batches(self, pixels: np.ndarray, config, pair, *, training: bool):
        if training:
            return PixelBatches(pixels, config.batch_size, pair, shuffle=True,
                                flip="flip" in config.augment, seed=config.seed,
                                drop_remainder=len(pixels) >= config.batch_size)
        return PixelBatches(pixels, config.batch_size, pair)
