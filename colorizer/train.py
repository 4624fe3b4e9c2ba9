"""Training with tf.data and Keras ``fit``: per-epoch checkpoints, resume, two-stage fine-tuning.

See :mod:`colorizer.callbacks` for what a run folder holds and :mod:`colorizer.config` for the
settings. ``colorizer train --resume RUN`` continues a killed run from its last finished epoch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import keras
import tensorflow as tf

from colorizer import data, quantization
from colorizer.callbacks import run_callbacks
from colorizer.config import TrainConfig, make_optimizer, stages
from colorizer.losses import objective
from colorizer.models import create_model, set_encoder_trainable
from colorizer.models.heads import head_of

__all__ = ["TrainConfig", "make_strategy", "train"]


def make_strategy(name: str) -> tf.distribute.Strategy:
    """The tf.distribute strategy for ``name`` (multiworker reads the TF_CONFIG variable)."""
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def warm_start(model, name_or_path: str) -> None:
    """Copy the weights of a trained model of the same architecture into ``model``.

    The source may have the other head (e.g. a regression model starting a classification one):
    then every layer the two share is copied and the new head starts from its initialisation.
    """
    import warnings

    from colorizer.hub import resolve
    from colorizer.pretrained import WEIGHTS_NAME, read_config

    folder = resolve(name_or_path)
    source_head = read_config(folder)["args"].get("head", "regression")
    if source_head == head_of(model):
        model.load_weights(folder / WEIGHTS_NAME)
        print(f"starting from the weights of {name_or_path}", file=sys.stderr)
        return
    with warnings.catch_warnings():  # Keras lists the layers it skipped; we say it once below
        warnings.simplefilter("ignore")
        model.load_weights(folder / WEIGHTS_NAME, skip_mismatch=True)
    print(f"starting from the shared layers of {name_or_path} ({source_head} head); the "
          f"{head_of(model)} head starts from scratch", file=sys.stderr)


def colour_prior(config: TrainConfig, train_pixels, run_dir: Path):
    """The classification head's colour prior: the config's file, the run's own (resume), or
    computed from the training images; kept in the run folder as prior.json."""
    saved = run_dir / quantization.PRIOR_NAME
    if saved.is_file():
        return quantization.load_prior(saved)
    if config.prior:
        prior = quantization.load_prior(config.prior)
        source = config.prior
    else:
        prior = quantization.prior_from_images(train_pixels)
        source = f"{len(train_pixels)} training images of {config.data}"
    quantization.save_prior(prior, saved, source=source)
    print(f"colour prior from {source}: {quantization.describe_prior(prior)}", file=sys.stderr)
    return prior


def train(config: TrainConfig, *, resume: bool = False) -> Path:
    """Train as ``config`` says; return the run folder. With ``resume``, continue that run."""
    config = config.resolved()
    run_dir = Path(config.output)
    config_path = run_dir / "config.json"
    if resume:
        if not config_path.is_file():
            raise FileNotFoundError(f"cannot resume: {config_path} does not exist")
    elif config_path.exists():
        raise FileExistsError(
            f"{run_dir} already holds a run; use --resume {run_dir} to continue it or pick "
            "another --output"
        )
    if config.prior:  # a bad prior file fails before the run folder is made
        quantization.load_prior(config.prior)
    keras.utils.set_random_seed(config.seed)
    # The model is built (and warm-started) first, so that a bad model argument or --init-from
    # fails before the run folder is made and the same command can be run again once corrected.
    strategy = make_strategy(config.strategy)
    with strategy.scope():
        model = create_model(config.model, image_size=config.image_size, **config.model_args)
        if config.init_from and not resume:
            warm_start(model, config.init_from)
    run_dir.mkdir(parents=True, exist_ok=True)
    config.save(config_path)

    train_paths = data.list_images(config.data, "train", val_fraction=config.val_fraction,
                                   seed=config.seed)
    val_paths = data.list_images(config.data, "val", val_fraction=config.val_fraction,
                                 seed=config.seed)
    if config.limit:
        train_paths = train_paths[: config.limit]
    if config.val_limit:
        val_paths = val_paths[: config.val_limit]
    print(f"decoding {len(train_paths)} training and {len(val_paths)} validation images",
          file=sys.stderr)
    train_pixels, _, _ = data.load_images(
        train_paths, data.cache_size(config.image_size, config.augment))
    val_pixels, _, _ = data.load_images(val_paths, config.image_size)
    if len(train_pixels) == 0 or len(val_pixels) == 0:
        raise ValueError("no usable training or validation images (all unreadable or grayscale)")

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    train_ds = data.make_dataset(train_pixels, config.image_size, config.batch_size,
                                 shuffle=True, augment=config.augment, seed=config.seed,
                                 drop_remainder=len(train_pixels) >= config.batch_size
                                 ).with_options(options)
    # Keras cannot split a partial batch unevenly across replicas, so under a multi-replica
    # strategy the last partial validation batch is left out.
    uneven = strategy.num_replicas_in_sync > 1 and len(val_pixels) % config.batch_size
    if uneven:
        print(f"{strategy.num_replicas_in_sync} replicas: validating on "
              f"{len(val_pixels) - uneven} of {len(val_pixels)} images (whole batches)",
              file=sys.stderr)
    val_ds = data.make_dataset(val_pixels, config.image_size, config.batch_size,
                               drop_remainder=bool(uneven)).with_options(options)

    steps_per_epoch = max(1, len(train_pixels) // config.batch_size)
    prior = None
    if head_of(model) == "classification":
        prior = model.colorizer_prior = colour_prior(config, train_pixels, run_dir)
    loss, metrics = objective(head_of(model), prior, config.rebalance_lambda)
    for stage in stages(config):
        with strategy.scope():
            if stage.fine_tune:
                set_encoder_trainable(model, True)
            model.compile(optimizer=make_optimizer(config, stage, steps_per_epoch), loss=loss,
                          metrics=metrics)
        model.fit(train_ds, validation_data=val_ds, initial_epoch=stage.first_epoch,
                  epochs=stage.last_epoch, callbacks=run_callbacks(run_dir, config, stage.backup),
                  shuffle=False,  # the dataset shuffles itself
                  verbose=1 if sys.stderr.isatty() else 2)
        if model.stop_training:  # early stopping ends the whole run
            break
    return run_dir
