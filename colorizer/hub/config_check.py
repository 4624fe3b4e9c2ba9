"""Checking a model folder's config.json before anything is built from it.

A weight folder may come from anyone (a Hub repo, a download): its config.json decides what
``from_pretrained`` builds, so every builder argument is checked for its type and a sane range
first. Nothing is allocated for a config that asks for a network of billions of parameters,
nothing is downloaded (``weights`` is always None: the folder holds every weight), and every
problem is a one-line ``ValueError`` naming the file and the field.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

from colorizer.hub.folder_files import is_temperature
from colorizer.models import HEADS, list_models, model_defaults
from colorizer.models.efficientnet_lite import VARIANTS
from colorizer.vividness import is_vividness

# The largest square size a saved model may declare (the demo renders at most 512 px too).
MAX_IMAGE_SIZE = 512
MAX_WIDTH = 2.0  # cnn's width multiplier: 1.0 is the paper's ~31M parameters
MAX_DECODER_CHANNELS = 1024
MAX_CONFIG_BYTES = 1_000_000  # a real config.json is about 1 kB (a run's, with its record, 3 kB)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _image_size(value: Any) -> str | None:
    if not _integer(value) or not 16 <= value <= MAX_IMAGE_SIZE or value % 8:
        return f"an integer multiple of 8 from 16 to {MAX_IMAGE_SIZE}"
    return None


def _width(value: Any) -> str | None:
    if (not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value)
            or not 0 < value <= MAX_WIDTH):
        return f"a number above 0 and at most {MAX_WIDTH}"
    return None


def _head(value: Any) -> str | None:
    return None if value in HEADS else f"one of {', '.join(HEADS)}"


def _weights(value: Any) -> str | None:
    return None if value in (None, "imagenet") else "null or \"imagenet\""


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "true or false"


def _encoder_scale(value: Any) -> str | None:
    return None if _integer(value) and value in (1, 2) else "1 or 2"


def _encoder(value: Any) -> str | None:
    return None if value in VARIANTS else f"one of {', '.join(VARIANTS)}"


def _decoder_channels(value: Any) -> str | None:
    if value is None:
        return None
    if (not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 5
            or not all(_integer(v) and 1 <= v <= MAX_DECODER_CHANNELS for v in value)):
        return f"null or a list of 1 to 5 integers from 1 to {MAX_DECODER_CHANNELS}"
    return None


# One rule per builder argument of the registry: returns what the value should be, or None.
ARG_RULES: dict[str, Callable[[Any], str | None]] = {
    "image_size": _image_size,
    "width": _width,
    "head": _head,
    "weights": _weights,
    "encoder_scale": _encoder_scale,
    "encoder": _encoder,
    "decoder_channels": _decoder_channels,
    "hints": _boolean,
    "hint_film": _boolean,
}


def check_model_config(config: Any, path: str | Path) -> dict[str, Any]:
    """The build arguments of a model folder's config (already parsed from ``path``), checked.

    Returns ``config["args"]`` completed with the builder's defaults and with ``weights``
    set to None; raises ValueError for anything else than what ``save_pretrained`` writes.
    (:func:`colorizer.hub.folder.load_folder` builds with ``ModelSpec.offline_args``, the same ``weights=None``.)
    """
    if not isinstance(config, dict):
        raise ValueError(f"{path} must hold a JSON object, not {type(config).__name__}")
    architecture = config.get("architecture")
    if not isinstance(architecture, str) or architecture not in list_models():
        raise ValueError(f"{path}: unknown architecture {architecture!r}; known: "
                         f"{', '.join(list_models())}")
    args = config.get("args")
    if not isinstance(args, dict):
        raise ValueError(f"{path}: args must be a JSON object of build arguments")
    defaults = model_defaults(architecture)
    unknown = sorted(set(args) - set(defaults))
    if unknown:
        raise ValueError(f"{path}: {architecture} has no argument(s) {unknown}; it accepts "
                         f"{sorted(defaults)}")
    resolved = {**defaults, **args}
    for name, value in resolved.items():
        rule = ARG_RULES.get(name)
        if rule is None:
            raise ValueError(f"{path}: {architecture}'s argument {name!r} has no check; "
                             "colorizer.hub.config_check.ARG_RULES must name it")
        expected = rule(value)
        if expected:
            raise ValueError(f"{path}: args.{name} must be {expected}, got {value!r}")
    temperature = config.get("temperature")
    if temperature is not None and (not is_temperature(temperature)
                                    or resolved.get("head") != "classification"):
        raise ValueError(f"{path}: temperature must be null or, for a classification head, a "
                         f"number from 0 to 1, got {temperature!r}")
    if not is_vividness(config.get("vividness", 0.0)):
        raise ValueError(f"{path}: vividness must be a number from 0 to 100, got "
                         f"{config['vividness']!r}")
    if "weights" in resolved:
        resolved["weights"] = None  # the folder holds every weight: never download any
    return resolved
