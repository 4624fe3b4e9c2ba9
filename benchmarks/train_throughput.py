"""Training throughput of each architecture on the real tf.data pipeline, and one epoch's time.

    python benchmarks/train_throughput.py --data ../shared/data/flickr8k
    python benchmarks/train_throughput.py --data ../shared/data/flickr8k --model cnn --width 0.5

Decodes a few hundred training images, runs 2 warm-up steps (tracing), then times --steps
training steps of Keras ``fit`` and prints images/s and the projected time of one epoch over the
whole training split. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


from colorizer import data  # noqa: E402
from colorizer.models import create_model  # noqa: E402
from colorizer.losses import ab_mse  # noqa: E402
from colorizer.config import DEFAULT_OPTIMIZERS, OPTIMIZERS  # noqa: E402


def measure(name: str, data_path: str, steps: int, batch_size: int, image_size: int,
            model_args: dict) -> dict:
    train_paths = data.list_images(data_path, "train")
    images_needed = (steps + 2) * batch_size
    pixels, _, _ = data.load_images(train_paths[:images_needed], image_size, warn=False)
    dataset = data.make_dataset(pixels, image_size, batch_size, shuffle=True, augment=["flip"],
                                drop_remainder=True).repeat()
    model = create_model(name, image_size=image_size, **model_args)
    optimizer = OPTIMIZERS[DEFAULT_OPTIMIZERS.get(name, "adam")](learning_rate=1e-3)
    model.compile(optimizer=optimizer, loss="mse", metrics=[ab_mse])
    model.fit(dataset, steps_per_epoch=2, epochs=1, verbose=0)  # warm-up: tracing, first steps
    start = time.perf_counter()
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    rate = steps * batch_size / seconds
    return {"model": name, "args": model_args, "params": model.count_params(),
            "images_per_s": rate, "epoch_s": len(train_paths) / rate,
            "train_images": len(train_paths)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", action="append",
                        help="architecture (repeatable; default: the report's three)")
    parser.add_argument("--width", type=float, help="width multiplier for cnn")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=128)
    args = parser.parse_args()
    print(f"{'model':<18} {'args':<22} {'params':>12} {'img/s':>7} {'one epoch':>10}")
    for name in args.model or ["autoencoder", "cnn", "xception_decoder"]:
        model_args = {"weights": None} if name == "xception_decoder" else {}
        if name == "cnn" and args.width:
            model_args["width"] = args.width
        result = measure(name, args.data, args.steps, args.batch_size, args.image_size, model_args)
        print(f"{name:<18} {str(model_args):<22} {result['params']:>12,} "
              f"{result['images_per_s']:>7.1f} {result['epoch_s'] / 60:>8.1f} min"
              f"   ({result['train_images']} training images)", flush=True)


if __name__ == "__main__":
    main()
