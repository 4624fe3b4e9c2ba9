"""tf.data input pipeline: image files -> cached uint8 pixels -> (L, ab) batches.

Files are decoded and resized once by a parallel ``tf.data`` pass (:func:`load_images`), which
also drops unreadable and near-grayscale files and reports them in one warning. The decoded
pixels are the cache; :func:`make_dataset` then shuffles, augments, converts to Lab, splits into
(L, ab) in Lab units, batches and prefetches. The model object scales them for its network
(:meth:`colorizer.Colorizer.training_pair`).
"""

from __future__ import annotations

import dataclasses
import re
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
                 drop_remainder: bool = False, hints=None,
                 shard: tuple[int, int] = (0, 1)) -> tf.data.Dataset:
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

    ``shard`` = (index, count) makes the dataset of one of ``count`` workers (multi-worker
    training): every worker walks the same seeded order, cut into batches of ``batch_size`` (the
    global batch, a multiple of ``count``; ``drop_remainder`` required), and takes the
    ``index``-th of ``count`` equal slices of each, in batches of ``batch_size // count``. The
    slices of one step make up the batch a single worker would have taken, so no photo is seen
    twice in an epoch and none is left out but the last partial batch. A worker reads (from
    shards), augments and converts only its own photos, and each photo keeps the hint key of its
    place in the global order.
    """
    unknown = set(augment) - {"flip", "crop"}
    if unknown:
        raise ValueError(f"unknown augmentation(s) {sorted(unknown)}; use 'flip' and/or 'crop'")
    index, count = shard
    if count > 1 and (batch_size % count or not drop_remainder or not 0 <= index < count):
        raise ValueError(f"worker {index} of {count}: the global batch ({batch_size}) must be a "
                         "multiple of the workers, with drop_remainder")
    if isinstance(images, shards.Shards):
        dataset = _shard_photos(images, shuffle, seed, batch_size, shard)
    else:
        dataset = tf.data.Dataset.from_tensor_slices(images)
        if shuffle:
            dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
        dataset = _worker_slices(dataset, batch_size, shard)
    if "crop" in augment:
        dataset = dataset.map(lambda x: _random_resized_crop(x, image_size),
                              num_parallel_calls=tf.data.AUTOTUNE)
    elif images.shape[1] != image_size:
        dataset = dataset.map(
            lambda x: tf.cast(tf.image.resize(x, (image_size, image_size), antialias=True),
                              tf.uint8), num_parallel_calls=tf.data.AUTOTUNE)
    if "flip" in augment:
        dataset = dataset.map(tf.image.random_flip_left_right, num_parallel_calls=tf.data.AUTOTUNE)
    batch_size //= count  # this worker's share of each global batch
    if hints is not None:
        return _with_hints(dataset, hints, batch_size, shuffle, drop_remainder, shard)
    return (
        dataset.batch(batch_size, drop_remainder=drop_remainder)
        .map(to_lab_pair, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def _worker_slices(dataset: tf.data.Dataset, batch_size: int,
                   shard: tuple[int, int]) -> tf.data.Dataset:
    """The elements of worker ``index`` of ``count``: its slice of each whole batch of
    ``batch_size`` (see :func:`make_dataset`); all of them for one worker."""
    index, count = shard
    if count == 1:
        return dataset
    share = batch_size // count
    return (dataset.batch(batch_size, drop_remainder=True)
            .map(lambda batch: batch[index * share:(index + 1) * share]).unbatch())


def worker_order(order: np.ndarray, batch_size: int, shard: tuple[int, int]) -> np.ndarray:
    """The NumPy twin of :func:`_worker_slices`: the photo indices of worker ``index`` of
    ``count`` in an epoch's ``order``."""
    index, count = shard
    if count == 1:
        return order
    share = batch_size // count
    whole = order[:len(order) // batch_size * batch_size].reshape(-1, batch_size)
    return whole[:, index * share:(index + 1) * share].reshape(-1)


def _shard_photos(images: shards.Shards, shuffle: bool, seed: int | None, batch_size: int = 1,
                  shard: tuple[int, int] = (0, 1)) -> tf.data.Dataset:
    """The photos of memory-mapped shards one by one, read :data:`SHARD_READ` at a time by a
    generator; with ``shuffle`` every iteration (epoch) draws the next order of a stream seeded
    with ``seed`` (:meth:`colorizer.training.shards.Shards.epoch_order`). With ``shard``, only
    this worker's photos of that order are read (:func:`worker_order`)."""
    rng = np.random.default_rng(seed)
    count = len(worker_order(np.arange(len(images)), batch_size, shard))

    def photos():
        order = images.epoch_order(rng) if shuffle else np.arange(len(images))
        order = worker_order(order, batch_size, shard)
        for start in range(0, len(order), SHARD_READ):
            yield images[order[start:start + SHARD_READ]]

    side = images.shape[1]
    spec = tf.TensorSpec((None, side, side, 3), tf.uint8)
    # A known length lets Keras count the steps of an epoch (and not warn at its end).
    return (tf.data.Dataset.from_generator(photos, output_signature=spec).unbatch()
            .apply(tf.data.experimental.assert_cardinality(count)))


def _with_hints(dataset: tf.data.Dataset, hints, batch_size: int, shuffle: bool,
                drop_remainder: bool, shard: tuple[int, int] = (0, 1)) -> tf.data.Dataset:
    keys = tf.data.Dataset.random(seed=hints.seed, rerandomize_each_iteration=shuffle)
    # The keys of this worker's places in the global order (batch_size is its share here).
    keys = _worker_slices(keys, batch_size * shard[1], shard)

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


class MultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """``MultiWorkerMirroredStrategy`` (reading TF_CONFIG) whose :meth:`reduce` takes what
    Keras 3's ``fit`` hands it.

    Keras 3 (3.15, and its master branch) calls ``strategy.reduce`` with (a) a whole batch, a
    tuple of per-replica tensors (``_maybe_symbolic_build``, to learn the input shapes) and (b)
    scalar metric values with ``axis=0`` (``reduce_per_replica`` in multi-worker mode).
    TensorFlow's strategy takes one tensor only (a nest ends in "unsupported type PerReplica to
    a Tensor") and cannot reduce a scalar along an axis, so two workers stopped before their
    first step (keras-team/keras#20585). Here a nest is reduced leaf by leaf and a scalar across
    the replicas; everything else goes to TensorFlow's reduce unchanged.
    """

    def reduce(self, reduce_op, value, axis=None):
        parent = super()

        def one(leaf):
            local = self.experimental_local_results(leaf)[0]
            scalar = getattr(getattr(local, "shape", None), "rank", None) == 0
            return parent.reduce(reduce_op, leaf, None if scalar else axis)

        return tf.nest.map_structure(one, value)


def make_strategy(name: str) -> tf.distribute.Strategy:
    """The tf.distribute strategy for ``name`` (multiworker reads the TF_CONFIG variable: see
    :class:`MultiWorkerStrategy`)."""
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return MultiWorkerStrategy()
    return tf.distribute.get_strategy()


class TfDataSource:
    """The training loop's data source on TensorFlow: files decoded by tf.data, batches from
    :func:`make_dataset`, under the config's distribution strategy. Honours every data field of
    :class:`~colorizer.training.config.TrainConfig` (augment flip and crop, strategy, limits).

    Under ``multiworker`` each worker (one process per machine, TF_CONFIG naming the cluster and
    the worker) loads the same data and takes its slice of every global batch
    (:func:`make_dataset`'s ``shard``, through ``distribute_datasets_from_function``): photo
    files are decoded by every worker, shards are read only where a worker's photos lie.
    """

    def __init__(self, strategy: str = "default"):
        self.strategy = make_strategy(strategy)
        # Replicas over this worker's devices: the workers of a multi-worker cluster, else 1.
        self.workers = (self.strategy.num_replicas_in_sync
                        // len(self.strategy.extended.worker_devices)
                        if isinstance(self.strategy, MultiWorkerStrategy) else 1)

    @property
    def is_chief(self) -> bool:
        """Whether this process writes the run folder: true but on the workers of a
        multi-worker cluster other than its chief (TF_CONFIG's chief, else worker 0)."""
        return bool(self.strategy.extended.should_checkpoint)

    @property
    def worker_name(self) -> str:
        """This process's task in the cluster, e.g. "worker1" ("worker0" off a cluster)."""
        resolver = getattr(self.strategy, "cluster_resolver", None)
        if self.workers == 1 or resolver is None:
            return "worker0"
        return f"{resolver.task_type}{resolver.task_id}"

    def lost_worker(self, error: BaseException) -> str | None:
        """What TensorFlow said, when ``error`` is a multi-worker run losing a worker (its
        collective ops aborted after another worker died or stopped answering); else None."""
        lost = (tf.errors.UnavailableError, tf.errors.AbortedError,
                tf.errors.DeadlineExceededError, tf.errors.CancelledError)
        if self.workers == 1 or not isinstance(error, lost):
            return None
        text = re.sub(r"\{\{[^}]*\}\}\s*", "", str(error))  # {{function_node ...}} tags
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        at = next((i for i, line in enumerate(lines) if "/job:" in line), 0)
        said = lines[at:at + 1]
        if said and said[0].endswith(":"):  # "...unhealthy (stopped sending heartbeats):"
            said = lines[at:at + 2]  # and which
        return " ".join(said) or type(error).__name__

    def any_worker(self, flag: bool) -> bool:
        """Whether ``flag`` is set on any worker (every worker must call this together)."""
        if self.workers == 1:
            return flag
        total = self.strategy.reduce("SUM", tf.constant(float(flag)), axis=None)
        return bool(float(total) > 0)

    def check(self, config) -> None:
        make_dataset(np.zeros((0, 8, 8, 3), np.uint8), 8, 1, augment=config.augment)
        hint_samplers(config)
        replicas = self.strategy.num_replicas_in_sync
        if self.workers > 1 and config.batch_size % replicas:
            raise ValueError(f"--batch-size is the global batch, split evenly across the "
                             f"{replicas} replicas of {self.workers} workers: make it a multiple "
                             f"of {replicas} (got {config.batch_size})")

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
        """Batches of ``pair(L, ab)`` for fit: shuffled and augmented when ``training``.

        Under a multi-replica strategy every batch splits evenly across the replicas: training
        drops its last partial batch, validation its photos beyond whole batches (a set smaller
        than ``batch_size`` is validated in one smaller batch, a multiple of the replicas).
        """
        train_hints, val_hints = hint_samplers(config)
        replicas = self.strategy.num_replicas_in_sync
        batch_size, drop_remainder = config.batch_size, len(pixels) >= config.batch_size
        if training and self.workers > 1 and not drop_remainder:
            raise ValueError(f"{len(pixels)} training photos are fewer than one global batch "
                             f"({config.batch_size}) of {self.workers} workers")
        if not training:
            # Keras cannot split a partial batch unevenly across replicas, so under a
            # multi-replica strategy the last partial validation batch is left out.
            drop_remainder = False
            if replicas > 1:
                batch_size = min(batch_size, len(pixels) // replicas * replicas)
                if batch_size == 0:
                    raise ValueError(f"{len(pixels)} validation photos cannot be split across "
                                     f"{replicas} replicas")
                drop_remainder = True
                if len(pixels) % batch_size:
                    print(f"{replicas} replicas: validating on "
                          f"{len(pixels) - len(pixels) % batch_size} of {len(pixels)} images "
                          "(whole batches)", file=sys.stderr)

        def dataset(shard=(0, 1)):
            return make_dataset(
                pixels, config.image_size, batch_size, shuffle=training,
                augment=config.augment if training else (), seed=config.seed if training else None,
                drop_remainder=drop_remainder, hints=train_hints if training else val_hints,
                shard=shard).map(pair, num_parallel_calls=tf.data.AUTOTUNE)

        if self.workers == 1:
            options = tf.data.Options()
            options.experimental_distribute.auto_shard_policy = (
                tf.data.experimental.AutoShardPolicy.DATA)
            return dataset().with_options(options)

        def worker_dataset(context: tf.distribute.InputContext) -> tf.data.Dataset:
            # This worker's slice of each global batch, split among its own replicas.
            shard = (context.input_pipeline_id, context.num_input_pipelines)
            per_replica = context.get_per_replica_batch_size(batch_size)
            result = dataset(shard)
            if per_replica != batch_size // context.num_input_pipelines:
                result = result.rebatch(per_replica)
            return result

        return self.strategy.distribute_datasets_from_function(worker_dataset)
