"""Turning a finished training run into a zoo weight folder (``colorizer export``).

A weight folder is what ships in ``weights/`` and what goes to the Hub: the run's best model
(config.json + model.weights.h5), its loss curves, a metrics.json holding the evaluation (model and
both baselines) and the training record, and a model card. A hint model's folder also holds its
evaluation with simulated hints (``colorizer evaluate --hints``: hint_metrics.json and its curves).
"""

from __future__ import annotations

import collections
import csv
import json
import shutil
from pathlib import Path

from colorizer.hub.card import write_model_card
from colorizer.hub.folder_files import HINT_CURVES_NAME, HINT_METRICS_NAME
from colorizer.io.atomic import atomic_folder, write_text
from colorizer.io.figures import evaluation_name
from colorizer.model import Colorizer
from colorizer.hub.folder_files import (CONFIG_NAME, CURVES_NAME, METRICS_NAME,
                                        resolve_model_folder)


def _training_record(run_dir: Path, model_config: dict) -> dict:
    """What a run cost. A run warm-started from another run folder (``init_from``) adds that
    run's record as ``started_from``, and its epochs and wall time to the totals. A checkpoint
    kept by ``keep_epochs`` (``RUN/epochs/NNN``) counts its run's first NNN epochs."""
    last = None
    if run_dir.parent.name == "epochs" and run_dir.name.isdigit():
        run_dir, last = run_dir.parent.parent, int(run_dir.name)
    history = run_dir / "history.csv"
    rows = list(csv.DictReader(history.open())) if history.is_file() else []
    rows = rows[:last] if last is not None else rows
    seconds = sum(float(row.get("epoch_seconds") or 0) for row in rows)
    config = model_config.get("training", {})
    record = {
        "config": config,
        "epochs_run": len(rows),
        "best_epoch": model_config.get("epoch"),
        "wall_time_s": round(seconds, 1),
        "machine": model_config.get("machine", "unknown"),
    }
    earlier = config.get("init_from") and _earlier_record(config["init_from"])
    if earlier:
        record["started_from"] = earlier
        record["epochs_run"] += earlier["epochs_run"]
        record["wall_time_s"] = round(record["wall_time_s"] + earlier["wall_time_s"], 1)
    return record


def _earlier_record(init_from: str) -> dict | None:
    """The training record of the weights a run started from: a run folder's, or a zoo weight
    folder's (its metrics.json), named as ``--init-from`` named it; None when unknown."""
    previous = Path(init_from)
    run = previous.parent.parent if previous.parent.name == "epochs" else previous  # RUN/epochs/N
    if (run / "history.csv").is_file():
        previous_config = json.loads((resolve_model_folder(previous) / CONFIG_NAME).read_text())
        return {"run": str(previous), **_training_record(previous, previous_config)}
    from colorizer.hub.zoo import find_pretrained

    entry = find_pretrained(init_from)
    folder = entry.path if entry is not None and entry.path is not None else previous
    metrics_file = folder / METRICS_NAME
    training = (json.loads(metrics_file.read_text()).get("training")
                if metrics_file.is_file() else None)
    if not training or "epochs_run" not in training:
        return None
    kept = ("config", "epochs_run", "wall_time_s", "started_from", "command")
    return {"run": init_from, **{key: training[key] for key in kept if key in training}}


def data_sources(sources: str | Path, data: str | Path) -> list[dict]:
    """The sets of a ``training/prepare_photos.py`` sources file, each with the number of its
    photos in the prepared folder's ``train.txt`` (its lines start with the set's name)."""
    try:
        sets = [{"name": item["name"], "title": item.get("title", item["name"]),
                 "repository": item["repository"], "commit": item.get("commit", ""),
                 "terms": item["terms"]} for item in json.loads(Path(sources).read_text())["sets"]]
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"{sources} is not a sources file of training/prepare_photos.py (sets "
                         f"with name, repository and terms): {error!r}") from None
    listing = Path(data) / "train.txt"
    lines = [line.strip() for line in listing.read_text().splitlines()] if listing.is_file() \
        else []
    counts = collections.Counter(line.split("/", 1)[0] for line in lines)
    return [dict(item, train_photos=counts.get(item["name"])) for item in sets]


def export_weights(run: str | Path, output: str | Path, *, evaluation: str | Path,
                   hint_evaluation: str | Path | None = None, description: str | None = None, hub_repo: str | None = None,
                   dataset: str = "flickr8k", note: str | None = None,
                   command: str | None = None, overwrite: bool = False,
                   sources: str | Path | None = None, temperature: float | None = None
                   ) -> Path:
    """Copy a run's best model (or a checkpoint kept by ``keep_epochs``, ``RUN/epochs/NNN``) into
    the weight folder ``output`` with metrics and a card.

    ``hint_evaluation`` (a hint model's hint_metrics.json of ``colorizer evaluate --hints``) is
    copied in with the curves beside it. ``sources`` (the sources file the run's data folder was
    prepared from, e.g. ``training/sources/mixed150k.json``) puts each set's origin, count and
    terms in the card (:func:`data_sources`). ``temperature`` is a classification model's own
    annealed-mean temperature (its default when decoding), at which ``evaluation`` must have been
    measured. The folder is assembled under a temp name and then put
    in place, so an error or a kill leaves ``output`` as it was (absent, or the old folder with
    ``overwrite``).
    """
    run_dir = Path(run)
    source = resolve_model_folder(run_dir)
    output = Path(output)
    if output.exists() and not overwrite:
        raise FileExistsError(f"{output} exists; pass overwrite=True (--overwrite) to replace it")
    evaluation_data = json.loads(Path(evaluation).read_text())
    model_config = json.loads((source / CONFIG_NAME).read_text())
    model = Colorizer.from_pretrained(source)
    if temperature is not None:
        model.with_temperature(temperature)
    measured_at = evaluation_data.get("temperature")
    if measured_at != model.default_temperature:
        raise ValueError(f"{evaluation} was measured at temperature {measured_at}, but the model "
                         f"decodes at {model.default_temperature} by default: evaluate with "
                         f"--temperature {model.default_temperature} (or export with --temperature "
                         f"{measured_at})")
    if hint_evaluation is not None:
        hint_evaluation = Path(hint_evaluation)
        if not model.has_hints:
            raise ValueError(f"{run_dir} is not a hint model; drop --hint-evaluation")
        if hint_evaluation.name != HINT_METRICS_NAME:
            raise ValueError(f"--hint-evaluation takes the {HINT_METRICS_NAME} of `colorizer "
                             f"evaluate --hints`, got {hint_evaluation}")
        json.loads(hint_evaluation.read_text())  # a damaged file fails here, not on the Hub
    training = _training_record(run_dir, model_config)
    training["command"] = command or f"colorizer train --config training/configs/{output.name}.json"
    if note:
        training["note"] = note
    # save_pretrained writes config.json (the model's own temperature included) with these
    # fields of the run's config as trained.
    config = {key: model_config[key] for key in
              ("architecture", "args", "image_size", "normalization", "colorizer_version",
               "keras_version") if key in model_config}
    config.update({"name": output.name, "description": description, "hub_repo": hub_repo,
                   "params": model.count_params()})
    metrics = {"dataset": dataset, "evaluation": evaluation_data, "training": training}
    if sources is not None:
        metrics["data_sources"] = data_sources(sources, training["config"].get("data", ""))
    with atomic_folder(output, overwrite=overwrite) as staging:
        model.save_pretrained(staging, extra=config)  # not the optimizer state the run saved
        if (run_dir / CURVES_NAME).is_file():
            shutil.copy2(run_dir / CURVES_NAME, staging / CURVES_NAME)
        (staging / METRICS_NAME).write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
        if hint_evaluation is not None:
            for name in (HINT_METRICS_NAME, HINT_CURVES_NAME):
                if (hint_evaluation.parent / name).is_file():
                    shutil.copy2(hint_evaluation.parent / name, staging / name)
        write_model_card(staging)
    return output


def record_evaluation(folder: str | Path, evaluation: dict) -> tuple[Path, str]:
    """Record an evaluation of ``colorizer evaluate`` in a weight folder's metrics.json (its
    training record is kept) and rewrite its model card; return the file and where it went.

    An evaluation named as the folder's main one (:func:`colorizer.io.figures.evaluation_name`), or
    the first, replaces the main evaluation (re-measuring shipped weights with a newer
    ``evaluate``); any other is kept beside it in ``more_evaluations`` (a second validation set),
    replacing an earlier one of the same name.
    """
    folder = resolve_model_folder(folder)
    metrics_file = folder / METRICS_NAME
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    name = evaluation_name(evaluation)
    main = metrics.get("evaluation")
    if not main or evaluation_name(main) == name:
        metrics["evaluation"] = evaluation
        place = "the main evaluation"
    else:
        metrics["more_evaluations"] = [
            *(other for other in metrics.get("more_evaluations", [])
              if evaluation_name(other) != name), evaluation]
        place = f"a further evaluation ({name})"
    write_text(metrics_file, json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    write_model_card(folder)
    return metrics_file, place
