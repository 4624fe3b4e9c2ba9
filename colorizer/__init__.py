"""colorizer: automatic colorization of black-and-white photos (TensorFlow 2 / Keras 3).

>>> import colorizer
>>> model = colorizer.load_pretrained("runs/autoencoder-.../model")
>>> colorizer.colorize("old_photo.jpg", model).save("old_photo_color.png")
"""

__version__ = "0.1.0"

from colorizer.hub import load_pretrained, save_pretrained  # noqa: E402
from colorizer.images import ImageError  # noqa: E402
from colorizer.inference import colorize  # noqa: E402
from colorizer.models import create_model, list_models  # noqa: E402

__all__ = [
    "ImageError",
    "colorize",
    "create_model",
    "list_models",
    "load_pretrained",
    "save_pretrained",
]
