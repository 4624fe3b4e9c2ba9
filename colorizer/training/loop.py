"""The one training loop: stages, optimizer, EMA, per-epoch checkpoints, resume, time limit.

``colorizer train`` and the GPU runner (``training/train_device.py``) both call :func:`train`.
The loop itself imports no TensorFlow, so it runs under Keras on JAX or PyTorch too; where the
batches come from is a *data source*:

- :class:`colorizer.training.data.TfDataSource` (the default on the TensorFlow backend): tf.data decoding,
  random crops, distribution strategies;
- :class:`colorizer.training.sources.ArraySource` (the default elsewhere): Pillow decoding and NumPy
  batches, or arrays decoded beforehand (a GPU bundle).

Both read a prepared folder's memory-mapped photo shards instead of its files when it has them
(:mod:`colorizer.training.shards`). A source refuses config fields it cannot honour (e.g. crops without
TensorFlow) before anything is written. See :mod:`colorizer.training.callbacks` for what a run folder
holds and :mod:`colorizer.training.config` for the settings. ``colorizer train --resume RUN`` continues a
killed run from its last finished epoch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import keras

from colorizer.models import quantization
from colorizer.hub.folder_files import PRIOR_NAME
from colorizer.training.callbacks import TimeLimit, has_checkpoint, run_callbacks
from colorizer.training.config import TrainConfig, make_optimizer, stages
from colorizer.model import create_model
from colorizer.training.shards import prior_sample

__all__ = ["TrainConfig", "default_source", "train"]


def default_source(config: TrainConfig):
    """tf.data on the TensorFlow backend, NumPy batches on the others."""
    if keras.backend.backend() == "tensorflow":
        from colorizer.training.data import TfDataSource

        return TfDataSource(config.strategy)
    from colorizer.training.sources import ArraySource

    return ArraySource()


def colour_prior(config: TrainConfig, train_pixels, run_dir: Path):
    """The classification head's colour prior: the config's file, the run's own (resume), or
    computed from the training images (of shards, the first
    :data:`colorizer.training.shards.PRIOR_PHOTOS`); kept in the run folder as prior.json."""
    saved = run_dir / PRIOR_NAME
    if saved.is_file():
        return quantization.load_prior(saved)
    if config.prior:
        prior = quantization.load_prior(config.prior)
        source = config.prior
    else:
        sample = prior_sample(train_pixels)  # a bounded sample of memory-mapped shards
        prior = quantization.prior_from_images(sample)
        source = f"{len(sample)} training images of {config.data}"
    quantization.save_prior(prior, saved, source=source)
    print(f"colour prior from {source}: {quantization.describe_prior(prior)}", file=sys.stderr)
    return prior


def train(config: TrainConfig, *, resume: bool = False, source=None) -> Path:
    """Train as ``config`` says; return the run folder. With ``resume``, continue that run.

    ``source`` gives the batches (default: :func:`default_source`).
    """
    config = config.resolved()
    source = source or default_source(config)
    source.check(config)
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
    # A bad prior file fails before the run folder is made (a resumed run has its own copy).
    if config.prior and not (resume and (run_dir / PRIOR_NAME).is_file()):
        quantization.load_prior(config.prior)
    keras.utils.set_random_seed(config.seed)
    # The model is built (and warm-started) and the data loaded first, so that a bad model
    # argument, --init-from or --data fails before the run folder is made and the same command
    # can be run again once corrected. A resumed run killed before its first checkpoint starts
    # again as it first did, warm start included.
    with source.scope():
        model = create_model(config.model, image_size=config.image_size, **config.model_args)
        if config.init_from and not (resume and has_checkpoint(run_dir)):
            model.warm_start(config.init_from)
    train_pixels, val_pixels = source.load(config)
    if len(train_pixels) == 0 or len(val_pixels) == 0:
        raise ValueError("no usable training or validation images (all unreadable or grayscale)")
    run_dir.mkdir(parents=True, exist_ok=True)
    config.save(config_path)

    print(f"training on {len(train_pixels)} images, validating on {len(val_pixels)} "
          f"(Keras {keras.__version__} on {keras.backend.backend()})", file=sys.stderr)
    if model.spec.needs_prior:
        model.with_prior(colour_prior(config, train_pixels, run_dir))
    train_data = source.batches(train_pixels, config, model.training_pair, training=True)
    val_data = source.batches(val_pixels, config, model.training_pair, training=False)
    steps_per_epoch = max(1, len(train_pixels) // config.batch_size)
    loss, metrics = model.objective(config.rebalance_lambda)
    time_limit = [TimeLimit(config.time_limit)] if config.time_limit else []
    for stage in stages(config):
        with source.scope():
            if stage.fine_tune:
                model.set_encoder_trainable(True)
            model.network.compile(optimizer=make_optimizer(config, stage, steps_per_epoch),
                                  loss=loss, metrics=metrics)
        model.network.fit(
            train_data, validation_data=val_data, initial_epoch=stage.first_epoch,
            epochs=stage.last_epoch,
            callbacks=[*run_callbacks(run_dir, config, stage, model), *time_limit],
            shuffle=False,  # the sources shuffle themselves
            verbose=1 if sys.stderr.isatty() else 2)
        if model.network.stop_training:  # early stopping or the time limit ends the whole run
            break
    return run_dir
