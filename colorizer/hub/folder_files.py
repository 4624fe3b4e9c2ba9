"""What a model folder holds, by name, and finding one on disk (plain Python, no TensorFlow).

A model folder (:mod:`colorizer.hub.folder` writes and reads it) holds ``config.json`` and
``model.weights.h5``, a classification model also ``prior.json``; a zoo weight folder adds
``metrics.json``, ``curves.png`` and a model card (``README.md``); a hint model's also its
evaluation with simulated hints (``hint_metrics.json``, ``hint_curves.png``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.weights.h5"
PRIOR_NAME = "prior.json"
METRICS_NAME = "metrics.json"
CURVES_NAME = "curves.png"
CARD_NAME = "README.md"
HINT_METRICS_NAME = "hint_metrics.json"
HINT_CURVES_NAME = "hint_curves.png"
# Everything a published weight folder holds (and all that is ever downloaded).
FOLDER_FILES = (CONFIG_NAME, WEIGHTS_NAME, PRIOR_NAME, METRICS_NAME, CURVES_NAME, CARD_NAME,
                HINT_METRICS_NAME, HINT_CURVES_NAME)


def is_temperature(value: Any) -> bool:
    """Whether a config.json ``temperature`` (a classification model's own annealed-mean
    temperature) is a number from 0 to 1."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= 1.0


def resolve_model_folder(name_or_path: str | Path) -> Path:
    """A model folder, or a training run folder (its best model in ``model/``)."""
    path = Path(name_or_path)
    if (path / "model" / CONFIG_NAME).is_file():  # a run folder's own config.json is a TrainConfig
        return path / "model"
    if (path / CONFIG_NAME).is_file():
        return path
    raise FileNotFoundError(
        f"{name_or_path} is not a model folder: {CONFIG_NAME} is missing (and it is not a "
        "training run folder either)"
    )
