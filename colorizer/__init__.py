"""colorizer: automatic colorization of black-and-white photos (TensorFlow 2 / Keras 3).

>>> import colorizer
>>> colorizer.list_pretrained()                      # the shipped zoo
>>> model = colorizer.from_pretrained("autoencoder.flickr8k_128")
>>> colorizer.colorize("old_photo.jpg", model).save("old_photo_color.png")
"""

__version__ = "0.1.0"

from colorizer.hub import HubError, from_pretrained, push_to_hub  # noqa: E402
from colorizer.pretrained import load_pretrained, save_pretrained  # noqa: E402
from colorizer.zoo import list_pretrained  # noqa: E402
from colorizer.images import ImageError  # noqa: E402
from colorizer.inference import colorize  # noqa: E402
from colorizer.models import create_model, list_models  # noqa: E402

__all__ = [
    "HubError",
    "ImageError",
    "from_pretrained",
    "list_pretrained",
    "push_to_hub",
    "colorize",
    "create_model",
    "list_models",
    "load_pretrained",
    "save_pretrained",
]
