"""The model folder codec: a folder on disk <-> (Keras network, :class:`ModelSpec`).

:meth:`colorizer.Colorizer.save_pretrained` and ``from_pretrained`` are the doors; this module
never sees the model object. A model folder holds ``config.json`` (architecture, build arguments, input size, normalisation,
package version; sorted keys) and ``model.weights.h5`` (Keras weights, no pickled code); a model
with a classification head also ``prior.json`` (the colour prior of its training set). Loading
rebuilds the architecture through the registry and loads the weights into it, so nothing from the
folder is ever executed.
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import dataclasses

import keras

from colorizer import __version__
from colorizer.io import color
from colorizer.io.atomic import (PARTIAL, atomic_folder, atomic_path, is_partial,
                                 remove_partial_files, write_text)
from colorizer.hub.folder_files import (CONFIG_NAME, FOLDER_FILES, PRIOR_NAME, WEIGHTS_NAME,
                                        resolve_model_folder)
from colorizer.hub.config_check import MAX_CONFIG_BYTES, check_model_config
from colorizer.io.jsonfiles import read_json
from colorizer.models import ModelSpec, build_network
from colorizer.models.quantization import load_prior, save_prior
from colorizer.models.registry import resolve_args


def save_folder(network: keras.Model, spec: ModelSpec, folder: str | Path, *,
                extra: dict[str, Any] | None = None) -> Path:
    """Write ``network`` and ``spec`` as a model folder; ``extra`` entries are added to
    config.json.

    A folder that holds a model already is replaced as a whole
    (:func:`colorizer.io.atomic.atomic_folder`: the new folder is assembled beside it, then the two
    swap names in one step), so a kill at any instant leaves the old model or the new one, never
    new weights under the old config (which, for another architecture, loads as neither). Its
    other files are carried over, except the old model's metrics, curves and card when the new
    model is a different one (architecture, build arguments or size). Into a new folder, or one
    holding no model, each file is written atomically and config.json last. Temp files and
    folders of an earlier, killed save are removed.
    """
    folder = Path(folder)
    config = {
        "architecture": spec.architecture,
        "args": spec.args,
        "image_size": spec.image_size,
        "normalization": color.normalization(),
        "colorizer_version": __version__,
        "keras_version": keras.__version__,
        **(extra or {}),
    }
    if spec.temperature is not None:
        config["temperature"] = spec.temperature
    if spec.vividness:
        config["vividness"] = spec.vividness
    old = _model_config(folder)
    if old is None:
        folder.mkdir(parents=True, exist_ok=True)
        remove_partial_files(folder)
        _write_model(network, spec, folder, config)
        return folder
    same = all(old.get(key) == json.loads(json.dumps(config[key]))
               for key in ("architecture", "args", "image_size"))
    written = (CONFIG_NAME, WEIGHTS_NAME, PRIOR_NAME)  # the old prior goes with the old model
    with atomic_folder(folder, overwrite=True) as staging:
        for item in folder.iterdir():
            if is_partial(item) or item.name in (written if same else FOLDER_FILES):
                continue
            if item.is_dir():
                shutil.copytree(item, staging / item.name, symlinks=True)
            else:
                shutil.copy2(item, staging / item.name, follow_symlinks=False)
        _write_model(network, spec, staging, config)
    return folder


def _model_config(folder: Path) -> dict[str, Any] | None:
    """The config.json of the model ``folder`` holds, or None (no folder, or no model in it)."""
    try:
        config = read_json(folder / CONFIG_NAME, max_bytes=MAX_CONFIG_BYTES)
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) and "architecture" in config else None


def _write_model(network: keras.Model, spec: ModelSpec, folder: Path, config: dict[str, Any]
                 ) -> None:
    """The weights, the prior (classification) and config.json, each atomically, config last."""
    _save_weights_only(network, folder / WEIGHTS_NAME)
    if spec.prior is not None:
        save_prior(spec.prior, folder / PRIOR_NAME)
    write_text(folder / CONFIG_NAME, json.dumps(config, indent=2, sort_keys=True) + "\n")


def _save_weights_only(model: keras.Model, path: Path) -> None:
    """``model.save_weights`` without the optimizer state Keras adds for a compiled model.

    The optimizer's moments would double or triple the file (and nothing reads them when loading
    a model folder), so every top-level group of Keras' file except ``optimizer`` is copied.
    """
    import h5py

    with atomic_path(path) as temp:
        staging = temp.with_name(temp.name.replace(PARTIAL, f"{PARTIAL}staging-", 1))
        try:
            model.save_weights(staging)
            with h5py.File(staging, "r") as source, h5py.File(temp, "w") as target:
                for key, value in source.attrs.items():
                    target.attrs[key] = value
                for key in source:
                    if key != "optimizer":
                        source.copy(source[key], target, name=key)
        finally:
            staging.unlink(missing_ok=True)


def read_config(folder: str | Path) -> dict[str, Any]:
    """The config.json of a model folder, checked (every build argument's type and range, see
    :mod:`colorizer.hub.config_check`) before anything is built from it."""
    path = Path(folder) / CONFIG_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a model folder: {CONFIG_NAME} is missing")
    config = read_json(path, max_bytes=MAX_CONFIG_BYTES)
    if isinstance(config, dict):
        missing = {"architecture", "args"} - set(config)
        if missing:
            raise ValueError(f"{path} lacks {sorted(missing)}")
    check_model_config(config, path)
    if config.get("normalization", color.normalization()) != color.normalization():
        raise ValueError(
            f"{path} was saved with normalisation {config['normalization']}, this version uses "
            f"{color.normalization()}"
        )
    return config


def _weights_error(weights: Path, built: str, error: Exception) -> str:
    """Keras' (or h5py's) error for a weights file that does not load, on one line: for tensors
    of other shapes, the first that does not fit and its two shapes, not the dump of its values
    that Keras' message holds."""
    text = str(error)
    variable = re.search(r"<Variable path=([^,>]+), shape=(\([^)]*\))", text)
    received = re.search(r"value\.shape=(\([^)]*\))", text)
    if variable and received:
        total = re.search(r"A total of (\d+) objects could not be loaded", text)
        more = f"; {total.group(1)} layers do not fit" if total and total.group(1) != "1" else ""
        return (f"{weights} does not fit the architecture in {CONFIG_NAME} ({built}; layer "
                f"{variable.group(1)}: expected shape {variable.group(2)}, got "
                f"{received.group(1)}{more})")
    first = next((line.strip() for line in text.splitlines() if line.strip()),
                 type(error).__name__)
    first = first if len(first) <= 300 else first[:297] + "..."
    return f"{weights} cannot be loaded into the architecture in {CONFIG_NAME} ({built}): {first}"


def load_folder(folder: str | Path) -> tuple[keras.Model, ModelSpec]:
    """Rebuild the network and spec saved in ``folder`` (a model folder or a training run
    folder).

    The config is checked first (:func:`read_config`) and the network is built with no
    pretrained-weight download (the folder holds every weight); nothing from the folder is
    executed.
    """
    folder = resolve_model_folder(folder)
    config = read_config(folder)
    architecture = config["architecture"]
    # An unknown architecture or argument is an error naming the known ones.
    args = resolve_args(architecture, config["args"])
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise FileNotFoundError(f"{weights} is missing")
    spec = ModelSpec(architecture, args)
    spec = dataclasses.replace(spec, args=spec.offline_args)
    network = build_network(spec)
    # Keras warns once a layer while it tries another way to fit a file that does not fit: those
    # warnings are shown only when the weights load (the error says what went wrong).
    with warnings.catch_warnings(record=True) as caught:
        try:
            network.load_weights(weights)
        except Exception as error:  # noqa: BLE001  (h5py and Keras raise many kinds for a bad file)
            raise ValueError(_weights_error(weights, f"{architecture} {config['args']}", error)
                             ) from None
    for warning in caught:
        warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
    prior = load_prior(folder / PRIOR_NAME) if (folder / PRIOR_NAME).is_file() else None
    # The spec keeps the arguments as saved (e.g. weights="imagenet": how it was first built).
    return network, ModelSpec(architecture, args, prior, config.get("temperature"),
                              float(config.get("vividness", 0.0)))
