"""tf.data input pipeline: image files -> cached uint8 pixels -> (L, ab) batches.

Files are decoded and resized once by a parallel ``tf.data`` pass (:func:`load_images`), which
also drops unreadable and near-grayscale files and reports them in one warning. The decoded
pixels are the cache; :func:`make_dataset` then shuffles, augments, converts to Lab, splits into
(L, ab) in Lab units, batches and prefetches. The model object scales them for its network
(:meth:`colorizer.Colorizer.training_pair`).
"""

from __future__ import annotations

import dataclasses
import sys
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import tensorflow as tf

from colorizer.io import color

from colorizer.training import shards
from colorizer.io.photo_files import (  # noqa: F401  (re-exported)
    GRAY_CHROMA,
    GRAY_PIXEL_SHARE,
    IMAGE_EXTENSIONS,
    SPLITS,
    LoadReport,
    list_images,
    split_paths,
)

# Random resized crops are taken from a cache this much larger than the model's input.
CROP_SOURCE_SCALE = 1.25
CROP_MIN_SIDE = 0.6
# Photos read from the memory-mapped shards per call of the tf.data generator.
SHARD_READ = 64


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


def to_lab_pair(rgb_uint8: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """uint8 RGB -> (L in 0..100 with 1 channel, ab in Lab units with 2 channels)."""
    lab = color.rgb_to_lab(tf.cast(rgb_uint8, tf.float32) / 255.0)
    return lab[..., :1], lab[..., 1:]


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
                 drop_remainder: bool = False, hints=None) -> tf.data.Dataset:
    """Cached uint8 pixels -> batched (L, ab) pairs in Lab units, prefetched.

    ``images`` is an array, or :class:`~colorizer.training.shards.Shards` read batch by batch from their
    memory maps (never copied whole: see :func:`_shard_photos`).

    ``drop_remainder`` drops a last partial batch (for training: every step then has a full batch,
    which splits evenly across the replicas of a distribution strategy).

    ``augment`` may hold "flip" (random horizontal flip) and "crop" (random resized crop; the
    pixels must then be cached at :func:`cache_size`).

    ``hints`` (a :class:`colorizer.hints.simulator.HintSampler`) adds a third item, each photo's simulated
    hint map (the network's hint input, :func:`colorizer.models.hint_input.hint_maps`): (L, ab, hints). The
    n-th photo of an iteration gets the hints of the n-th key of a random stream seeded with the
    sampler's seed; with ``shuffle`` the stream is redrawn every epoch, without (validation)
    every epoch gets the same hints.
    """
    unknown = set(augment) - {"flip", "crop"}
    if unknown:
        raise ValueError(f"unknown augmentation(s) {sorted(unknown)}; use 'flip' and/or 'crop'")
    if isinstance(images, shards.Shards):
        dataset = _shard_photos(images, shuffle, seed)
    else:
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
    if hints is not None:
        return _with_hints(dataset, hints, batch_size, shuffle, drop_remainder)
    return (
        dataset.batch(batch_size, drop_remainder=drop_remainder)
        .map(to_lab_pair, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def _shard_photos(images: shards.Shards, shuffle: bool, seed: int | None) -> tf.data.Dataset:
    """The photos of memory-mapped shards one by one, read :data:`SHARD_READ` at a time by a
    generator; with ``shuffle`` every iteration (epoch) draws the next order of a stream seeded
    with ``seed`` (:meth:`colorizer.training.shards.Shards.epoch_order`)."""
    rng = np.random.default_rng(seed)

    def photos():
        order = images.epoch_order(rng) if shuffle else np.arange(len(images))
        for start in range(0, len(order), SHARD_READ):
            yield images[order[start:start + SHARD_READ]]

    side = images.shape[1]
    spec = tf.TensorSpec((None, side, side, 3), tf.uint8)
    # A known length lets Keras count the steps of an epoch (and not warn at its end).
    return (tf.data.Dataset.from_generator(photos, output_signature=spec).unbatch()
            .apply(tf.data.experimental.assert_cardinality(len(images))))


def _with_hints(dataset: tf.data.Dataset, hints, batch_size: int, shuffle: bool,
                drop_remainder: bool) -> tf.data.Dataset:
    keys = tf.data.Dataset.random(seed=hints.seed, rerandomize_each_iteration=shuffle)

    def triple(rgb, key):
        lightness, ab = to_lab_pair(rgb)
        return lightness, ab, hints.maps(ab, key)

    return (
        tf.data.Dataset.zip((dataset, keys))
        .map(triple, num_parallel_calls=tf.data.AUTOTUNE)
        .batch(batch_size, drop_remainder=drop_remainder)
        .prefetch(tf.data.AUTOTUNE)
    )


def hint_samplers(config):
    """(training, validation) :class:`~colorizer.hints.simulator.HintSampler` of a hint model's config
    (model_args hints), (None, None) otherwise. Validation draws from another seed, the same
    hints every epoch."""
    if not config.model_args.get("hints", False):
        return None, None
    from colorizer.hints.simulator import HintSampler

    train = HintSampler(**{"seed": config.seed, **config.hint_sampler})
    return train, dataclasses.replace(train, seed=train.seed + 1)


def make_strategy(name: str) -> tf.distribute.Strategy:
    """The tf.distribute strategy for ``name`` (multiworker reads the TF_CONFIG variable)."""
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


class TfDataSource:
    """The training loop's data source on TensorFlow: files decoded by tf.data, batches from
    :func:`make_dataset`, under the config's distribution strategy. Honours every data field of
    :class:`~colorizer.training.config.TrainConfig` (augment flip and crop, strategy, limits)."""

    def __init__(self, strategy: str = "default"):
        self.strategy = make_strategy(strategy)

    def check(self, config) -> None:
        make_dataset(np.zeros((0, 8, 8, 3), np.uint8), 8, 1, augment=config.augment)
        hint_samplers(config)

    def scope(self):
        return self.strategy.scope()

    def load(self, config) -> tuple[np.ndarray, np.ndarray]:
        """uint8 pixels of the training images (at the crop cache size) and validation images:
        memory-mapped :class:`~colorizer.training.shards.Shards` when the data folder has shards."""
        opened = shards.open_splits(config, cache_size(config.image_size, config.augment))
        if opened is not None:
            return opened
        train_paths, val_paths = split_paths(config)
        train, _, _ = load_images(train_paths, cache_size(config.image_size, config.augment))
        val, _, _ = load_images(val_paths, config.image_size)
        return train, val

    def batches(self, pixels: np.ndarray, config, pair, *, training: bool):
        """Batches of ``pair(L, ab)`` for fit: shuffled and augmented when ``training``."""
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA)
        train_hints, val_hints = hint_samplers(config)
        if training:
            dataset = make_dataset(pixels, config.image_size, config.batch_size, shuffle=True,
                                   augment=config.augment, seed=config.seed,
                                   drop_remainder=len(pixels) >= config.batch_size,
                                   hints=train_hints)
        else:
            # Keras cannot split a partial batch unevenly across replicas, so under a
            # multi-replica strategy the last partial validation batch is left out.
            replicas = self.strategy.num_replicas_in_sync
            uneven = replicas > 1 and len(pixels) % config.batch_size
            if uneven:
                print(f"{replicas} replicas: validating on {len(pixels) - uneven} of "
                      f"{len(pixels)} images (whole batches)", file=sys.stderr)
            dataset = make_dataset(pixels, config.image_size, config.batch_size,
                                   drop_remainder=bool(uneven), hints=val_hints)
        return dataset.map(pair, num_parallel_calls=tf.data.AUTOTUNE).with_options(options)
