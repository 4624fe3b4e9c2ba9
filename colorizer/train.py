"""Training: a resolved :class:`TrainConfig`, Keras ``fit``, per-epoch checkpoints and resume.

A run folder holds everything about one training run::

    config.json     the resolved TrainConfig (``colorizer train --resume RUN`` reads it back)
    backup/         Keras BackupAndRestore state, written every epoch: model, optimizer, epoch
    history.csv     one row per finished epoch (loss and ab MSE in Lab units, train and val)
    curves.png      the loss curves, redrawn every epoch
    model/          the best epoch so far (lowest val loss) as a model folder (config + weights)
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from colorizer import color, data
from colorizer.pretrained import save_pretrained
from colorizer.models import create_model, model_defaults

# The founding report's optimizers: RMSprop for the autoencoder, Adam for the rest.
DEFAULT_OPTIMIZERS = {"autoencoder": "rmsprop"}
OPTIMIZERS = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}
STRATEGIES = ("default", "mirrored", "multiworker")


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a training run; saved as the run folder's config.json."""

    model: str  # registry name of the architecture
    data: str  # image folder (with optional train.txt/val.txt) or a list file
    output: str = ""  # run folder; default runs/<model>-<timestamp>
    epochs: int = 10  # total epochs (a resumed run continues up to this count)
    batch_size: int = 32  # global batch size (split across replicas under a strategy)
    lr: float = 1e-3  # learning rate
    optimizer: str = ""  # "adam" or "rmsprop"; default: the report's choice for the model
    image_size: int = 128  # square model input and target size
    model_args: dict[str, Any] = dataclasses.field(default_factory=dict)  # e.g. {"width": 0.5}
    augment: list[str] = dataclasses.field(default_factory=lambda: ["flip"])  # "flip", "crop"
    val_fraction: float = 0.2  # used only when the data has no train.txt/val.txt
    limit: int = 0  # use only the first N training images (0 = all); for quick runs
    val_limit: int = 0  # use only the first N validation images (0 = all)
    early_stopping: int = 0  # stop after this many epochs without val improvement (0 = off)
    strategy: str = "default"  # "default", "mirrored" (local devices), "multiworker" (TF_CONFIG)
    seed: int = 0  # shuffling and split seed

    def resolved(self) -> "TrainConfig":
        """Fill the defaults that depend on other fields and check every value."""
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        optimizer = self.optimizer or DEFAULT_OPTIMIZERS.get(self.model, "adam")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}")
        for name in ("epochs", "batch_size", "image_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        model_defaults(self.model)  # raises for an unknown model
        output = self.output or f"runs/{self.model}-{time.strftime('%Y%m%d-%H%M%S')}"
        return dataclasses.replace(self, optimizer=optimizer, output=output)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> "TrainConfig":
        return cls(**json.loads(path.read_text()))


def ab_mse(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """Keras metric: MSE of normalised ab, reported in Lab units (the report's validation loss)."""
    return tf.reduce_mean(tf.square(y_true - y_pred)) * color.AB_SCALE**2


def make_strategy(name: str) -> tf.distribute.Strategy:
    """The tf.distribute strategy for ``name`` (multiworker reads the TF_CONFIG variable)."""
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def plot_curves(history_csv: Path, output_png: Path) -> None:
    """Draw loss and ab MSE per epoch (train and validation) from a history CSV."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with history_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return
    epochs = [int(row["epoch"]) + 1 for row in rows]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, key, title in ((axes[0], "loss", "loss (MSE, normalised ab)"),
                             (axes[1], "ab_mse", "ab MSE (Lab units)")):
        for prefix, label in (("", "train"), ("val_", "validation")):
            if prefix + key in rows[0]:
                axis.plot(epochs, [float(row[prefix + key]) for row in rows], "o-", label=label)
        axis.set_xlabel("epoch")
        axis.set_title(title)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(output_png, dpi=100)
    plt.close(figure)


class RunFolderCallback(keras.callbacks.Callback):
    """Each epoch: redraw curves.png; when val loss improves, write the model folder."""

    def __init__(self, run_dir: Path, config: TrainConfig):
        super().__init__()
        self.run_dir = run_dir
        self.config = config
        self.best = float("inf")
        best_file = run_dir / "model" / "config.json"
        if best_file.is_file():
            self.best = json.loads(best_file.read_text()).get("val_loss", float("inf"))

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        plot_curves(self.run_dir / "history.csv", self.run_dir / "curves.png")
        val_loss = logs.get("val_loss", logs.get("loss", float("inf")))
        if val_loss < self.best:
            self.best = float(val_loss)
            save_pretrained(
                self.model,
                self.run_dir / "model",
                extra={"epoch": epoch + 1, "val_loss": self.best,
                       "val_ab_mse": float(logs.get("val_ab_mse", float("nan"))),
                       "machine": machine_description(),
                       "training": dataclasses.asdict(self.config)},
            )


def machine_description() -> str:
    """What the run trained on, for model cards: OS, CPU cores, GPUs, Keras backend."""
    gpus = len(tf.config.list_physical_devices("GPU"))
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, "
            f"{gpus} GPU(s), Keras {keras.__version__} on {keras.backend.backend()}")


class EpochTimer(keras.callbacks.Callback):
    """Adds ``epoch_seconds`` (wall time of the epoch, validation included) to the epoch logs."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self.start


class _FlushCSVLogger(keras.callbacks.CSVLogger):
    """CSVLogger that flushes each row, so curves.png (drawn right after) sees it."""

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        self.csv_file.flush()


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
    run_dir.mkdir(parents=True, exist_ok=True)
    config.save(config_path)
    keras.utils.set_random_seed(config.seed)

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

    strategy = make_strategy(config.strategy)
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

    with strategy.scope():
        model = create_model(config.model, image_size=config.image_size, **config.model_args)
        model.compile(optimizer=OPTIMIZERS[config.optimizer](learning_rate=config.lr),
                      loss="mse", metrics=[ab_mse])
    callbacks = [
        keras.callbacks.BackupAndRestore(str(run_dir / "backup"), save_freq="epoch",
                                         delete_checkpoint=False),
        EpochTimer(),  # before the logger, which then records epoch_seconds
        _FlushCSVLogger(str(run_dir / "history.csv"), append=True),
        RunFolderCallback(run_dir, config),
    ]
    if config.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(patience=config.early_stopping))
    model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, callbacks=callbacks,
              shuffle=False,  # the dataset shuffles itself
              verbose=1 if sys.stderr.isatty() else 2)
    return run_dir
