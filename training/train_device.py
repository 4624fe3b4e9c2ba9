"""Train zoo models from their configs on a lent GPU: Keras 3 on JAX, NumPy batches, no TensorFlow.

    KERAS_BACKEND=jax python training/train_device.py --bundle .bundle --runs /tmp/runs \
        training/configs/lite0_unet.flickr8k_128.json training/configs/lite0_decoder.flickr8k_128.json

Runs the same TrainConfig schedule as ``colorizer train`` (stages, optimizer, learning rates,
flip augmentation, batch size) on the JPEG bundle of ``training/make_device_bundle.py``, and
writes the same run folders (config.json, history.csv, curves.png, model/), so ``colorizer
export`` and ``colorizer evaluate`` work on them unchanged. ``--time-limit`` caps each run's wall
time (the history records how many epochs ran).
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402
from PIL import Image  # noqa: E402

from colorizer import color, quantization  # noqa: E402
from colorizer.callbacks import TimeLimit, run_callbacks  # noqa: E402
from colorizer.config import TrainConfig, make_optimizer, stages  # noqa: E402
from colorizer.losses import objective  # noqa: E402
from colorizer.models import create_model, set_encoder_trainable  # noqa: E402
from colorizer.models.heads import head_of  # noqa: E402


def read_bundle(tar_path: Path) -> np.ndarray:
    """All JPEGs of a bundle tar as uint8 (N, S, S, 3)."""
    with tarfile.open(tar_path) as tar:
        blobs = [tar.extractfile(member).read() for member in tar.getmembers() if member.isfile()]
    with ThreadPoolExecutor(16) as pool:
        images = list(pool.map(lambda b: np.asarray(Image.open(io.BytesIO(b)).convert("RGB")),
                               blobs))
    return np.stack(images)


def to_lab_arrays(pixels: np.ndarray, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """uint8 RGB -> (normalised L, normalised ab) float32, converted on the accelerator."""
    lightness, ab = [], []
    for start in range(0, len(pixels), chunk):
        lab = color.rgb_to_lab(ops.convert_to_tensor(pixels[start:start + chunk] / 255.0,
                                                     "float32"))
        lightness.append(np.asarray(color.normalize_l(lab[..., :1])))
        ab.append(np.asarray(color.normalize_ab(lab[..., 1:])))
    return np.concatenate(lightness), np.concatenate(ab)


class FlipBatches(keras.utils.PyDataset):
    """Shuffled full batches, each image flipped left-right with probability 1/2 (``flip``)."""

    def __init__(self, x, y, batch_size: int, flip: bool, seed: int):
        super().__init__()
        self.x, self.y, self.batch_size, self.flip = x, y, batch_size, flip
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(x))

    def __len__(self) -> int:
        return len(self.x) // self.batch_size

    def __getitem__(self, index: int):
        chosen = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        x, y = self.x[chosen], self.y[chosen]
        if self.flip:
            flipped = self.rng.random(len(chosen)) < 0.5
            x[flipped] = x[flipped, :, ::-1]
            y[flipped] = y[flipped, :, ::-1]
        return x, y

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.x))


def train_one(config: TrainConfig, arrays, run_dir: Path, time_limit: float) -> None:
    (x_train, y_train), (x_val, y_val) = arrays
    run_dir.mkdir(parents=True, exist_ok=True)
    config = dataclasses.replace(config, output=str(run_dir))
    config.save(run_dir / "config.json")
    keras.utils.set_random_seed(config.seed)
    batches = FlipBatches(x_train, y_train, config.batch_size, "flip" in config.augment,
                          config.seed)
    model = create_model(config.model, image_size=config.image_size, **config.model_args)
    prior = None
    if head_of(model) == "classification":  # the colour prior of the training images
        prior = quantization.empirical_prior(
            y_train[start:start + 256] * color.AB_SCALE for start in range(0, len(y_train), 256))
        quantization.save_prior(prior, run_dir / quantization.PRIOR_NAME,
                                source=f"{len(y_train)} training images of the bundle")
        print(quantization.describe_prior(prior), flush=True)
        model.colorizer_prior = prior
    loss, metrics = objective(head_of(model), prior, config.rebalance_lambda)
    limit = TimeLimit(time_limit)
    started = time.perf_counter()
    for stage in stages(config):
        if stage.fine_tune:
            set_encoder_trainable(model, True)
        model.compile(optimizer=make_optimizer(config, stage, len(batches)), loss=loss,
                      metrics=metrics)
        model.fit(batches, validation_data=(x_val, y_val), batch_size=config.batch_size,
                  initial_epoch=stage.first_epoch, epochs=stage.last_epoch,
                  callbacks=[*run_callbacks(run_dir, config, stage.backup), limit], verbose=2)
        if model.stop_training:
            break
    print(f"{config.model}: {time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", type=Path, help="training/configs/NAME.json")
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--runs", type=Path, required=True, help="folder for the run folders")
    parser.add_argument("--time-limit", type=float, default=600, help="seconds per run")
    parser.add_argument("--limit", type=int, default=0, help="first N images (smoke tests)")
    args = parser.parse_args()
    start = time.perf_counter()
    train_pixels, val_pixels = (read_bundle(args.bundle / f"{s}.tar") for s in ("train", "val"))
    if args.limit:
        train_pixels, val_pixels = train_pixels[:args.limit], val_pixels[:args.limit]
    arrays = (to_lab_arrays(train_pixels), to_lab_arrays(val_pixels))
    print(f"{len(train_pixels)} training / {len(val_pixels)} validation images ready in "
          f"{time.perf_counter() - start:.0f} s on Keras {keras.__version__} "
          f"({keras.backend.backend()})", flush=True)
    for path in args.configs:
        config = TrainConfig.load(path).resolved()
        train_one(config, arrays, args.runs / path.stem, args.time_limit)


if __name__ == "__main__":
    main()
