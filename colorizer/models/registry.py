"""The one registry of colorization architectures (timm-style).

Each architecture is a small builder function decorated with ``@register_model``. ``create_model``
builds it and attaches a :class:`ModelSpec` (architecture name + the arguments it was built with),
which is what a saved model folder records so that ``load_pretrained`` can rebuild it.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Callable

import keras

_REGISTRY: dict[str, Callable[..., keras.Model]] = {}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """How a model was built: enough to rebuild it through the registry."""

    architecture: str
    args: dict[str, Any]

    @property
    def image_size(self) -> int:
        """The square input size the model was built (and trained) for."""
        return int(self.args["image_size"])


def register_model(builder: Callable[..., keras.Model]) -> Callable[..., keras.Model]:
    """Add ``builder`` to the registry under its function name."""
    name = builder.__name__
    if name in _REGISTRY:
        raise ValueError(f"model {name!r} is registered twice")
    _REGISTRY[name] = builder
    return builder


def list_models() -> list[str]:
    """Names of every registered architecture, sorted."""
    return sorted(_REGISTRY)


def model_defaults(name: str) -> dict[str, Any]:
    """The builder's keyword arguments and their defaults."""
    builder = _get_builder(name)
    return {
        p.name: p.default
        for p in inspect.signature(builder).parameters.values()
        if p.default is not inspect.Parameter.empty
    }


def model_description(name: str) -> str:
    """First line of the builder's docstring."""
    return (inspect.getdoc(_get_builder(name)) or "").splitlines()[0]


def _get_builder(name: str) -> Callable[..., keras.Model]:
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; registered models: {', '.join(list_models())}")
    return _REGISTRY[name]


def create_model(name: str, **args: Any) -> keras.Model:
    """Build architecture ``name``; unknown arguments are an error naming the accepted ones.

    >>> model = create_model("autoencoder")
    >>> model.output_shape
    (None, 128, 128, 2)
    """
    defaults = model_defaults(name)
    unknown = sorted(set(args) - set(defaults))
    if unknown:
        raise TypeError(
            f"model {name!r} got unknown argument(s) {unknown}; it accepts {sorted(defaults)}"
        )
    resolved = {**defaults, **args}
    model = _get_builder(name)(**resolved)
    model.colorizer_spec = ModelSpec(name, resolved)
    return model


def get_spec(model: keras.Model) -> ModelSpec:
    """The :class:`ModelSpec` of a model made by :func:`create_model`."""
    spec = getattr(model, "colorizer_spec", None)
    if not isinstance(spec, ModelSpec):
        raise TypeError("this model was not built by colorizer.create_model; it has no ModelSpec")
    return spec


def set_encoder_trainable(model: keras.Model, trainable: bool) -> None:
    """Freeze or unfreeze a model's pretrained encoder (its nested Keras model).

    BatchNorm layers of the encoder stay frozen (inference mode) either way, the usual choice
    when fine-tuning on a small dataset.
    """
    encoders = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    if not encoders:
        raise ValueError(f"{model.name} has no pretrained encoder to fine-tune")
    encoder = encoders[0]
    encoder.trainable = trainable
    for layer in encoder.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False


def pretrained_encoder(model: keras.Model) -> str | None:
    """Name of the model's nested pretrained encoder (e.g. "xception"), or None."""
    return next((layer.name for layer in model.layers if isinstance(layer, keras.Model)), None)
