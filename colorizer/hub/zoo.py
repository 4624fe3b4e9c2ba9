"""The model zoo: every trained model by name (``arch.tag``), from its manifest and ``weights/``.

The manifest ``colorizer/hub/zoo.json`` (package data) lists the published zoo: one Hub owner, set
once, and per model its repo under that owner, the pinned revision (a commit id; null until
``colorizer publish`` has pushed it), a label and a one-line description for people, and the
headline figures of its evaluation, so the zoo can be listed, and the demo's menu filled, before
anything is downloaded. A weight folder ``weights/<name>`` (a source checkout;
``COLORIZER_WEIGHTS`` points elsewhere) is used when present; a model whose folder is missing is
downloaded at its pinned revision (:func:`colorizer.hub.resolve`). Weight folders that the
manifest does not list (your own exports) are part of the zoo too. ``COLORIZER_ZOO`` points at
another manifest.

Plain Python: importing this module loads neither TensorFlow nor Keras, so listing stays quick.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from colorizer.hub.folder_files import CONFIG_NAME, METRICS_NAME, WEIGHTS_NAME, is_temperature
from colorizer.io.figures import METRICS, SUMMARY, labelled, short
from colorizer.io.jsonfiles import read_json
from colorizer.vividness import is_vividness

# The shipped zoo lives next to the package in a source checkout (pip install -e .).
DEFAULT_WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "weights"
DEFAULT_MANIFEST = Path(__file__).resolve().parent / "zoo.json"
# What `colorizer publish` copies into a manifest entry from the weight folder's config.json.
FOLDER_FIELDS = ("architecture", "head", "image_size", "params", "hints", "temperature",
                 "vividness")
MAX_MANIFEST_BYTES = 10_000_000  # the shipped manifest is about 7 kB for 7 models


def weights_dir() -> Path:
    """Where the shipped weight folders are (``COLORIZER_WEIGHTS`` overrides)."""
    return Path(os.environ.get("COLORIZER_WEIGHTS", DEFAULT_WEIGHTS_DIR))


def weight_folders(root: Path | None = None) -> dict[str, Path]:
    """The weight folders in ``root`` (default :func:`weights_dir`) by name: each folder holding
    a config.json, except hidden ones (``.NAME.partial-*``: an export or a save in progress, or
    cut short by a kill, see :func:`colorizer.io.atomic.atomic_folder`)."""
    root = weights_dir() if root is None else Path(root)
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir())
            if not p.name.startswith(".") and (p / CONFIG_NAME).is_file()}


def manifest_path() -> Path:
    """The zoo manifest (``COLORIZER_ZOO`` overrides)."""
    return Path(os.environ.get("COLORIZER_ZOO", DEFAULT_MANIFEST))


def read_manifest(path: str | Path | None = None) -> dict[str, Any]:
    """The manifest as a dict: ``{"owner": str | None, "models": [entry, ...]}``."""
    path = Path(path) if path is not None else manifest_path()
    if not path.is_file():
        raise FileNotFoundError(f"zoo manifest {path} not found (COLORIZER_ZOO)")
    try:  # size-checked before it is read; too large, too deep or not JSON: one line
        manifest = read_json(path, max_bytes=MAX_MANIFEST_BYTES)
    except ValueError as error:
        raise ValueError(f"zoo manifest {error}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("models"), list) or any(
            not isinstance(model, dict) or not model.get("name") or not model.get("repo")
            for model in manifest["models"]):
        raise ValueError(f"zoo manifest {path}: expected \"models\", a list of entries each with "
                         "a \"name\" and a \"repo\"")
    manifest.setdefault("owner", None)
    return manifest


def write_manifest(manifest: dict[str, Any], path: str | Path | None = None) -> Path:
    """Replace the manifest in one step (an interrupted write leaves the old file)."""
    path = Path(path) if path is not None else manifest_path()
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False,
                                     prefix=f".{path.name}.", suffix=".tmp") as handle:
        handle.write(text)
    os.replace(handle.name, path)
    return path


def repo_id(owner: str | None, repo: str) -> str | None:
    """``owner/repo``, or None while the zoo has no owner."""
    return f"{owner}/{repo}" if owner else None


@dataclasses.dataclass(frozen=True)
class PretrainedModel:
    """One zoo entry: what it is, where its weights are and how well it did on its evaluation."""

    name: str  # arch.tag, e.g. autoencoder.flickr8k_128
    architecture: str
    head: str  # "regression" or "classification"
    image_size: int  # the square size the model sees
    label: str  # a few plain words, for menus
    description: str  # one line
    path: Path | None  # the local weight folder, if there is one
    hub_repo: str | None  # Hub repo id holding the same folder
    revision: str | None  # the pinned commit of hub_repo; None: not published
    metrics: dict[str, Any]  # headline validation metrics (model and baselines)
    params: int | None = None
    hints: bool = False  # whether it takes colour hints (built with hints=True)
    temperature: float | None = None  # a classification model's own decoding temperature
    vividness: float = 0.0  # the model's default vividness (0..100)

    @property
    def local(self) -> bool:
        """Whether the weights are on this machine (``weights/<name>``)."""
        return self.path is not None and (self.path / WEIGHTS_NAME).is_file()

    @property
    def published(self) -> bool:
        """Whether a pinned revision on the Hub can be downloaded."""
        return bool(self.hub_repo and self.revision)

    def summary(self) -> str:
        """One line: name, description and headline metrics, for `colorizer list`."""
        scores = self.metrics
        if "val_ab_mse" not in scores:
            return f"{self.name}: {self.description}"
        mse = (f"val {labelled('ab_mse', scores['val_ab_mse'])} vs gray "
               f"{short('ab_mse', scores['gray_ab_mse'])}")
        others = ", ".join(labelled(key, scores[key]) for key in SUMMARY if key in scores)
        return f"{self.name}: {self.description} ({mse}; {others})"


def headline(metrics: dict[str, Any]) -> dict[str, Any]:
    """The headline figures of a weight folder's metrics.json (its evaluation), or {}."""
    evaluation = metrics.get("evaluation", {})
    results = evaluation.get("results", {})
    if "model" not in results:
        return {}
    model, gray = results["model"], results.get("gray", {})
    figures = {
        "val_ab_mse": model["ab_mse"],
        "gray_ab_mse": gray.get("ab_mse", float("nan")),
        **{metric.key: model[metric.key] for metric in METRICS if metric.key in model},
    }
    if evaluation.get("original_colourfulness") is not None:
        figures["original_colourfulness"] = evaluation["original_colourfulness"]
    # Realism over every validation set evaluated (the zoo's default is chosen by it).
    evaluations = [evaluation, *metrics.get("more_evaluations", [])]
    kids = [e.get("results", {}).get("model", {}).get("kid") for e in evaluations]
    if all(k is not None for k in kids):
        figures["kid_sum"] = float(sum(kids))
    return figures


def folder_fields(folder: Path) -> dict[str, Any]:
    """What a weight folder says about itself: :data:`FOLDER_FIELDS`, description, metrics."""
    config = json.loads((folder / CONFIG_NAME).read_text())
    metrics_file = folder / METRICS_NAME
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    return {
        "architecture": config["architecture"],
        "head": config["args"].get("head", "regression"),
        "image_size": int(config.get("image_size", config["args"].get("image_size", 0))),
        "params": config.get("params"),
        "hints": bool(config["args"].get("hints", False)),
        # none for a bad one: loading the folder then says what is wrong with it
        "temperature": (float(config["temperature"]) if is_temperature(config.get("temperature"))
                        else None),
        "vividness": (float(config["vividness"]) if is_vividness(config.get("vividness"))
                      else 0.0),
        "description": config.get("description") or config["architecture"],
        "hub_repo": config.get("hub_repo"),
        "metrics": headline(metrics),
    }


def list_pretrained() -> list[PretrainedModel]:
    """Every model of the zoo (the manifest's and the local weight folders'), sorted by name.

    >>> [m.name for m in list_pretrained()]  # doctest: +SKIP
    ['autoencoder.flickr8k_128', ...]
    """
    folders = weight_folders()
    manifest = read_manifest()
    owner = manifest["owner"]
    entries = {}
    for model in manifest["models"]:
        folder = folders.pop(model["name"], None)
        local = folder_fields(folder) if folder is not None else {}
        entries[model["name"]] = PretrainedModel(
            name=model["name"],
            architecture=local.get("architecture", model.get("architecture", "")),
            head=local.get("head", model.get("head", "regression")),
            image_size=local.get("image_size", model.get("image_size", 0)),
            label=model.get("label") or model["name"],
            description=model.get("description") or local.get("description", model["name"]),
            path=folder,
            hub_repo=repo_id(owner, model["repo"]),
            revision=model.get("revision"),
            metrics=local.get("metrics") or model.get("metrics", {}),
            params=local.get("params", model.get("params")),
            hints=local.get("hints", model.get("hints", False)),
            temperature=local.get("temperature", model.get("temperature")),
            vividness=local.get("vividness", model.get("vividness", 0.0)),
        )
    for name, folder in folders.items():  # weight folders the manifest does not list
        local = folder_fields(folder)
        entries[name] = PretrainedModel(
            name=name, architecture=local["architecture"], head=local["head"],
            image_size=local["image_size"], label=name, description=local["description"],
            path=folder, hub_repo=local["hub_repo"], revision=None, metrics=local["metrics"],
            params=local["params"], hints=local["hints"], temperature=local["temperature"],
            vividness=local["vividness"])
    return [entries[name] for name in sorted(entries)]


def find_pretrained(name: str) -> PretrainedModel | None:
    """The zoo entry called ``name``, or None."""
    return next((entry for entry in list_pretrained() if entry.name == name), None)


def recommended(entries: list[PretrainedModel]) -> PretrainedModel:
    """The model to offer first: at its default vividness, the most realistic colour (lowest
    KID summed over the validation sets); among models never judged, the lowest ab MSE."""
    return min(entries, key=lambda entry: (entry.metrics.get("kid_sum", float("inf")),
                                        entry.metrics.get("val_ab_mse", float("inf"))))


def default_pretrained() -> PretrainedModel:
    """The zoo's recommended model (:func:`recommended`): the app's and the CLI's default."""
    entries = list_pretrained()
    if not entries:
        raise FileNotFoundError(
            f"the zoo is empty: {manifest_path()} lists no model and {weights_dir()} holds no "
            "weight folder; pass --model or set COLORIZER_WEIGHTS"
        )
    return recommended(entries)
