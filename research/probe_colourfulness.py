"""How closely can a colorizer match each photo's colourfulness? A probe for the mean |dCF| target.

Mean |dCF| (:mod:`colorizer.metrics`) compares, photo by photo, the colourfulness CF (Hasler &
Suesstrunk) of a result with its original's. A colorizer sees only the gray photo, so the CF of
its result is a function of the gray photo: it matches the originals' CF per photo no better than
the best direct predictor of CF from the gray photo does. This probe fits such predictors on the
training photos and prints their mean absolute error on the validation photos: the mean |dCF| a
colorizer would have if its results had exactly the predicted colourfulness.

- Ridge regression on the pooled outputs (mean and standard deviation over the photo) of layers
  of a trained network, its weight chosen by 5-fold cross-validation on the training photos.
- With ``--finetune-epochs N``: then the network up to those layers, trained end to end from
  there (the linear head starts from the ridge fit; BatchNorm statistics stay frozen) to
  minimise the absolute error itself, with mirrored photos as augmentation.

::

    python research/probe_colourfulness.py --data data/flickr8k \\
        --model weights/lite0_unet.flickr8k_128 \\
        --layers up0_relu2 up1_relu2 up2_relu2 up3_relu2 ab --cache /tmp/cf_probe

The originals' CF is computed at full resolution as ``colorizer evaluate`` does and cached in
``--cache`` (``cf_train.npy``, ``cf_val.npy``). An experiment only: nothing here is shipped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

from colorizer import data, metrics  # noqa: E402
from colorizer.images import read_image  # noqa: E402
from colorizer.model import Colorizer  # noqa: E402
from colorizer.pretrained import load_pretrained, resolve_model_folder  # noqa: E402

LAMBDAS = (1.0, 10.0, 100.0, 1e3, 1e4, 1e5)
FOLDS = 5
BATCH = 32


class MeanStdPool(keras.layers.Layer):
    """(N, H, W, C) -> (N, 2C): mean and standard deviation over the photo."""

    def call(self, x):
        mean = ops.mean(x, axis=(1, 2))
        std = ops.sqrt(ops.maximum(ops.mean(ops.square(x), axis=(1, 2)) - mean**2, 0.0) + 1e-6)
        return ops.concatenate([mean, std], axis=-1)


def original_colourfulness(paths: list[str], cache: Path, split: str) -> np.ndarray:
    """CF of each original photo at full resolution (uint8, as ``colorizer evaluate``), cached."""
    values, listed = cache / f"cf_{split}.npy", cache / f"cf_{split}.json"
    if values.is_file() and listed.is_file() and json.loads(listed.read_text()) == paths:
        return np.load(values)
    start = time.time()
    cf = np.array([metrics.colourfulness(np.round(read_image(p)[0] * 255.0).astype(np.uint8))
                   for p in paths])
    cache.mkdir(parents=True, exist_ok=True)
    np.save(values, cf)
    listed.write_text(json.dumps(paths))
    print(f"CF of {len(paths)} {split} originals: {time.time() - start:.0f} s", flush=True)
    return cf


def feature_model(model: keras.Model, layer_names: list[str]) -> keras.Model:
    """The network up to ``layer_names``, each output pooled, all concatenated: (N, F)."""
    try:
        # The tensors each layer produced in this model's graph: for a nested model (the encoder)
        # ``.output`` would be its own graph's, not connected to this model's input.
        outputs = [t for name in layer_names for t in
                   keras.tree.flatten(model.get_layer(name)._inbound_nodes[0].output_tensors)]
    except ValueError as error:  # get_layer's "No such layer: ...", which lists the layers
        raise SystemExit(str(error)) from None
    pooled = [MeanStdPool()(t) if len(t.shape) == 4 else t for t in outputs]
    joined = pooled[0] if len(pooled) == 1 else keras.layers.Concatenate()(pooled)
    return keras.Model(model.input, joined)


def _fit_ridge(x, y, lam):
    """Weights and bias of ridge regression (the bias not shrunk)."""
    centred = x - x.mean(0)
    w = np.linalg.solve(centred.T @ centred + lam * np.eye(x.shape[1]), centred.T @ (y - y.mean()))
    return w, y.mean() - x.mean(0) @ w


def ridge_cv(x, y) -> float:
    """The ridge weight with the lowest mean absolute error over FOLDS folds of (x, y)."""
    folds = np.array_split(np.random.default_rng(0).permutation(len(y)), FOLDS)
    errors = {}
    for lam in LAMBDAS:
        err = []
        for k, held in enumerate(folds):
            fit = np.concatenate([f for j, f in enumerate(folds) if j != k])
            w, b = _fit_ridge(x[fit], y[fit], lam)
            err.append(np.abs(x[held] @ w + b - y[held]).mean())
        errors[lam] = float(np.mean(err))
    print("cross-validated MAE by ridge weight: "
          + ", ".join(f"{lam:g}: {e:.2f}" for lam, e in errors.items()), flush=True)
    return min(errors, key=errors.get)


def report(name: str, prediction: np.ndarray, truth: np.ndarray) -> None:
    corr = np.corrcoef(prediction, truth)[0, 1] if prediction.std() > 0 else float("nan")
    error = np.abs(prediction - truth).mean()
    print(f"{name}: validation mean |CF predicted - CF original| {error:.2f}"
          f" (correlation {corr:.3f})", flush=True)


def _freeze_batchnorm(layer) -> None:
    if isinstance(layer, keras.layers.BatchNormalization):
        layer.trainable = False
    for child in getattr(layer, "layers", ()):
        _freeze_batchnorm(child)


def finetune(features: keras.Model, mean, std, w, b, pixels, cf, pixels_val, cf_val,
             epochs: int, lr: float) -> None:
    """Train ``features`` end to end with a linear head started from the ridge fit."""
    head = keras.layers.Dense(1)
    pooled = features.output
    output = head((pooled - ops.convert_to_tensor(mean)) / ops.convert_to_tensor(std))
    model = keras.Model(features.input, output[:, 0])
    head.set_weights([w[:, None].astype(np.float32), np.array([b], np.float32)])
    _freeze_batchnorm(model)

    def mirror(image, target):
        return tf.image.random_flip_left_right(image), target

    def lightness(images, targets):
        return Colorizer.training_pair(*data.to_lab_pair(images))[0], targets

    def pairs(images, targets, train):
        ds = tf.data.Dataset.from_tensor_slices((images, targets.astype(np.float32)))
        if train:
            ds = ds.shuffle(len(targets), seed=0).map(mirror)
        return ds.batch(BATCH).map(lightness).prefetch(tf.data.AUTOTUNE)

    steps = -(-len(cf) // BATCH)
    schedule = keras.optimizers.schedules.CosineDecay(lr, epochs * steps)
    model.compile(keras.optimizers.Adam(schedule), loss="mae")
    start = time.time()
    report("ridge head, before end-to-end training",
           model.predict(pairs(pixels_val, cf_val, False), verbose=0), cf_val)
    for epoch in range(epochs):
        history = model.fit(pairs(pixels, cf, True), epochs=1, verbose=0, shuffle=False)
        report(f"end to end, epoch {epoch + 1} (training MAE {history.history['loss'][-1]:.2f},"
               f" {time.time() - start:.0f} s)",
               model.predict(pairs(pixels_val, cf_val, False), verbose=0), cf_val)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="photo folder with train.txt / val.txt")
    parser.add_argument("--model", required=True, help="weight folder or training run")
    parser.add_argument("--layers", nargs="+", required=True, help="layers whose outputs to pool")
    parser.add_argument("--cache", required=True, help="folder for the originals' CF")
    parser.add_argument("--finetune-epochs", type=int, default=0)
    parser.add_argument("--lr", type=float, default=1e-4, help="for --finetune-epochs")
    args = parser.parse_args()
    if args.finetune_epochs < 0 or args.lr <= 0:
        parser.error("--finetune-epochs must be >= 0 and --lr > 0")
    keras.utils.set_random_seed(0)
    try:
        colorizer_model = load_pretrained(resolve_model_folder(args.model))
        splits = {split: data.list_images(args.data, split) for split in ("train", "val")}
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    features = feature_model(colorizer_model.network, args.layers)
    cache = Path(args.cache)
    size = colorizer_model.image_size
    loaded = {}
    for split, paths in splits.items():
        pixels, kept, _ = data.load_images(paths, size, skip_grayscale=False)
        if len(kept) < 2:
            parser.error(f"{args.data} has {len(kept)} readable {split} photos; the probe needs "
                         "several")
        start = time.time()
        pooled = np.concatenate([features.predict_on_batch(Colorizer.training_pair(*pair)[0])
                                 for pair in data.make_dataset(pixels, size, 64)])
        print(f"{split}: {len(kept)} photos, {pooled.shape[1]} pooled features, "
              f"{time.time() - start:.0f} s", flush=True)
        loaded[split] = (pixels, original_colourfulness(kept, cache, split), pooled)
    (pixels, cf, x), (pixels_val, cf_val, x_val) = loaded["train"], loaded["val"]
    print(f"originals' CF: training mean {cf.mean():.2f}, validation mean {cf_val.mean():.2f}")
    report("the training photos' median CF for every photo", np.full_like(cf_val, np.median(cf)),
           cf_val)
    mean, std = x.mean(0), x.std(0) + 1e-6
    lam = ridge_cv((x - mean) / std, cf)
    w, b = _fit_ridge((x - mean) / std, cf, lam)
    report(f"ridge regression (weight {lam:g}) on {', '.join(args.layers)}",
           (x_val - mean) / std @ w + b, cf_val)
    if args.finetune_epochs:
        finetune(features, mean, std, w, b, pixels, cf, pixels_val, cf_val,
                 args.finetune_epochs, args.lr)


if __name__ == "__main__":
    main()
