"""Keras callbacks that keep a run folder up to date (any Keras backend).

A run folder holds everything about one training run::

    config.json     the resolved TrainConfig (``colorizer train --resume RUN`` reads it back)
    backup/         Keras BackupAndRestore state, written every epoch: model, optimizer, epoch,
                    and the epoch before (``*.bkp``: a kill during a write leaves that one to
                    resume from); backup-fine-tune/ for the second stage of a two-stage run
    history.csv     one row per finished epoch (loss and ab MSE in Lab units, train and val,
                    epoch_seconds)
    curves.png      the loss curves, redrawn every epoch
    model/          the best epoch so far (lowest val loss, or the config's ``monitor``) as a
                    model folder (config + weights)

With ``ema`` in the config, validation and model/ use the moving average of the weights, while
backup/ keeps the raw weights and the average (in the optimizer) so a resumed run goes on alike.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import platform
import shutil
import time
from pathlib import Path

import keras

from colorizer.atomic import atomic_path, remove_partial_files, save_figure
from colorizer.config import TrainConfig


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
    save_figure(figure, output_png, dpi=100)


class RunFolderCallback(keras.callbacks.Callback):
    """Each epoch: redraw curves.png; when the monitored value (default val loss) improves,
    write the model folder."""

    def __init__(self, run_dir: Path, config: TrainConfig, colorizer):
        super().__init__()
        self.colorizer = colorizer  # the Colorizer whose network is being fitted
        self.run_dir = run_dir
        self.config = config
        self.monitor = config.monitor
        self.best = float("inf")
        for folder in (run_dir, run_dir / "model"):  # temp files of a killed run
            remove_partial_files(folder)
        best_file = run_dir / "model" / "config.json"
        if best_file.is_file():
            self.best = json.loads(best_file.read_text()).get(self.monitor, float("inf"))

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        plot_curves(self.run_dir / "history.csv", self.run_dir / "curves.png")
        value = logs.get(self.monitor, logs.get(self.monitor.removeprefix("val_"), float("inf")))
        if value < self.best:
            self.best = float(value)
            self.colorizer.save_pretrained(
                self.run_dir / "model",
                extra={"epoch": epoch + 1, "monitor": self.monitor,
                       "val_loss": float(logs.get("val_loss", float("nan"))),
                       "val_ab_mse": float(logs.get("val_ab_mse", float("nan"))),
                       "machine": machine_description(),
                       "training": dataclasses.asdict(self.config)},
            )


def _accelerators() -> str:
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        names = [d.name for d in tf.config.list_physical_devices("GPU")]
    elif backend == "jax":
        import jax

        names = [d.device_kind for d in jax.devices() if d.platform != "cpu"]
    else:
        names = []
    return ", ".join(names) if names else "no GPU"


def machine_description() -> str:
    """What the run trained on, for model cards: OS, CPU cores, accelerators, Keras backend."""
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, "
            f"{_accelerators()}, Keras {keras.__version__} on {keras.backend.backend()}")


class EpochTimer(keras.callbacks.Callback):
    """Adds ``epoch_seconds`` (wall time of the epoch, validation included) to the epoch logs."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self.start


class FlushCSVLogger(keras.callbacks.CSVLogger):
    """CSVLogger that flushes each row, so curves.png (drawn right after) sees it."""

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        self.csv_file.flush()




class TimeLimit(keras.callbacks.Callback):
    """Stops training after the epoch during which ``seconds`` of wall time ran out."""

    def __init__(self, seconds: float):
        super().__init__()
        self.deadline = time.perf_counter() + seconds

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if time.perf_counter() > self.deadline:
            print(f"time limit reached after epoch {epoch + 1}; stopping", flush=True)
            self.model.stop_training = True


class Checkpoint(keras.callbacks.BackupAndRestore):
    """Keras' per-epoch BackupAndRestore, keeping the epoch before as well (double_checkpoint).

    A kill while the checkpoint is written leaves a damaged ``latest.weights.h5`` (restoring it
    is an OSError, on which Keras goes back to the previous one) or a damaged
    ``training_metadata.json`` (a ValueError, handled here the same way). Rows of ``history``
    for the epochs that will run again are dropped, so it lists each epoch once.
    """

    def __init__(self, backup_dir: Path, history: Path | None = None):
        super().__init__(str(backup_dir), save_freq="epoch", double_checkpoint=True,
                         delete_checkpoint=False)
        self.history = history

    def on_train_begin(self, logs: dict | None = None) -> None:
        # Keras keeps the epoch it restored on the model: a later fit (the fine-tuning stage)
        # would start there instead of at its own initial_epoch.
        self.model._initial_epoch = None
        try:
            super().on_train_begin(logs)
        except ValueError:
            previous = self._prev_training_metadata_path
            if not (os.path.exists(previous) and os.path.exists(self._prev_weights_path)):
                raise
            shutil.copyfile(self._prev_weights_path, self._weights_path)
            shutil.copyfile(previous, self._training_metadata_path)
            self._load_model()
        if self.history is not None and os.path.exists(self._training_metadata_path):
            with open(self._training_metadata_path) as handle:
                _drop_rows_from(self.history, int(json.load(handle)["epoch"]))


def _drop_rows_from(history: Path, epoch: int) -> None:
    """Remove the rows of epochs ``epoch`` and later from a history CSV (atomically)."""
    if not history.is_file():
        return
    with history.open(newline="") as handle:
        lines = handle.read().splitlines(keepends=True)
    if not lines:
        return
    rows = list(csv.DictReader(lines))
    kept = [line for line, row in zip(lines[1:], rows)
            if (row.get("epoch") or "").isdigit() and int(row["epoch"]) < epoch]
    if len(kept) < len(rows):
        with atomic_path(history) as temp:
            temp.write_text("".join([lines[0], *kept]))


def run_callbacks(run_dir: Path, config: TrainConfig, backup: str, colorizer) -> list:
    """Per-epoch checkpoint (BackupAndRestore), timing, CSV history, curves and best model
    (``colorizer``: the :class:`colorizer.Colorizer` being trained)."""
    callbacks = [
        Checkpoint(run_dir / backup, history=run_dir / "history.csv"),
        EpochTimer(),  # before the logger, which then records epoch_seconds
        FlushCSVLogger(str(run_dir / "history.csv"), append=True),
    ]
    if config.ema:  # after the backup (raw weights), before the best-model folder (averaged)
        callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    callbacks.append(RunFolderCallback(run_dir, config, colorizer))
    if config.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=config.monitor,
                                                       patience=config.early_stopping))
    return callbacks
