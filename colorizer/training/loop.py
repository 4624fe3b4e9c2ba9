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

Multi-worker training (``strategy="multiworker"``, TensorFlow's ``MultiWorkerMirroredStrategy``)
follows TensorFlow's multi-worker Keras guide: every worker runs this loop, the callbacks
included, in step; the chief (TF_CONFIG's chief, else worker 0) writes the run folder, and each
other worker writes the same files into a temporary folder of its own, removed when it ends. A
worker starts from a copy of the run folder's state (colour prior, backups, best score), so the
run folder must be reachable by every worker (a shared file system) and a restarted cluster
(``--resume RUN`` on every worker) resumes from the chief's last backup. The NumPy source
(JAX, ``training/train_device.py``) trains on one machine only.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

import keras

from colorizer.hub.folder_files import PRIOR_NAME
from colorizer.model import create_model
from colorizer.models import quantization
from colorizer.training.callbacks import TimeLimit, has_checkpoint, run_callbacks
from colorizer.training.config import TrainConfig, make_optimizer, stages
from colorizer.training.realism_losses import CriticCheckpoint, RealismTrainer
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


# What another worker copies from the run folder before training: what the chief reads back.
WORKER_STATE = (PRIOR_NAME, "model/config.json", "backup*/*")


@contextlib.contextmanager
def worker_folder(run_dir: Path, chief: bool, worker: str = "worker"):
    """Where this process writes the run: ``run_dir`` on the chief; on another worker of a
    multi-worker cluster a temporary folder holding a copy of the run folder's state
    (:data:`WORKER_STATE`), removed at the end (TensorFlow's multi-worker Keras guide: every
    worker saves, only the chief's files are kept). The folder is named after the run and the
    worker, so that a restarted worker replaces what its killed self left."""
    if chief:
        yield run_dir
        return
    key = hashlib.sha1(str(run_dir.resolve()).encode()).hexdigest()[:10]
    folder = Path(tempfile.gettempdir()) / f"colorizer-{worker}-{key}"
    shutil.rmtree(folder, ignore_errors=True)
    try:
        for pattern in WORKER_STATE:
            for path in run_dir.glob(pattern):
                if path.is_file():
                    copy = folder / path.relative_to(run_dir)
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, copy)
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def train(config: TrainConfig, *, resume: bool = False, source=None) -> Path:
    """Train as ``config`` says; return the run folder. With ``resume``, continue that run.

    ``source`` gives the batches (default: :func:`default_source`). On a multi-worker cluster
    only the chief writes the run folder (see the module's doc).
    """
    config = config.resolved()
    source = source or default_source(config)
    source.check(config)
    run_dir = Path(config.output)
    chief = getattr(source, "is_chief", True)
    config_path = run_dir / "config.json"
    if resume:
        if not config_path.is_file():
            raise FileNotFoundError(f"cannot resume: {config_path} does not exist")
    elif chief and config_path.exists():  # another worker may find the chief's new run there
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
        # Realism losses: the generator inside a trainer of its own, whose critic starts from
        # init_from's run (a resumed run's checkpoint replaces it).
        trainer = RealismTrainer(model.network, config) if config.uses_realism_losses else None
        if trainer is not None and config.init_from and Path(config.init_from).is_dir():
            trainer.load_critic(config.init_from)
    train_pixels, val_pixels = source.load(config)
    if len(train_pixels) == 0 or len(val_pixels) == 0:
        raise ValueError("no usable training or validation images (all unreadable or grayscale)")
    if chief:
        run_dir.mkdir(parents=True, exist_ok=True)
    with worker_folder(run_dir, chief, getattr(source, "worker_name", "worker")) as folder:
        config.save(folder / "config.json")
        try:
            _fit(config, source, model, trainer, train_pixels, val_pixels, folder)
        except Exception as error:
            lost = getattr(source, "lost_worker", lambda error: None)(error)
            if lost is None:
                raise
            # TensorFlow stops every worker when one is lost; a restarted cluster resumes.
            raise ConnectionError(
                f"a worker of the cluster was lost ({lost}); restart every worker with "
                f"`colorizer train --resume {run_dir}` (each with its TF_CONFIG) to go on from "
                "the last backup") from error
    return run_dir


def _fit(config: TrainConfig, source, model, trainer, train_pixels, val_pixels,
         run_dir: Path) -> None:
    """The stages of the run, written to ``run_dir`` (this worker's folder); ``trainer``: the
    :class:`RealismTrainer` around the model's network, or None (Keras' own step)."""
    print(f"training on {len(train_pixels)} images, validating on {len(val_pixels)} "
          f"(Keras {keras.__version__} on {keras.backend.backend()})", file=sys.stderr)
    if model.spec.needs_prior:
        model.with_prior(colour_prior(config, train_pixels, run_dir))
    train_data = source.batches(train_pixels, config, model.training_pair, training=True)
    val_data = source.batches(val_pixels, config, model.training_pair, training=False)
    steps_per_epoch = max(1, len(train_pixels) // config.batch_size)
    if config.epoch_photos:  # the stream goes on across epochs (Keras keeps its iterator)
        if not hasattr(train_data, "repeat"):
            raise ValueError("epoch_photos needs the tf.data source on one worker")
        train_data, steps_per_epoch = train_data.repeat(), config.epoch_photos // config.batch_size
    loss, metrics = model.objective(config.rebalance_lambda)
    agree = getattr(source, "any_worker", None)
    time_limit = [TimeLimit(config.time_limit, agree=agree)] if config.time_limit else []
    fitted, extra = trainer or model.network, []
    if trainer is not None and trainer.critic is not None:
        extra = [CriticCheckpoint(run_dir, trainer)]
    for stage in stages(config):
        with source.scope():
            if stage.fine_tune:
                model.set_encoder_trainable(True)
            optimizer = make_optimizer(config, stage, steps_per_epoch)
            if fitted is model.network:
                fitted.compile(optimizer=optimizer, loss=loss, metrics=metrics)
            else:
                fitted.compile(optimizer=optimizer,
                               critic_optimizer=keras.optimizers.Adam(config.critic_lr, 0.5))
        fitted.fit(
            train_data, validation_data=val_data, initial_epoch=stage.first_epoch,
            epochs=stage.last_epoch, steps_per_epoch=steps_per_epoch if config.epoch_photos
            else None,
            callbacks=[*run_callbacks(run_dir, config, stage, model), *extra, *time_limit],
            shuffle=False,  # the sources shuffle themselves
            verbose=1 if sys.stderr.isatty() else 2)
        if fitted.stop_training:  # early stopping or the time limit ends the whole run
            break

