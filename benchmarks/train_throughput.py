"""Training throughput of each architecture on the real tf.data pipeline, and one epoch's time.

    python benchmarks/train_throughput.py --data data/flickr8k
    python benchmarks/train_throughput.py --data data/flickr8k --model cnn --width 0.5
    python benchmarks/train_throughput.py --data data/flickr8k --model lite0_unet \
        --in-memory                      # pipeline efficiency

Decodes a few hundred training images, runs 2 warm-up steps (tracing), then times --steps
training steps of Keras ``fit`` and prints images/s and the projected time of one epoch over the
whole training split. With ``--in-memory`` the same model is also fed the same images as
ready-made L / ab arrays (no decoding, Lab conversion or augmentation per step), and the ratio of
the two rates is the pipeline efficiency (1.0: the pipeline costs nothing). Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


import numpy as np  # noqa: E402

from colorizer import create_model  # noqa: E402
from colorizer import quantization  # noqa: E402
from colorizer.training import data
from colorizer.training.config import TrainConfig, make_optimizer, stages  # noqa: E402


def _rate(model, inputs, steps: int, batch_size: int) -> float:
    """Images per second of ``fit`` over ``steps`` steps, after 2 warm-up steps."""
    model.fit(*inputs, steps_per_epoch=2, epochs=1, verbose=0)  # tracing, first steps
    start = time.perf_counter()
    model.fit(*inputs, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps * batch_size / (time.perf_counter() - start)


def measure(name: str, data_path: str, steps: int, batch_size: int, image_size: int,
            model_args: dict, in_memory: bool = False) -> dict:
    train_paths = data.list_images(data_path, "train")
    images_needed = (steps + 2) * batch_size
    pixels, _, _ = data.load_images(train_paths[:images_needed], image_size, warn=False)
    model = create_model(name, image_size=image_size, **model_args)
    dataset = data.make_dataset(pixels, image_size, batch_size, shuffle=True, augment=["flip"],
                                drop_remainder=True).map(model.training_pair).repeat()
    if model.spec.needs_prior:
        model.with_prior(quantization.prior_from_images(pixels))
    loss, metrics = model.objective()
    config = TrainConfig(model=name, data=data_path, batch_size=batch_size).resolved()
    optimizer = make_optimizer(config, stages(config)[0], steps)
    network = model.network
    network.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    result = {"model": name, "args": model_args, "params": model.count_params(),
              "images_per_s": _rate(network, (dataset,), steps, batch_size),
              "train_images": len(train_paths)}
    result["epoch_s"] = len(train_paths) / result["images_per_s"]
    if in_memory:
        pairs = [(x.numpy(), y.numpy()) for x, y in
                 data.make_dataset(pixels, image_size, 256).map(model.training_pair)]
        arrays = tuple(np.concatenate(part) for part in zip(*pairs))
        result["in_memory_images_per_s"] = _rate_arrays(network, arrays, steps, batch_size)
    return result


def _rate_arrays(model, arrays, steps: int, batch_size: int) -> float:
    """Like :func:`_rate`, feeding NumPy arrays held in memory (Keras batches them itself)."""
    x, y = (np.concatenate([a] * (1 + (steps + 2) * batch_size // len(a))) for a in arrays)
    model.fit(x[:2 * batch_size], y[:2 * batch_size], batch_size=batch_size, epochs=1, verbose=0)
    count = steps * batch_size
    start = time.perf_counter()
    model.fit(x[:count], y[:count], batch_size=batch_size, epochs=1, verbose=0, shuffle=True)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", action="append",
                        help="architecture (repeatable; default: the report's three)")
    parser.add_argument("--width", type=float, help="width multiplier for cnn")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--head", choices=["regression", "classification"], default="regression")
    parser.add_argument("--in-memory", action="store_true",
                        help="also feed in-memory arrays and print the pipeline efficiency")
    args = parser.parse_args()
    print(f"{'model':<18} {'args':<40} {'params':>12} {'img/s':>7} {'one epoch':>10}")
    for name in args.model or ["autoencoder", "cnn", "xception_decoder"]:
        model_args = {"weights": None} if name == "xception_decoder" else {}  # no download
        if name == "cnn" and args.width:
            model_args["width"] = args.width
        if args.head != "regression":
            model_args["head"] = args.head
        result = measure(name, args.data, args.steps, args.batch_size, args.image_size, model_args,
                         args.in_memory)
        print(f"{name:<18} {str(model_args):<40} {result['params']:>12,} "
              f"{result['images_per_s']:>7.1f} {result['epoch_s'] / 60:>8.1f} min"
              f"   ({result['train_images']} training images)", flush=True)
        if args.in_memory:
            memory = result["in_memory_images_per_s"]
            print(f"{'':<18} in-memory arrays: {memory:.1f} img/s; pipeline efficiency "
                  f"{result['images_per_s'] / memory:.2f}", flush=True)


if __name__ == "__main__":
    main()
