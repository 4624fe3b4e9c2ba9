"""Model architectures. Importing this package registers every architecture."""

from colorizer.models import autoencoder, cnn, xception_decoder  # noqa: F401  (registration)
from colorizer.models.registry import (
    ModelSpec,
    create_model,
    get_spec,
    list_models,
    model_defaults,
    model_description,
    register_model,
)

__all__ = [
    "ModelSpec",
    "create_model",
    "get_spec",
    "list_models",
    "model_defaults",
    "model_description",
    "register_model",
]
