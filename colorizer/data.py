"""tf.data input pipeline: image files -> cached uint8 pixels -> (L, ab) batches.

Files are decoded and resized once by a parallel ``tf.data`` pass (:func:`load_images`), which
also drops unreadable and near-grayscale files and reports them in one warning. The decoded
pixels are the cache; :func:`make_dataset` then shuffles, augments, converts to Lab, splits into
(normalised L input, normalised ab target), batches and prefetches.
"""

from __future__ import annotations

import dataclasses
import random
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import tensorflow as tf

from colorizer import color

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
SPLITS = ("train", "val")
# An image counts as near-grayscale when fewer than GRAY_PIXEL_SHARE of its pixels have a chroma
# sqrt(a^2 + b^2) above GRAY_CHROMA (Lab units): it carries no colour to learn from.
GRAY_CHROMA = 5.0
GRAY_PIXEL_SHARE = 0.01
# Random resized crops are taken from a cache this much larger than the model's input.
CROP_SOURCE_SCALE = 1.25
CROP_MIN_SIDE = 0.6


@dataclasses.dataclass
class LoadReport:
    """What :func:`load_images` kept and skipped."""

    requested: int
    unreadable: list[str]
    grayscale: list[str]

    @property
    def kept(self) -> int:
        return self.requested - len(self.unreadable) - len(self.grayscale)

    def summary(self) -> str:
        parts = []
        for label, files in (("unreadable", self.unreadable), ("near-grayscale", self.grayscale)):
            if files:
                examples = ", ".join(Path(f).name for f in files[:3])
                parts.append(f"{len(files)} {label} (e.g. {examples})")
        return f"skipped {len(self.unreadable) + len(self.grayscale)} of {self.requested} images: " + "; ".join(parts)


def list_images(data: str | Path, split: str | None = None, *, val_fraction: float = 0.2,
                seed: int = 0) -> list[str]:
    """Image paths of ``data`` for ``split`` ("train", "val" or None for all).

    ``data`` is a folder (searched recursively) or a list file of paths relative to its folder.
    A folder holding ``train.txt`` / ``val.txt`` uses them for the splits; otherwise the sorted
    files are shuffled with ``seed`` and split ``1 - val_fraction : val_fraction``.
    """
    data = Path(data)
    if split not in (None, *SPLITS):
        raise ValueError(f"split must be one of {SPLITS} or None, got {split!r}")
    if data.is_file():
        return _read_list(data)
    if not data.is_dir():
        raise FileNotFoundError(f"data folder or list file not found: {data}")
    if split is not None and (data / f"{split}.txt").is_file():
        return _read_list(data / f"{split}.txt")
    files = sorted(
        str(p) for p in data.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
    )
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) under {data}")
    if split is None:
        return files
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    random.Random(seed).shuffle(files)
    n_val = max(1, round(len(files) * val_fraction))
    return sorted(files[:n_val] if split == "val" else files[n_val:])


def _read_list(list_file: Path) -> list[str]:
    lines = [line.strip() for line in list_file.read_text().splitlines()]
    files = [str(list_file.parent / line) for line in lines if line and not line.startswith("#")]
    if not files:
        raise ValueError(f"list file {list_file} names no images")
    return files


def _decode_resized(path: tf.Tensor, size: int) -> tf.Tensor:
    raw = tf.io.read_file(path)
    image = tf.io.decode_image(raw, channels=3, expand_animations=False)
    image = tf.image.resize(tf.cast(image, tf.float32), (size, size), method="bicubic",
                            antialias=True)
    return tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8)


def _colored_share(image: tf.Tensor) -> tf.Tensor:
    lab = color.rgb_to_lab(tf.cast(image, tf.float32) / 255.0)
    chroma = tf.norm(lab[..., 1:], axis=-1)
    return tf.reduce_mean(tf.cast(chroma > GRAY_CHROMA, tf.float32))


def load_images(paths: Sequence[str], size: int, *, skip_grayscale: bool = True,
                warn: bool = True) -> tuple[np.ndarray, list[str], LoadReport]:
    """Decode and resize ``paths`` to ``size`` x ``size`` uint8 RGB, in parallel.

    Returns the pixels (N, size, size, 3), the paths kept (same order) and a :class:`LoadReport`.
    Unreadable files (and, with ``skip_grayscale``, near-grayscale ones) are skipped and counted
    in one warning; none of them stops the run.
    """
    paths = [str(p) for p in paths]
    dataset = (
        tf.data.Dataset.from_tensor_slices((tf.range(len(paths)), tf.constant(paths, tf.string)))
        .map(lambda i, p: (i, _decode_resized(p, size)), num_parallel_calls=tf.data.AUTOTUNE,
             deterministic=True)
        .ignore_errors()
        .map(lambda i, image: (i, image, _colored_share(image)),
             num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .batch(256)
    )
    indices, images, shares = [], [], []
    for i, image, share in dataset.as_numpy_iterator():
        indices.append(i)
        images.append(image)
        shares.append(share)
    indices = np.concatenate(indices) if indices else np.zeros((0,), np.int32)
    images = np.concatenate(images) if images else np.zeros((0, size, size, 3), np.uint8)
    shares = np.concatenate(shares) if shares else np.zeros((0,), np.float32)

    readable = set(indices.tolist())
    unreadable = [p for i, p in enumerate(paths) if i not in readable]
    keep = np.ones(len(indices), bool)
    if skip_grayscale:
        keep = shares >= GRAY_PIXEL_SHARE
    grayscale = [paths[i] for i in indices[~keep]]
    report = LoadReport(len(paths), unreadable, grayscale)
    if warn and (unreadable or grayscale):
        warnings.warn(report.summary(), stacklevel=2)
    return images[keep], [paths[i] for i in indices[keep]], report


def to_model_pair(rgb_uint8: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """uint8 RGB -> (normalised L with 1 channel, normalised ab with 2 channels)."""
    lab = color.rgb_to_lab(tf.cast(rgb_uint8, tf.float32) / 255.0)
    return color.normalize_l(lab[..., :1]), color.normalize_ab(lab[..., 1:])


def _random_resized_crop(image: tf.Tensor, size: int) -> tf.Tensor:
    source = tf.shape(image)[0]
    side_fraction = tf.random.uniform([], CROP_MIN_SIDE, 1.0)
    side = tf.maximum(tf.cast(tf.cast(source, tf.float32) * side_fraction, tf.int32), 8)
    crop = tf.image.random_crop(image, tf.stack([side, side, 3]))
    resized = tf.image.resize(tf.cast(crop, tf.float32), (size, size), antialias=True)
    return tf.cast(tf.round(tf.clip_by_value(resized, 0.0, 255.0)), tf.uint8)


def cache_size(image_size: int, augment: Sequence[str]) -> int:
    """Side of the cached pixels: larger than the model input when crops are augmented."""
    return round(image_size * CROP_SOURCE_SCALE) if "crop" in augment else image_size


def make_dataset(images: np.ndarray, image_size: int, batch_size: int, *, shuffle: bool = False,
                 augment: Sequence[str] = (), seed: int | None = None,
                 drop_remainder: bool = False) -> tf.data.Dataset:
    """Cached uint8 pixels -> batched (L, ab) pairs, prefetched.

    ``drop_remainder`` drops a last partial batch (for training: every step then has a full batch,
    which splits evenly across the replicas of a distribution strategy).

    ``augment`` may hold "flip" (random horizontal flip) and "crop" (random resized crop; the
    pixels must then be cached at :func:`cache_size`).
    """
    unknown = set(augment) - {"flip", "crop"}
    if unknown:
        raise ValueError(f"unknown augmentation(s) {sorted(unknown)}; use 'flip' and/or 'crop'")
    dataset = tf.data.Dataset.from_tensor_slices(images)
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    if "crop" in augment:
        dataset = dataset.map(lambda x: _random_resized_crop(x, image_size),
                              num_parallel_calls=tf.data.AUTOTUNE)
    elif images.shape[1] != image_size:
        dataset = dataset.map(
            lambda x: tf.cast(tf.image.resize(x, (image_size, image_size), antialias=True),
                              tf.uint8), num_parallel_calls=tf.data.AUTOTUNE)
    if "flip" in augment:
        dataset = dataset.map(tf.image.random_flip_left_right, num_parallel_calls=tf.data.AUTOTUNE)
    return (
        dataset.batch(batch_size, drop_remainder=drop_remainder)
        .map(to_model_pair, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
