"""The model zoo: the trained weight folders shipped in ``weights/``, named ``arch.tag``.

The zoo is read from the folders themselves (config.json + metrics.json), never from a list
written by hand. ``COLORIZER_WEIGHTS`` points at another weights folder.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from colorizer.models import ModelSpec, model_description
from colorizer.pretrained import CONFIG_NAME, METRICS_NAME
from colorizer.schema import METRICS, SUMMARY, labelled, short

# The shipped zoo lives next to the package in a source checkout (pip install -e .).
DEFAULT_WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"


def weights_dir() -> Path:
    """Where the shipped weight folders are (``COLORIZER_WEIGHTS`` overrides)."""
    return Path(os.environ.get("COLORIZER_WEIGHTS", DEFAULT_WEIGHTS_DIR))


@dataclasses.dataclass(frozen=True)
class PretrainedModel:
    """One zoo entry: where it is and how well it did on its evaluation split."""

    name: str  # arch.tag, e.g. autoencoder.flickr8k_128
    architecture: str
    head: str  # "regression" or "classification"
    description: str
    path: Path
    hub_repo: str | None  # Hub repo id holding the same folder, if published
    metrics: dict[str, Any]  # headline validation metrics (model and baselines)

    def summary(self) -> str:
        """One line: name, description and headline metrics, for menus and `colorizer list`."""
        scores = self.metrics
        if "val_ab_mse" not in scores:
            return f"{self.name}: {self.description}"
        mse = (f"val {labelled('ab_mse', scores['val_ab_mse'])} vs gray "
               f"{short('ab_mse', scores['gray_ab_mse'])}")
        others = ", ".join(labelled(key, scores[key]) for key in SUMMARY if key in scores)
        return f"{self.name}: {self.description} ({mse}; {others})"


def _headline(metrics_file: Path) -> dict[str, Any]:
    if not metrics_file.is_file():
        return {}
    results = json.loads(metrics_file.read_text()).get("evaluation", {}).get("results", {})
    if "model" not in results:
        return {}
    model, gray = results["model"], results.get("gray", {})
    return {
        "val_ab_mse": model["ab_mse"],
        "gray_ab_mse": gray.get("ab_mse", float("nan")),
        **{metric.key: model[metric.key] for metric in METRICS if metric.key in model},
    }


def list_pretrained() -> list[PretrainedModel]:
    """Every weight folder of the zoo, sorted by name.

    >>> [m.name for m in list_pretrained()]  # doctest: +SKIP
    ['autoencoder.flickr8k_128', ...]
    """
    root = weights_dir()
    if not root.is_dir():
        return []
    entries = []
    for folder in sorted(p for p in root.iterdir() if (p / CONFIG_NAME).is_file()):
        config = json.loads((folder / CONFIG_NAME).read_text())
        entries.append(PretrainedModel(
            name=folder.name,
            architecture=config["architecture"],
            head=ModelSpec(config["architecture"], config["args"]).head,
            description=config.get("description") or model_description(config["architecture"]),
            path=folder,
            hub_repo=config.get("hub_repo"),
            metrics=_headline(folder / METRICS_NAME),
        ))
    return entries


def find_pretrained(name: str) -> PretrainedModel | None:
    """The zoo entry called ``name``, or None."""
    return next((entry for entry in list_pretrained() if entry.name == name), None)


def default_pretrained() -> PretrainedModel:
    """The zoo model with the lowest validation ab MSE (the app's and CLI's default)."""
    entries = list_pretrained()
    if not entries:
        raise FileNotFoundError(
            f"no pretrained weights in {weights_dir()}; pass --model or set COLORIZER_WEIGHTS"
        )
    return min(entries, key=lambda entry: entry.metrics.get("val_ab_mse", float("inf")))
