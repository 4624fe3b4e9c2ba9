"""Keras callbacks that keep a run folder up to date (any Keras backend).

A run folder holds everything about one training run::

    config.json     the resolved TrainConfig (``colorizer train --resume RUN`` reads it back)
    backup/         Keras BackupAndRestore state, written every epoch: model, optimizer, epoch,
                    and the epoch before (``*.bkp``); each file written whole (see
                    :class:`Checkpoint`); backup-fine-tune/ for the second stage of a two-stage run
    history.csv     one row per finished epoch (loss and ab MSE in Lab units, train and val,
                    epoch_seconds), the file rewritten whole each epoch
    curves.png      the loss curves, redrawn every epoch
    model/          the best epoch so far (lowest val loss, or the config's ``monitor``) as a
                    model folder (config + weights)
    epochs/NNN/     with ``keep_epochs``, every epoch's model folder
    critic.weights.h5  with a critic (colorizer.training.realism_losses), its latest weights

With ``ema`` in the config, validation and model/ use the moving average of the weights, while
backup/ keeps the raw weights and the average (in the optimizer) so a resumed run goes on alike.

In a multi-worker run every worker runs these callbacks alike; the workers other than the chief
write into temporary copies of the run folder (:func:`colorizer.training.loop.worker_folder`).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path

import keras

from colorizer.io.atomic import atomic_path, copy_file, remove_partial_files, save_figure
from colorizer.training.config import Stage, TrainConfig

HISTORY_NAME = "history.csv"


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
            if prefix + key in rows[0]:  # an empty cell: an epoch that lacked the column
                axis.plot(epochs, [float(row[prefix + key] or "nan") for row in rows], "o-",
                          label=label)
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
        plot_curves(self.run_dir / HISTORY_NAME, self.run_dir / "curves.png")
        value = logs.get(self.monitor, logs.get(self.monitor.removeprefix("val_"), float("inf")))
        extra = {"epoch": epoch + 1, "monitor": self.monitor,
                 "val_loss": float(logs.get("val_loss", float("nan"))),
                 "val_ab_mse": float(logs.get("val_ab_mse", float("nan"))),
                 "machine": machine_description(),
                 "training": dataclasses.asdict(self.config)}
        if self.config.keep_epochs:  # every epoch's model, to be scored afterwards
            self.colorizer.save_pretrained(self.run_dir / "epochs" / f"{epoch + 1:03d}",
                                           extra=extra)
        if value < self.best:
            self.best = float(value)
            self.colorizer.save_pretrained(self.run_dir / "model", extra=extra)


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


class HistoryLogger(keras.callbacks.Callback):
    """history.csv: ``epoch`` and the sorted epoch logs, one row per finished epoch.

    Unlike Keras' CSVLogger, which appends in place (a kill mid-row leaves part of a row, which
    the next run's first row then continues), the file is rewritten whole each epoch through
    :func:`colorizer.io.atomic.atomic_path`: a kill leaves the old file or the new one. The rows
    of this epoch and later ones (left by a run that resumed from an earlier checkpoint) are
    replaced, so each epoch is listed once. It runs before :class:`Checkpoint`: a kill between
    the two leaves the row of an epoch that then runs again and replaces it.
    """

    def __init__(self, path: Path):
        super().__init__()
        self.path = Path(path)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        rows, columns = [], ["epoch"]
        if self.path.is_file():
            with self.path.open(newline="") as handle:
                reader = csv.DictReader(handle)
                columns += [name for name in reader.fieldnames or [] if name != "epoch"]
                rows = [row for row in reader
                        if (row.get("epoch") or "").isdigit() and int(row["epoch"]) < epoch]
        row = {"epoch": epoch, **dict(sorted((logs or {}).items()))}
        columns += [name for name in row if name not in columns]
        with atomic_path(self.path) as temp, temp.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, columns, restval="", extrasaction="ignore")
            writer.writeheader()
            for kept in [*rows, row]:
                writer.writerow(kept)


class TimeLimit(keras.callbacks.Callback):
    """Stops training after the epoch during which ``seconds`` of wall time ran out.

    ``agree`` (a data source's ``any_worker``) makes the workers of a multi-worker run stop
    together, after the epoch in which the time ran out on any of them (a worker that stopped
    alone would leave the others waiting for it).
    """

    def __init__(self, seconds: float, agree=None):
        super().__init__()
        self.deadline = time.perf_counter() + seconds
        self.agree = agree or (lambda flag: flag)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.agree(time.perf_counter() > self.deadline):
            print(f"time limit reached after epoch {epoch + 1}; stopping", flush=True)
            self.model.stop_training = True


class Checkpoint(keras.callbacks.BackupAndRestore):
    """Keras' per-epoch BackupAndRestore, keeping the epoch before (``*.bkp``), every file
    written whole.

    Keras writes the checkpoint in place, so a kill during the very first one left a damaged
    ``latest.weights.h5`` and nothing to go back to. Here each file is written under a temp
    name and renamed into place (:mod:`colorizer.io.atomic`): first the copies of the epoch before,
    then the new weights and metadata, both written in full before either is renamed (weights
    first). A kill therefore leaves the last finished epoch's checkpoint (or, during the first
    one, no checkpoint: the stage starts cleanly) and temp files, removed here on resuming. The
    one remaining window is between the two renames: the new weights under the epoch before,
    which then runs once more.

    Resuming is Keras' ``_load_model``. A checkpoint file that cannot be read (an older
    version's in-place write cut short, a damaged disk) falls back to the epoch before; with no
    epoch before either, the error is one line naming the file and what to do.
    """

    def __init__(self, backup_dir: Path, first_epoch: int = 0):
        super().__init__(str(backup_dir), save_freq="epoch", double_checkpoint=True,
                         delete_checkpoint=False)
        self.first_epoch = first_epoch  # where this stage starts without a checkpoint

    def on_train_begin(self, logs: dict | None = None) -> None:
        # Keras keeps the epoch it restored on the model: a later fit (the fine-tuning stage)
        # would start there instead of at its own initial_epoch.
        self.model._initial_epoch = None
        remove_partial_files(self.backup_dir)  # temp files of a kill during a checkpoint
        try:
            self._load_model()
            return
        except (OSError, ValueError, KeyError, TypeError) as error:
            damaged, reason = self._damaged_file(), str(error).strip().splitlines()[0]
        backup, run = Path(self.backup_dir), Path(self.backup_dir).parent
        fix = (f"delete {backup} and run `colorizer train --resume {run}` again to train this "
               f"stage from epoch {self.first_epoch + 1} (history.csv and model/ are kept), or "
               "start a new run with another --output")
        previous = (self._prev_weights_path, self._prev_training_metadata_path)
        if not all(os.path.exists(path) for path in previous):
            raise ValueError(f"{damaged} is damaged ({reason}; a kill during a checkpoint "
                             f"write?) and no checkpoint of the epoch before is left: {fix}")
        copy_file(previous[0], self._weights_path)
        copy_file(previous[1], self._training_metadata_path)
        try:
            self._load_model()
        except (OSError, ValueError, KeyError, TypeError):
            raise ValueError(f"{damaged} and its copy of the epoch before (.bkp) are damaged: "
                             f"{fix}") from None
        print(f"{damaged} is damaged ({reason}); resuming from the checkpoint of the epoch "
              "before", file=sys.stderr)

    def _damaged_file(self) -> str:
        """Which of the latest checkpoint's two files cannot be read: the metadata, if it does
        not hold an epoch, else the weights."""
        try:
            with open(self._training_metadata_path) as handle:
                json.load(handle)["epoch"]
        except FileNotFoundError:
            pass
        except (ValueError, KeyError, TypeError, OSError):
            return self._training_metadata_path
        return self._weights_path

    def _save_model(self) -> None:
        os.makedirs(self.backup_dir, exist_ok=True)
        for latest, previous in ((self._weights_path, self._prev_weights_path),
                                 (self._training_metadata_path, self._prev_training_metadata_path)):
            if os.path.exists(latest):
                copy_file(latest, previous)
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        # Both written in full first; leaving the with, the weights are renamed, then the metadata.
        with atomic_path(self._training_metadata_path) as metadata_temp, \
                atomic_path(self._weights_path) as weights_temp:
            self.model.save_weights(filepath=str(weights_temp), overwrite=True)
            metadata_temp.write_text(json.dumps(metadata))


def has_checkpoint(run_dir: Path) -> bool:
    """Whether any stage of the run folder has written a checkpoint (weights) to resume from."""
    return any(Path(run_dir).glob("backup*/latest.weights.h5*"))


def run_callbacks(run_dir: Path, config: TrainConfig, stage: Stage, colorizer) -> list:
    """Per-epoch timing, CSV history, checkpoint (BackupAndRestore), curves and best model
    for one stage (``colorizer``: the :class:`colorizer.Colorizer` being trained)."""
    callbacks = [
        EpochTimer(),  # before the logger, which then records epoch_seconds
        HistoryLogger(run_dir / HISTORY_NAME),
        Checkpoint(run_dir / stage.backup, first_epoch=stage.first_epoch),
    ]
    # After the backup (raw weights), before the best-model folder (averaged). Not while only
    # a critic trains: the generator's optimizer never steps, so its average was never set.
    if config.ema and config.critic != "pretrain":
        callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    callbacks.append(RunFolderCallback(run_dir, config, colorizer))
    if config.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=config.monitor,
                                                       patience=config.early_stopping))
    return callbacks
