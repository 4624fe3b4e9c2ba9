"""What defines a training run (:class:`TrainConfig`) and its optimizers; no TensorFlow needed.

The same config drives ``colorizer train`` (tf.data on TensorFlow) and
``training/train_device.py`` (NumPy arrays on any Keras backend, e.g. JAX on a lent GPU).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import keras

from colorizer.models import model_defaults

# The founding report's optimizers: RMSprop for the autoencoder, Adam for the rest.
DEFAULT_OPTIMIZERS = {"autoencoder": "rmsprop"}
OPTIMIZERS = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}
STRATEGIES = ("default", "mirrored", "multiworker")
MONITORS = ("val_loss", "val_ab_mse")
LR_SCHEDULES = ("constant", "cosine")


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a training run; saved as the run folder's config.json."""

    model: str  # registry name of the architecture
    data: str  # image folder (with optional train.txt/val.txt) or a list file
    output: str = ""  # run folder; default runs/<model>-<timestamp>
    epochs: int = 10  # epochs of stage 1 (a resumed run continues up to this count)
    batch_size: int = 32  # global batch size (split across replicas under a strategy)
    lr: float = 1e-3  # learning rate
    optimizer: str = ""  # "adam" or "rmsprop"; default: the report's choice for the model
    image_size: int = 128  # square model input and target size
    model_args: dict[str, Any] = dataclasses.field(default_factory=dict)  # e.g. {"width": 0.5}
    augment: list[str] = dataclasses.field(default_factory=lambda: ["flip"])  # "flip", "crop"
    val_fraction: float = 0.2  # used only when the data has no train.txt/val.txt
    limit: int = 0  # use only the first N training images (0 = all); for quick runs
    val_limit: int = 0  # use only the first N validation images (0 = all)
    fine_tune_epochs: int = 0  # second stage: epochs with the pretrained encoder unfrozen
    fine_tune_lr: float = 1e-4  # learning rate of the fine-tuning stage
    lr_schedule: str = "constant"  # "constant" or "cosine" (decay to 1% within each stage)
    early_stopping: int = 0  # stop after this many epochs without val improvement (0 = off)
    monitor: str = "val_loss"  # what picks the best epoch (and early stopping): or "val_ab_mse"
    ema: float = 0.0  # momentum of an exponential moving average of the weights (0 = off);
    # validation and the saved best model then use the averaged weights
    init_from: str = ""  # start from these weights: a model folder, run folder or zoo name
    prior: str = ""  # classification head: colour prior file (default: from the training images)
    rebalance_lambda: float = 0.5  # classification head: prior/uniform mix of the class weights
    strategy: str = "default"  # "default", "mirrored" (local devices), "multiworker" (TF_CONFIG)
    seed: int = 0  # shuffling and split seed

    def resolved(self) -> "TrainConfig":
        """Fill the defaults that depend on other fields and check every value."""
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        optimizer = self.optimizer or DEFAULT_OPTIMIZERS.get(self.model, "adam")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}")
        for name in ("batch_size", "image_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.epochs < 0 or (self.epochs == 0 and not self.fine_tune_epochs):
            raise ValueError(f"epochs must be positive (or 0 with fine_tune_epochs), "
                             f"got {self.epochs}")
        if self.lr <= 0 or self.fine_tune_lr <= 0:
            raise ValueError(f"learning rates must be positive, got {self.lr}, {self.fine_tune_lr}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if self.monitor not in MONITORS:
            raise ValueError(f"monitor must be one of {MONITORS}, got {self.monitor!r}")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"ema must be in [0, 1) (0 = off), got {self.ema}")
        if self.fine_tune_epochs < 0:
            raise ValueError(f"fine_tune_epochs must be >= 0, got {self.fine_tune_epochs}")
        if not 0.0 <= self.rebalance_lambda <= 1.0:
            raise ValueError(f"rebalance_lambda must be between 0 and 1, got {self.rebalance_lambda}")
        defaults = model_defaults(self.model)  # raises for an unknown model
        if self.prior and self.model_args.get("head", "regression") != "classification":
            raise ValueError("prior is only used by a classification head (model_args.head)")
        if self.fine_tune_epochs and "weights" not in defaults:  # no pretrained encoder
            raise ValueError(f"{self.model} has no pretrained encoder to fine-tune")
        output = self.output or f"runs/{self.model}-{time.strftime('%Y%m%d-%H%M%S')}"
        return dataclasses.replace(self, optimizer=optimizer, output=output)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> "TrainConfig":
        return cls(**json.loads(path.read_text()))


@dataclasses.dataclass(frozen=True)
class Stage:
    """One call of ``fit``: epochs [first, last), learning rate, encoder frozen or not."""

    first_epoch: int
    last_epoch: int
    lr: float
    fine_tune: bool
    backup: str  # BackupAndRestore folder name inside the run folder


def stages(config: TrainConfig) -> list[Stage]:
    """Stage 1 (encoder frozen, if any) and, with fine_tune_epochs, stage 2 (all layers).

    ``epochs`` 0 with fine_tune_epochs skips stage 1 (e.g. to fine-tune a warm-started model).
    """
    result = [Stage(0, config.epochs, config.lr, False, "backup")] if config.epochs else []
    if config.fine_tune_epochs:
        result.append(Stage(config.epochs, config.epochs + config.fine_tune_epochs,
                            config.fine_tune_lr, True, "backup-fine-tune"))
    return result


def make_optimizer(config: TrainConfig, stage: Stage, steps_per_epoch: int):
    """The config's optimizer for one stage, with its learning-rate schedule."""
    lr = stage.lr
    if config.lr_schedule == "cosine":
        steps = max(1, steps_per_epoch * (stage.last_epoch - stage.first_epoch))
        lr = keras.optimizers.schedules.CosineDecay(stage.lr, steps, alpha=0.01)
    if config.ema:  # Polyak averaging, swapped in for validation by run_callbacks
        return OPTIMIZERS[config.optimizer](learning_rate=lr, use_ema=True,
                                            ema_momentum=config.ema)
    return OPTIMIZERS[config.optimizer](learning_rate=lr)
