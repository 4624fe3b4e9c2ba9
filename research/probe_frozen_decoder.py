"""How far can a decoder on the frozen Lite0 encoder go? Quick experiments on cached features.

With the encoder frozen, its features of a photo never change, so they are computed once
(``cache``: the training photos and their mirror images, and the validation photos, at
``lite0_decoder``'s ``encoder_scale`` 2) and decoders are then trained on them about six times
faster than ``colorizer train`` can (``fit``: ~100 s an epoch on the 2-core CPU machine against
~600 s). The decoders are ``lite0_decoder``'s Conv2DTranspose stack with variations (the encoder
layer read, widths, dropout on the features, BatchNorm); the fixed gray -> RGB mapping stands in
for the model's learned 1x1 convolution. Validation ab MSE (Lab units) of the averaged weights is
printed after every epoch::

    python research/probe_frozen_decoder.py cache --data data/flickr8k --dir /tmp/probe
    python research/probe_frozen_decoder.py fit --dir /tmp/probe                    # as shipped
    python research/probe_frozen_decoder.py fit --dir /tmp/probe --drop 0.3
    python research/probe_frozen_decoder.py fit --dir /tmp/probe --tap block10_add --widths 128,64

An experiment only: shipped weights come from ``colorizer train`` (training/README.md); the
findings are in research/README.md.
The cache takes ~2 GB per encoder layer (float16).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from colorizer import color, data  # noqa: E402
from colorizer.model import Colorizer  # noqa: E402
from colorizer.models.lite0 import _encoder  # noqa: E402

IMAGE_SIZE, ENCODER_SCALE, BATCH = 128, 2, 32
TAPS = ("block10_add", "head_relu")


def cache(args) -> None:
    """Features of every tap for val, train and mirrored train, plus the ab targets (float16)."""
    encoder = _encoder(IMAGE_SIZE * ENCODER_SCALE, "imagenet", TAPS)
    size = IMAGE_SIZE * ENCODER_SCALE
    splits = {split: data.list_images(args.data, split) for split in ("val", "train")}
    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    for split, paths in splits.items():
        pixels, _, _ = data.load_images(paths, IMAGE_SIZE)
        for flip in (False, True) if split == "train" else (False,):
            start = time.time()
            features, targets = {tap: [] for tap in TAPS}, []
            for pair in data.make_dataset(pixels, IMAGE_SIZE, 64):
                lightness, ab = Colorizer.training_pair(*pair)  # as the network sees them
                if flip:
                    lightness, ab = tf.reverse(lightness, [2]), tf.reverse(ab, [2])
                rgb = tf.image.resize(tf.concat([lightness] * 3, -1) * 2.0, (size, size),
                                      method="bilinear")
                for tap, value in zip(TAPS, encoder(rgb, training=False)):
                    features[tap].append(value.numpy().astype(np.float16))
                targets.append(ab.numpy().astype(np.float16))
            tag = f"{split}_flip" if flip else split
            for tap, values in features.items():
                np.save(out / f"{tag}_{tap}.npy", np.concatenate(values))
            np.save(out / f"{tag}_ab.npy", np.concatenate(targets))
            print(tag, sum(map(len, targets)), f"{time.time() - start:.0f}s", flush=True)


def _batches(xs, ys, n):
    """Endless shuffled batches, each photo drawn as itself or its mirror image at random."""
    rng = np.random.default_rng(0)
    while True:
        order, which = rng.permutation(n), rng.integers(0, len(xs), n)
        for s in range(0, n - BATCH + 1, BATCH):
            idx, side = np.sort(order[s:s + BATCH]), which[s:s + BATCH]
            yield (np.stack([xs[side[i]][j] for i, j in enumerate(idx)]).astype(np.float32),
                   np.stack([ys[side[i]][j] for i, j in enumerate(idx)]).astype(np.float32))


def decoder(feature_shape, widths, drop: float, bn: bool) -> keras.Model:
    inputs = keras.Input(feature_shape)
    x = layers.SpatialDropout2D(drop)(inputs) if drop else inputs
    for width in widths:
        x = layers.Conv2DTranspose(width, 3, strides=2, padding="same",
                                   activation=None if bn else "relu")(x)
        if bn:
            x = layers.ReLU()(layers.BatchNormalization()(x))
    outputs = layers.Conv2DTranspose(2, 3, strides=2, padding="same", activation="tanh")(x)
    if outputs.shape[1] != IMAGE_SIZE:
        raise SystemExit(f"{len(widths) + 1} transposed layers give {outputs.shape[1]} px, "
                         f"not {IMAGE_SIZE}: change --widths")
    return keras.Model(inputs, outputs)


def fit(args) -> None:
    keras.utils.set_random_seed(0)
    folder = Path(args.dir)
    needed = [folder / f"{tag}_{kind}.npy" for tag in ("train", "train_flip", "val")
              for kind in (args.tap, "ab")]
    missing = [path.name for path in needed if not path.is_file()]
    if missing:
        raise SystemExit(f"no cached features in {folder} ({', '.join(missing)} missing): run "
                         f"'cache --data DIR --dir {folder}' first")
    xs = [np.load(folder / f"train_{args.tap}.npy", mmap_mode="r"),
          np.load(folder / f"train_flip_{args.tap}.npy", mmap_mode="r")]
    ys = [np.load(folder / "train_ab.npy", mmap_mode="r"),
          np.load(folder / "train_flip_ab.npy", mmap_mode="r")]
    x_val = np.load(folder / f"val_{args.tap}.npy").astype(np.float32)
    y_val = np.load(folder / "val_ab.npy").astype(np.float32)
    n, steps = len(ys[0]), len(ys[0]) // BATCH
    train_ds = tf.data.Dataset.from_generator(
        lambda: _batches(xs, ys, n),
        output_signature=(tf.TensorSpec((BATCH, *x_val.shape[1:])),
                          tf.TensorSpec((BATCH, IMAGE_SIZE, IMAGE_SIZE, 2)))).prefetch(4)
    val_ds = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(64)
    widths = [int(w) for w in args.widths.split(",") if w]
    model = decoder(x_val.shape[1:], widths, args.drop, args.bn)
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, args.epochs * steps)
    model.compile(keras.optimizers.Adam(schedule, use_ema=True, ema_momentum=0.99), "mse")
    print(vars(args), f"{model.count_params():,} parameters", flush=True)
    lab = color.AB_SCALE ** 2  # normalised MSE -> Lab units
    start = time.time()

    class Report(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):  # validate the averaged weights, then go on
            raw = [v.numpy() for v in self.model.trainable_variables]
            self.model.optimizer.finalize_variable_values(self.model.trainable_variables)
            val = self.model.evaluate(val_ds, verbose=0) * lab
            for variable, value in zip(self.model.trainable_variables, raw):
                variable.assign(value)
            print(f"epoch {epoch + 1} train {logs['loss'] * lab:.1f} val {val:.1f} "
                  f"t {time.time() - start:.0f}s", flush=True)

    model.fit(train_ds, steps_per_epoch=steps, epochs=args.epochs, verbose=0,
              callbacks=[Report()])
    os._exit(0)  # the endless generator's thread would keep the process alive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("cache", help="compute and save the frozen encoder's features")
    c.add_argument("--data", required=True)
    c.add_argument("--dir", required=True)
    f = sub.add_parser("fit", help="train one decoder on the cached features")
    f.add_argument("--dir", required=True)
    f.add_argument("--tap", default="head_relu", choices=TAPS)
    f.add_argument("--widths", default="128,64,32", help="Conv2DTranspose widths before ab")
    f.add_argument("--epochs", type=int, default=5)
    f.add_argument("--lr", type=float, default=1e-3)
    f.add_argument("--drop", type=float, default=0.0, help="SpatialDropout2D on the features")
    f.add_argument("--bn", action="store_true", help="BatchNorm after each transposed layer")
    args = parser.parse_args()
    try:
        cache(args) if args.command == "cache" else fit(args)
    except (FileNotFoundError, ValueError) as error:  # a bad --data folder or list file
        parser.error(str(error))


if __name__ == "__main__":
    main()
