"""Losses that reward realistic colour, and the trainer that fits them (DeOldify's NoGAN).

Three losses beside the ab MSE, each weighted by a :class:`colorizer.training.config.TrainConfig`
field (0 = off):

- **feature loss** (``feature_loss``): the result and the photo, both as sRGB, go through a
  frozen ImageNet classifier (EfficientNet-Lite0 by default, ``feature_net``); the loss is the
  mean absolute difference of its activations at strides 4, 8 and 16 (each divided by the
  photo's mean activation there, so that the depths weigh alike). Lite2 is refused: it is the
  realism judge of :mod:`colorizer.evaluation.realism`, and training on the judge's own features
  would flatter the score that picks the checkpoint.
- **colourfulness** (``colourfulness_loss``): DDColor's term, ``1 - CF / 100`` with CF Hasler
  and Suesstrunk's colourfulness of the result (0..255 sRGB), averaged over the batch.
- **adversarial** (``critic`` = "gan", weight ``adversarial_loss``): a PatchGAN critic
  (:func:`patch_critic`) judges 16 x 16 patches of (L, a, b) at 128 px, spectral normalisation
  on every convolution, hinge loss.

DeOldify's NoGAN schedule is three runs of the one loop, each starting from the one before
(``init_from``): the generator with the feature loss (``critic`` "off"); the critic alone on the
generator's results against the photos (``critic`` "pretrain": the generator does not change);
then both (``critic`` "gan"), a model kept every ``epoch_photos`` photos (``keep_epochs``) so that
the checkpoint before quality starts to oscillate is picked by the numbers. The critic's weights
are kept in the run folder (:data:`CRITIC_NAME`) and read back from ``init_from``'s run folder.

The trainer's step is written for TensorFlow (``tf.GradientTape``); the MSE-only runs need no
TensorFlow and keep using Keras' own ``fit`` step.
"""

from __future__ import annotations

import sys
from pathlib import Path

import keras
from keras import layers, ops

from colorizer.io import color
from colorizer.io.atomic import atomic_path
from colorizer.models.efficientnet_lite import efficientnet_lite, feature_layers, preprocess
from colorizer.training.config import FEATURE_NETS

CRITIC_NAME = "critic.weights.h5"
FEATURE_STRIDES = (4, 8, 16)
CRITIC_WIDTH = 32  # 64 costs 3.5x the time of a fwd+bwd pass (0.51 s against 0.15 s a batch of 32, 2 cores)


def to_rgb(lightness, ab):
    """Normalised L (N, S, S, 1) and ab (N, S, S, 2), the network's scales -> sRGB in 0..1."""
    lab = ops.concatenate([lightness * color.L_SCALE + color.L_CENTER,
                           ab * color.AB_SCALE], axis=-1)
    return color.lab_to_rgb(lab)


def feature_network(variant: str = "lite0", image_size: int = 128) -> keras.Model:
    """The frozen ImageNet classifier's activations at :data:`FEATURE_STRIDES`, on sRGB 0..1."""
    if variant not in FEATURE_NETS:
        raise ValueError(f"feature_net must be one of {FEATURE_NETS} (lite2 is the realism "
                         f"judge), got {variant!r}")
    backbone = efficientnet_lite(variant, (image_size, image_size, 3), include_top=False,
                                 weights="imagenet", name=f"feature_{variant}")
    names = feature_layers(variant)  # strides 2, 4, 8, 16, 32
    picked = [names[[2, 4, 8, 16, 32].index(stride)] for stride in FEATURE_STRIDES]
    rgb = keras.Input((image_size, image_size, 3), name="rgb01")
    tapped = keras.Model(backbone.input, [backbone.get_layer(name).output for name in picked])
    model = keras.Model(rgb, tapped(preprocess(rgb * 255.0)), name="feature_net")
    model.trainable = False
    return model


def feature_distance(features_fake, features_real):
    """Mean absolute difference per depth, each over the photo's mean activation there."""
    total = 0.0
    for fake, real in zip(features_fake, features_real):
        scale = ops.stop_gradient(ops.mean(ops.abs(real))) + 1e-6
        total = total + ops.mean(ops.abs(fake - real)) / scale
    return total / len(features_real)


def colourfulness(rgb):
    """Hasler and Suesstrunk's colourfulness of each image (sRGB 0..1 in, 0..255 scale out)."""
    rgb = rgb * 255.0
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    axes = (1, 2)
    mean_rg, mean_yb = ops.mean(rg, axis=axes), ops.mean(yb, axis=axes)
    std_rg = ops.sqrt(ops.maximum(ops.mean(ops.square(rg), axis=axes) - mean_rg**2, 1e-6))
    std_yb = ops.sqrt(ops.maximum(ops.mean(ops.square(yb), axis=axes) - mean_yb**2, 1e-6))
    return (ops.sqrt(std_rg**2 + std_yb**2)
            + 0.3 * ops.sqrt(mean_rg**2 + mean_yb**2 + 1e-6))


def patch_critic(image_size: int = 128, width: int = CRITIC_WIDTH) -> keras.Model:
    """A PatchGAN critic on normalised (L, a, b): one logit per patch (image_size / 8 square),
    spectral normalisation on every convolution."""

    def conv(filters, kernel, strides, name):
        return layers.SpectralNormalization(
            layers.Conv2D(filters, kernel, strides=strides, padding="same", name=name),
            name=f"{name}_sn")

    lab = keras.Input((image_size, image_size, 3), name="lab")
    x = lab
    for index, filters in enumerate((width, width * 2, width * 4)):
        x = conv(filters, 4, 2, f"critic_conv{index}")(x)
        x = layers.LeakyReLU(0.2, name=f"critic_relu{index}")(x)
    x = conv(width * 4, 3, 1, "critic_conv3")(x)
    x = layers.LeakyReLU(0.2, name="critic_relu3")(x)
    logits = conv(1, 3, 1, "critic_logits")(x)
    return keras.Model(lab, logits, name="patch_critic")


def _lightness(inputs):
    return inputs["lightness"] if isinstance(inputs, dict) else inputs


class RealismTrainer(keras.Model):
    """Fits a colorizer's network with the realism losses (see the module's doc).

    ``generator`` is the Colorizer's network (trained in place); the frozen feature network and
    the critic are this model's own, so that a checkpoint (BackupAndRestore) holds all three
    and both optimizers. Validation reports ``loss`` (MSE + feature + colourfulness terms, no
    adversarial term: the critic changes) and ``ab_mse`` in Lab units.
    """

    def __init__(self, generator: keras.Model, config, **kwargs):
        super().__init__(name="realism_trainer", **kwargs)
        self.generator = generator
        self.mode = config.critic
        self.weights_of = {"pixel": config.pixel_loss, "feature": config.feature_loss,
                           "colourfulness": config.colourfulness_loss,
                           "adversarial": config.adversarial_loss}
        self.features = (feature_network(config.feature_net, config.image_size)
                         if config.feature_loss else None)
        self.critic = patch_critic(config.image_size) if self.mode != "off" else None
        self.critic_optimizer = None
        names = ["loss", "ab_mse", "feature", "colourfulness"]
        if self.critic is not None:
            names += ["critic_loss", "critic_real", "critic_fake", "adversarial"]
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
        self.built = True  # its parts are built functional models

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def compile(self, optimizer, critic_optimizer=None, **kwargs):
        super().compile(optimizer=optimizer, **kwargs)
        # Built here on the generator's variables only: fit would otherwise build it on every
        # trainable variable of this model, the critic's included (and average them too).
        self.optimizer.build(self.generator.trainable_variables)
        if self.critic is not None:
            self.critic_optimizer = critic_optimizer
            self.critic_optimizer.build(self.critic.trainable_variables)

    def load_critic(self, folder: str | Path) -> bool:
        """Read the critic's weights from a run folder's :data:`CRITIC_NAME`, if there (given
        the run folder or one of its model folders: model/, epochs/NNN)."""
        folder = Path(folder).resolve()
        found = [folder / CRITIC_NAME, folder.parent / CRITIC_NAME,
                 folder.parent.parent / CRITIC_NAME]
        path = next((path for path in found if path.is_file()), None)
        if self.critic is None or path is None:
            return False
        try:
            self.critic.load_weights(path)
        except (OSError, ValueError, KeyError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ValueError(f"cannot read the critic's weights {path} ({reason}): delete or "
                             "replace the file, or start from another run") from None
        print(f"critic from {path}", file=sys.stderr)
        return True

    def save_critic(self, folder: Path) -> None:
        if self.critic is not None:
            with atomic_path(Path(folder) / CRITIC_NAME) as temp:  # keeps the .weights.h5
                self.critic.save_weights(str(temp))

    def generator_losses(self, lightness, ab_true, ab_fake):
        """The generator's weighted loss without the adversarial term, and its parts."""
        parts = {"ab_mse": ops.mean(ops.square(ab_true - ab_fake))}
        loss = self.weights_of["pixel"] * parts["ab_mse"]
        rgb_fake = None
        if self.features is not None or self.weights_of["colourfulness"]:
            rgb_fake = to_rgb(lightness, ab_fake)
        if self.features is not None:
            real = self.features(to_rgb(lightness, ab_true), training=False)
            parts["feature"] = feature_distance(self.features(rgb_fake, training=False), real)
            loss = loss + self.weights_of["feature"] * parts["feature"]
        if self.weights_of["colourfulness"]:
            parts["colourfulness"] = ops.mean(1.0 - colourfulness(rgb_fake) / 100.0)
            loss = loss + self.weights_of["colourfulness"] * parts["colourfulness"]
        return loss, parts

    def _critic_scores(self, lightness, ab_true, ab_fake, training):
        real = self.critic(ops.concatenate([lightness, ab_true], axis=-1), training=training)
        fake = self.critic(ops.concatenate([lightness, ab_fake], axis=-1), training=training)
        return real, fake

    def train_step(self, data):
        import tensorflow as tf

        inputs, ab_true = data
        lightness = _lightness(inputs)
        logs = {}
        # One generator pass serves both steps: the critic sees its result with the gradient
        # stopped, the generator's loss the critic's judgement before this step's update.
        with tf.GradientTape() as tape, tf.GradientTape() as critic_tape:
            ab_fake = self.generator(inputs, training=self.mode != "pretrain")
            if self.mode == "pretrain":
                ab_fake = ops.stop_gradient(ab_fake)
            loss, parts = self.generator_losses(lightness, ab_true, ab_fake)
            if self.critic is not None:
                real, fake = self._critic_scores(lightness, ab_true, ops.stop_gradient(ab_fake),
                                                 True)
                critic_loss = ops.mean(ops.relu(1.0 - real)) + ops.mean(ops.relu(1.0 + fake))
                logs.update(critic_loss=critic_loss, critic_real=ops.mean(real),
                            critic_fake=ops.mean(fake))
            if self.mode == "gan":
                judged = self.critic(ops.concatenate([lightness, ab_fake], axis=-1),
                                     training=False)
                parts["adversarial"] = -ops.mean(judged)
                loss = loss + self.weights_of["adversarial"] * parts["adversarial"]
        if self.critic is not None:
            variables = self.critic.trainable_variables
            self.critic_optimizer.apply(critic_tape.gradient(critic_loss, variables), variables)
        if self.mode != "pretrain":
            variables = self.generator.trainable_variables
            self.optimizer.apply(tape.gradient(loss, variables), variables)
        logs.update(loss=loss, **parts)
        return self._record(logs)

    def test_step(self, data):
        inputs, ab_true = data
        lightness = _lightness(inputs)
        ab_fake = self.generator(inputs, training=False)
        loss, parts = self.generator_losses(lightness, ab_true, ab_fake)
        logs = {"loss": loss, **parts}
        if self.critic is not None:
            real, fake = self._critic_scores(lightness, ab_true, ab_fake, False)
            logs.update(critic_real=ops.mean(real), critic_fake=ops.mean(fake))
        return self._record(logs)

    def _record(self, logs):
        for name, value in logs.items():
            if name == "ab_mse":
                value = value * color.AB_SCALE**2  # Lab units, as the MSE models report it
            self.trackers[name].update_state(value)
        return {name: self.trackers[name].result() for name in logs}


class CriticCheckpoint(keras.callbacks.Callback):
    """Writes the critic's weights into the run folder after every epoch (for the next phase's
    ``init_from``)."""

    def __init__(self, run_dir: Path, trainer: RealismTrainer):
        super().__init__()
        self.run_dir, self.trainer = Path(run_dir), trainer

    def on_epoch_end(self, epoch, logs=None):
        self.trainer.save_critic(self.run_dir)
