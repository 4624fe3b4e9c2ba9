"""Model architectures. Importing this package registers every architecture."""

from colorizer.models import autoencoder, cnn, lite0, xception_decoder  # noqa: F401  (registration)
from colorizer.models.registry import (
    ModelSpec,
    create_model,
    get_spec,
    list_models,
    model_defaults,
    model_description,
    pretrained_encoder,
    register_model,
    set_encoder_trainable,
)

__all__ = [
    "ModelSpec",
    "create_model",
    "get_spec",
    "list_models",
    "model_defaults",
    "model_description",
    "pretrained_encoder",
    "register_model",
    "set_encoder_trainable",
]
