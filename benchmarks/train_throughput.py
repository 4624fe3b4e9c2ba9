"""Training throughput (photos/s) of the one loop's training step, and one epoch's time.

    python benchmarks/train_throughput.py --data data/flickr8k
    python benchmarks/train_throughput.py --data data/flickr8k --model cnn --width 0.5
    python benchmarks/train_throughput.py --data data/mixed150k --model lite0_unet \\
        --model-arg encoder_scale=2 --model-arg hints=true --model-arg hint_film=true \\
        --loss mse,feature,pretrain,gan          # the NoGAN phases (issue 29)

Builds the batches as ``colorizer train`` does (the config's data source: tf.data, shards
when the folder has them), runs 2 warm-up steps (tracing), then times --steps steps of Keras
``fit`` and prints photos/s. Loss
``mse`` is the model's own objective (Keras' step); ``feature`` adds the feature loss,
``pretrain`` trains the critic alone on the generator's results, ``gan`` trains both
(:mod:`colorizer.training.realism_losses`). ``--jit`` compiles the step with XLA. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from colorizer.model import create_model  # noqa: E402
from colorizer.training.config import TrainConfig, make_optimizer, stages  # noqa: E402
from colorizer.training.data import TfDataSource  # noqa: E402
from colorizer.training.realism_losses import RealismTrainer  # noqa: E402
from colorizer.training.shards import prior_sample  # noqa: E402

LOSSES = {  # --loss name -> TrainConfig fields
    "mse": {},
    "feature": {"feature_loss": 0.1},
    "pretrain": {"critic": "pretrain"},
    "gan": {"feature_loss": 0.1, "critic": "gan"},
}


def _rate(model, data, steps: int, batch_size: int) -> float:
    """Photos per second of ``fit`` over ``steps`` steps, after 2 warm-up steps."""
    model.fit(data, steps_per_epoch=2, epochs=1, verbose=0)  # tracing, first steps
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps * batch_size / (time.perf_counter() - start)


def measure(name: str, data_path: str, loss: str, steps: int, batch_size: int, image_size: int,
            model_args: dict, jit: bool = False) -> dict:
    config = TrainConfig(model=name, data=data_path, batch_size=batch_size,
                         image_size=image_size, model_args=model_args,
                         limit=(steps + 2) * batch_size, val_limit=1, **LOSSES[loss]).resolved()
    source = TfDataSource()
    pixels, _ = source.load(config)
    model = create_model(name, image_size=image_size, **model_args)
    if model.spec.needs_prior:
        from colorizer.models import quantization

        model.with_prior(quantization.prior_from_images(prior_sample(pixels)))
    data = source.batches(pixels, config, model.training_pair, training=True).repeat()
    optimizer = make_optimizer(config, stages(config)[0], steps)
    if LOSSES[loss]:
        fitted = RealismTrainer(model.network, config)
        fitted.compile(optimizer=optimizer, critic_optimizer=keras.optimizers.Adam(2e-4, 0.5),
                       jit_compile=jit)
    else:
        fitted = model.network
        objective, metrics = model.objective()
        fitted.compile(optimizer=optimizer, loss=objective, metrics=metrics, jit_compile=jit)
    return {"model": name, "loss": loss, "args": model_args, "params": model.count_params(),
            "photos_per_s": _rate(fitted, data, steps, batch_size)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", action="append",
                        help="architecture (repeatable; default: the report's three)")
    parser.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                        help="architecture argument, JSON value (repeatable)")
    parser.add_argument("--width", type=float, help="width multiplier for cnn")
    parser.add_argument("--loss", default="mse",
                        help=f"comma-separated steps to time: {', '.join(LOSSES)}")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--jit", action="store_true", help="compile the step with XLA")
    args = parser.parse_args()
    losses = [loss for loss in args.loss.split(",") if loss]
    unknown = sorted(set(losses) - set(LOSSES))
    if unknown:
        parser.error(f"unknown --loss {unknown}; use {', '.join(LOSSES)}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; Keras {keras.__version__} on "
          f"{keras.backend.backend()}; batch {args.batch_size}, {args.image_size} px, "
          f"{args.steps} timed steps{', XLA' if args.jit else ''}")
    print(f"{'model':<18} {'loss':<9} {'args':<52} {'params':>11} {'photos/s':>9}")
    for name in args.model or ["autoencoder", "cnn", "xception_decoder"]:
        model_args = dict(item.split("=", 1) for item in args.model_arg)
        model_args = {key: json.loads(value) for key, value in model_args.items()}
        if name == "xception_decoder":
            model_args["weights"] = None  # no download
        if name == "cnn" and args.width:
            model_args["width"] = args.width
        for loss in losses:
            result = measure(name, args.data, loss, args.steps, args.batch_size,
                             args.image_size, model_args, args.jit)
            print(f"{name:<18} {loss:<9} {json.dumps(model_args):<52} {result['params']:>11,} "
                  f"{result['photos_per_s']:>9.1f}", flush=True)


if __name__ == "__main__":
    main()
