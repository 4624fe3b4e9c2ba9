"""What defines a training run (:class:`TrainConfig`) and its optimizers; no TensorFlow needed.

The same config drives the one training loop (:func:`colorizer.training.loop.train`), whether it is fed
by tf.data (TensorFlow) or NumPy batches (any Keras backend, e.g. JAX on a lent GPU).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from colorizer.io.atomic import write_text

# The founding report's optimizers: RMSprop for the autoencoder, Adam for the rest.
DEFAULT_OPTIMIZERS = {"autoencoder": "rmsprop"}
OPTIMIZERS = {"adam": "Adam", "rmsprop": "RMSprop"}  # name -> keras.optimizers class
STRATEGIES = ("default", "mirrored", "multiworker")
MONITORS = ("val_loss", "val_ab_mse")
LR_SCHEDULES = ("constant", "cosine")


AUGMENTATIONS = ("flip", "crop")
FEATURE_NETS = ("lite0", "lite1")  # not lite2: the realism judge (colorizer.evaluation.realism)
CRITIC_MODES = ("off", "pretrain", "gan")


def _model_names() -> list[str]:
    from colorizer.models import list_models  # the registry (imports Keras)

    return list_models()


def _field(default, help: str, choices=None, **kwargs):
    """A TrainConfig field; ``help`` and ``choices`` also make its ``colorizer train`` flag."""
    metadata = {"help": help, "choices": choices}
    if callable(default):
        return dataclasses.field(default_factory=default, metadata=metadata, **kwargs)
    return dataclasses.field(default=default, metadata=metadata, **kwargs)


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a training run; saved as the run folder's config.json.

    Each field is also a ``colorizer train`` flag (``--batch-size`` for ``batch_size``), whose
    help is the field's ``help`` below.
    """

    model: str = _field("", "registry name of the architecture (`colorizer models`)",
                        choices=lambda: _model_names())
    data: str = _field("", "image folder (with optional train.txt/val.txt), a list file, or a "
                       "prepared folder with shards/ (read memory-mapped: colorizer.training.shards)")
    output: str = _field("", "run folder; default runs/<model>-<timestamp>")
    epochs: int = _field(10, "epochs of stage 1 (a resumed run continues up to this count)")
    batch_size: int = _field(32, "global batch size: photos per step over all replicas; under "
                             "multiworker each of W workers takes batch_size/W a step (a "
                             "multiple of the replicas)")
    lr: float = _field(1e-3, "learning rate of stage 1")
    optimizer: str = _field("", "optimizer; default: the founding report's choice for the model "
                            "(rmsprop for autoencoder, else adam)", choices=lambda: OPTIMIZERS)
    image_size: int = _field(128, "square model input and target size")
    model_args: dict[str, Any] = _field(dict, "architecture arguments, e.g. head=classification "
                                        "or width=0.5 (`colorizer models`)")
    augment: list[str] = _field(lambda: ["flip"], "augmentations, comma-separated ('' = none)",
                                choices=lambda: AUGMENTATIONS)
    val_fraction: float = _field(0.2, "validation share when the data has no train.txt/val.txt")
    limit: int = _field(0, "use only the first N training images (0 = all); for quick runs")
    val_limit: int = _field(0, "use only the first N validation images (0 = all)")
    fine_tune_epochs: int = _field(0, "second stage: epochs with the pretrained encoder unfrozen")
    fine_tune_lr: float = _field(1e-4, "learning rate of the fine-tuning stage")
    lr_schedule: str = _field("constant", "constant, or cosine (decay to 1%% within each stage)",
                              choices=lambda: LR_SCHEDULES)
    early_stopping: int = _field(0, "stop after this many epochs without improvement (0 = off)")
    monitor: str = _field("val_loss", "what picks the best epoch (model/) and early stopping; "
                          "val_ab_mse suits a classification head, whose loss is a "
                          "cross-entropy", choices=lambda: MONITORS)
    ema: float = _field(0.0, "momentum of an exponential moving average of the weights, e.g. "
                        "0.995 (0 = off); validation and the saved best model use the average")
    init_from: str = _field("", "start from these weights: a zoo name, model or run folder")
    prior: str = _field("", "classification head: colour prior file of `colorizer prior` "
                        "(default: computed from the training images)")
    rebalance_lambda: float = _field(0.5, "classification head: prior/uniform mix of the class "
                                     "rebalancing weights")
    hint_sampler: dict[str, Any] = _field(dict, "hint model (model_args hints=true): settings of "
                                          "its simulated hints (colorizer.hints.simulator.HintSampler), "
                                          "e.g. no_hint_share=0.25; default the paper's recipe")
    strategy: str = _field("default", "tf.distribute strategy (TensorFlow only): mirrored = "
                           "this machine's devices; multiworker = one process per machine, "
                           "TF_CONFIG naming the cluster and this worker; the chief (worker 0) "
                           "writes the run folder, which every worker must reach (shared "
                           "storage); restart all with --resume RUN",
                           choices=lambda: STRATEGIES)
    time_limit: float = _field(0.0, "stop after the epoch during which this many seconds of "
                               "training ran out (0 = off)")
    seed: int = _field(0, "shuffling and split seed")
    # Realism losses and DeOldify's NoGAN schedule: colorizer.training.realism_losses.
    pixel_loss: float = _field(1.0, "weight of the ab MSE beside the realism losses below")
    feature_loss: float = _field(0.0, "weight of the feature (perceptual) loss on the sRGB "
                                 "result (0 = off)")
    feature_net: str = _field("lite0", "ImageNet classifier of the feature loss (lite2, the "
                              "realism judge, is refused)", choices=lambda: FEATURE_NETS)
    colourfulness_loss: float = _field(0.0, "weight of DDColor's colourfulness term, "
                                       "1 - CF/100 (0 = off)")
    critic: str = _field("off", "PatchGAN critic: off; pretrain = the critic alone on the "
                         "generator's results (NoGAN's second phase); gan = both (third)",
                         choices=lambda: CRITIC_MODES)
    adversarial_loss: float = _field(0.01, "weight of the generator's adversarial (hinge) loss "
                                     "with critic=gan")
    critic_lr: float = _field(2e-4, "learning rate of the critic (Adam, beta_1 0.5)")
    epoch_photos: int = _field(0, "photos per epoch, the training stream going on across "
                               "epochs (0 = one pass over the training set); with keep_epochs "
                               "a checkpoint every this many photos")
    keep_epochs: bool = _field(False, "also keep each epoch's model as epochs/NNN (to pick a "
                               "GAN checkpoint by its scores)")

    def resolved(self) -> "TrainConfig":
        """Fill the defaults that depend on other fields and check every value."""
        if not self.model or not self.data:
            raise ValueError("a training run needs a model and data")
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
        if self.time_limit < 0:
            raise ValueError(f"time_limit must be >= 0 (0 = off), got {self.time_limit}")
        if self.feature_net not in FEATURE_NETS:
            raise ValueError(f"feature_net must be one of {FEATURE_NETS} (lite2 is the realism "
                             f"judge), got {self.feature_net!r}")
        if self.critic not in CRITIC_MODES:
            raise ValueError(f"critic must be one of {CRITIC_MODES}, got {self.critic!r}")
        for name in ("pixel_loss", "feature_loss", "colourfulness_loss", "adversarial_loss"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.critic_lr <= 0:
            raise ValueError(f"critic_lr must be positive, got {self.critic_lr}")
        if self.epoch_photos < 0:
            raise ValueError(f"epoch_photos must be >= 0 (0 = one pass), got {self.epoch_photos}")
        if self.epoch_photos and self.strategy == "multiworker":
            raise ValueError("epoch_photos needs one worker (its stream is one tf.data pipeline)")
        if self.epoch_photos and self.epoch_photos < self.batch_size:
            raise ValueError(f"epoch_photos ({self.epoch_photos}) is less than one batch "
                             f"({self.batch_size})")
        realism = self.uses_realism_losses
        if realism and self.strategy != "default":
            raise ValueError("the realism losses train on one device (strategy default)")
        if realism and self.model_args.get("head", "regression") != "regression":
            raise ValueError("the realism losses need a regression head (they score its ab)")
        unknown = sorted(set(self.augment) - set(AUGMENTATIONS))
        if unknown:
            raise ValueError(f"unknown augmentation(s) {unknown}; use {AUGMENTATIONS}")
        if not 0.0 <= self.rebalance_lambda <= 1.0:
            raise ValueError(f"rebalance_lambda must be between 0 and 1, got {self.rebalance_lambda}")
        if self.hint_sampler and not self.model_args.get("hints", False):
            raise ValueError("hint_sampler is only used by a hint model (model_args hints=true)")
        from colorizer.hints.simulator import HintSampler

        try:
            HintSampler(**self.hint_sampler)
        except TypeError as error:
            raise ValueError(f"bad hint_sampler setting: {error}") from None
        from colorizer.models import model_defaults

        defaults = model_defaults(self.model)  # raises for an unknown model
        if self.prior and self.model_args.get("head", "regression") != "classification":
            raise ValueError("prior is only used by a classification head (model_args.head)")
        if self.fine_tune_epochs and "weights" not in defaults:  # no pretrained encoder
            raise ValueError(f"{self.model} has no pretrained encoder to fine-tune")
        output = self.output or f"runs/{self.model}-{time.strftime('%Y%m%d-%H%M%S')}"
        return dataclasses.replace(self, optimizer=optimizer, output=output)

    @property
    def uses_realism_losses(self) -> bool:
        """Whether the run trains with a loss beyond the model's own (feature, colourfulness or
        critic: colorizer.training.realism_losses.RealismTrainer)."""
        return bool(self.feature_loss or self.colourfulness_loss or self.critic != "off")

    def save(self, path: Path) -> None:
        # Atomically: a resumed run rewrites its config.json, and a kill must not cut it short.
        write_text(path, json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        """A config file; unknown keys are an error naming the known ones."""
        values = json.loads(Path(path).read_text())
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{path}: unknown field(s) {unknown}; TrainConfig has {sorted(known)}")
        return cls(**values)


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
    import keras

    optimizer = getattr(keras.optimizers, OPTIMIZERS[config.optimizer])
    lr = stage.lr
    if config.lr_schedule == "cosine":
        steps = max(1, steps_per_epoch * (stage.last_epoch - stage.first_epoch))
        lr = keras.optimizers.schedules.CosineDecay(stage.lr, steps, alpha=0.01)
    if config.ema:  # Polyak averaging, swapped in for validation by run_callbacks
        return optimizer(learning_rate=lr, use_ema=True, ema_momentum=config.ema)
    return optimizer(learning_rate=lr)
