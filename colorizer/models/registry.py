"""The one registry of colorization architectures (timm-style).

Each architecture is a small builder function decorated with ``@register_model``; the decorator
also records which render sizes the built network accepts (``size_multiple``: any square size
divisible by it, or None for the training size only). :func:`build_network` builds the bare
Keras network of a :class:`ModelSpec` (architecture + the arguments it was built with), so that a
saved model folder can be rebuilt; ``colorizer.create_model`` wraps it in the model object. The
registry never sees that object.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Callable

import keras
import numpy as np

HEADS = ("regression", "classification")


@dataclasses.dataclass(frozen=True)
class _Entry:
    builder: Callable[..., keras.Model]
    size_multiple: int | None  # render sizes accepted: multiples of this; None = training size only


_REGISTRY: dict[str, _Entry] = {}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """Everything about a model that is not its weights: how to rebuild it and how to use it."""

    architecture: str
    args: dict[str, Any]  # every builder argument, defaults filled in
    prior: np.ndarray | None = dataclasses.field(default=None, compare=False, repr=False)
    # the colour prior of a classification model's training set (rebalancing; None otherwise)
    temperature: float | None = None
    # a classification model's own annealed-mean temperature (None: the paper's 0.38)
    vividness: float = 0.0
    # the model's own default vividness, 0..100 (colorizer.vividness)

    @property
    def image_size(self) -> int:
        """The square input size the model was built (and trained) for."""
        return int(self.args["image_size"])

    @property
    def head(self) -> str:
        """"regression" (ab directly) or "classification" (a distribution over ab bins)."""
        return self.args.get("head", "regression")

    @property
    def default_temperature(self) -> float | None:
        """The annealed-mean temperature a classification head decodes with when none is given:
        its own (chosen on validation, kept in its folder), else the paper's 0.38; None for a
        regression head. The one place this rule is written (decoding, cards, the training
        metric)."""
        if self.head != "classification":
            return None
        from colorizer.models.quantization import TEMPERATURE  # (colour bins: keras ops, no TensorFlow)

        return TEMPERATURE if self.temperature is None else float(self.temperature)

    @property
    def needs_prior(self) -> bool:
        """Whether training needs the colour prior of the training set (class rebalancing)."""
        return self.head == "classification"

    @property
    def size_multiple(self) -> int | None:
        """Render sizes the network accepts are multiples of this; None: only ``image_size``."""
        return _get(self.architecture).size_multiple

    @property
    def resizable(self) -> bool:
        """Whether the model can render at sizes other than its training size."""
        return self.size_multiple is not None

    @property
    def offline_args(self) -> dict[str, Any]:
        """The build arguments with no pretrained-weight download (``weights=None``): a saved
        folder or a copy at another size gets every weight from elsewhere."""
        return {**self.args, "weights": None} if "weights" in self.args else dict(self.args)

    def check_size(self, size: int) -> int:
        """``size`` if the model can render at it, else a ValueError saying which sizes work."""
        size = int(size)
        if size == self.image_size:
            return size
        if self.size_multiple is None:
            raise ValueError(f"{self.architecture} only works at its training size "
                             f"{self.image_size} px, not {size}")
        if size < self.size_multiple or size % self.size_multiple:
            raise ValueError(f"{self.architecture} renders at multiples of {self.size_multiple} "
                             f"px, not {size}")
        return size


def register_model(builder: Callable[..., keras.Model] | None = None, *,
                   size_multiple: int | None = None):
    """Add a builder to the registry under its function name (usable bare or with arguments).

    ``size_multiple``: the built network is fully convolutional and works at any square size
    divisible by it (the weights do not depend on the size); leave it None when they do (e.g. a
    Dense bottleneck).
    """

    def add(function: Callable[..., keras.Model]) -> Callable[..., keras.Model]:
        name = function.__name__
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = _Entry(function, size_multiple)
        return function

    return add(builder) if builder is not None else add


def list_models() -> list[str]:
    """Names of every registered architecture, sorted."""
    return sorted(_REGISTRY)


def model_defaults(name: str) -> dict[str, Any]:
    """The builder's keyword arguments and their defaults."""
    return {
        p.name: p.default
        for p in inspect.signature(_get(name).builder).parameters.values()
        if p.default is not inspect.Parameter.empty
    }


def model_description(name: str) -> str:
    """First line of the builder's docstring."""
    return (inspect.getdoc(_get(name).builder) or "").splitlines()[0]


def _get(name: str) -> _Entry:
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; registered models: {', '.join(list_models())}")
    return _REGISTRY[name]


def check_head(head: str) -> str:
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}, got {head!r}")
    return head


def resolve_args(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """``args`` with the builder's defaults filled in; unknown arguments are a TypeError naming
    the accepted ones."""
    defaults = model_defaults(name)
    unknown = sorted(set(args) - set(defaults))
    if unknown:
        raise TypeError(
            f"model {name!r} got unknown argument(s) {unknown}; it accepts {sorted(defaults)}"
        )
    return {**defaults, **args}


def build_network(spec: ModelSpec) -> keras.Model:
    """The bare Keras network of ``spec`` (its arguments already resolved)."""
    return _get(spec.architecture).builder(**spec.args)
