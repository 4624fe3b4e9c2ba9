"""Model architectures. Importing this package registers every architecture."""

from colorizer.models import autoencoder, cnn, lite0, xception_decoder  # noqa: F401  (registration)
from colorizer.models.registry import (
    HEADS,
    ModelSpec,
    build_network,
    list_models,
    model_defaults,
    model_description,
    register_model,
)

__all__ = [
    "HEADS",
    "ModelSpec",
    "build_network",
    "list_models",
    "model_defaults",
    "model_description",
    "register_model",
]
